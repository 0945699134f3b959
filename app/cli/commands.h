// The loralab-cli commands. Each takes its arguments (after the command name)
// and returns the process exit code; errors are thrown as loralab::Error.
#pragma once

#include "cli_args.h"

#include "engine/config/run_config.h"

#include <string>
#include <vector>

namespace loralab::cli {

struct Command {
    std::string name;
    std::string usage;   // e.g. "info MODEL [options]"
    std::string summary; // one line
    std::vector<OptionSpec> options;
    int (*run)(const Args& args);
    std::string (*moreHelp)() = nullptr; // printed after the options
};

// Commands about models and text: info, models, devices, tokenize, detokenize, generate.
std::vector<Command> modelCommands();

// Commands that train one run: run, sample, eval, pretrain.
std::vector<Command> runCommands();
// Experiments of several runs: sweep, compare.
std::vector<Command> sweepCommands();

// What `run` shares with `sweep` and `compare`: the configuration (CONFIG.json
// or the defaults, with --max-steps, --name, --runs-dir, --threads, --device),
// its options and their help, and --print-every.
RunConfig runConfigFromArgs(const Args& args);
const std::vector<OptionSpec>& runOptions();
std::string runOptionsHelp();
int printEveryOption(const Args& args, int fallback);

// datasets and data: the Hugging Face caches' datasets, and what a run sees of one.
std::vector<Command> dataCommands();

// bench.
std::vector<Command> benchCommands();

// analyze: weight-space analysis of a checkpoint's update.
std::vector<Command> analyzeCommands();

// report: an experiment as Markdown, HTML, charts and CSV.
std::vector<Command> reportCommands();

// Applies --threads and returns the device named by --device.
std::string applyRuntimeOptions(const Args& args);

// Applies every --set KEY=VALUE to `config`, as config.json would give it.
void applySetOptions(const Args& args, RunConfig& config);

} // namespace loralab::cli
