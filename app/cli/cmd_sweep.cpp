// loralab-cli sweep and compare: experiments of several runs, run one after
// another in a folder of their own, ending with a table of one row per run.
// compare is the sweep over method (LoRA, then full fine-tuning).
#include "commands.h"
#include "progress.h"

#include "engine/runner/experiment.h"
#include "engine/util/error.h"

#include <iomanip>
#include <iostream>
#include <sstream>

namespace loralab::cli {
namespace {

std::string numberText(double v, int digits)
{
    std::ostringstream out;
    out << std::fixed << std::setprecision(digits) << v;
    return out.str();
}

std::string stopText(const RunSummary& s)
{
    std::string text = stopReasonName(s.stopReason);
    for (char& c : text)
        if (c == '_') c = ' ';
    return text;
}

void printTable(const ExperimentResult& r)
{
    struct Column {
        const char* title;
        int width;
    };
    const Column columns[] = {{"run", 30}, {"outcome", 16}, {"steps", 6}, {"trainable", 11}, {"fwd ms", 8}, {"bwd ms", 8},
                              {"opt ms", 8}, {"peak mem", 10}, {"estimate", 10}, {"best val", 17}, {"exact", 6}};
    const auto row = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            std::string cell = cells[i];
            const auto width = static_cast<std::size_t>(columns[i].width);
            if (cell.size() > width) cell = cell.substr(0, width - 1) + "~";
            std::cout << std::left << std::setw(columns[i].width) << cell << (i + 1 < cells.size() ? "  " : "\n");
        }
    };
    std::vector<std::string> titles;
    for (const auto& c : columns) titles.push_back(c.title);
    row(titles);
    for (std::size_t i = 0; i < r.runs.size(); ++i) {
        const RunSummary& s = r.runs[i].summary;
        const bool ran = s.stopReason != StopReason::NotStarted && s.steps > 0;
        const auto ifRan = [&](const std::string& text) { return ran ? text : std::string("-"); };
        row({r.labels[i].empty() ? std::string(runMethodName(s.method)) : r.labels[i], stopText(s),
             ifRan(std::to_string(s.steps)), ifRan(std::to_string(s.trainableParams)), ifRan(numberText(s.avgForwardMs, 1)),
             ifRan(numberText(s.avgBackwardMs, 1)), ifRan(numberText(s.avgOptimizerMs, 1)), ifRan(formatBytes(s.peakMemoryBytes)),
             ifRan(formatBytes(s.estimate.total())),
             s.bestValLoss >= 0 ? numberText(s.bestValLoss, 4) + " (step " + std::to_string(s.bestStep) + ")" : std::string("-"),
             s.tunedExactMatch >= 0 ? numberText(100 * s.tunedExactMatch, 0) + "%" : std::string("-")});
    }
    for (std::size_t i = 0; i < r.runs.size(); ++i)
        if (!r.runs[i].summary.error.empty()) std::cout << r.labels[i] << ": " << r.runs[i].summary.error << "\n";
}

// LoRA against full fine-tuning in words, when both finished.
void printRatios(const ExperimentResult& r)
{
    if (r.runs.size() != 2) return;
    const RunSummary& lora = r.runs[0].summary;
    const RunSummary& full = r.runs[1].summary;
    if (!finishedNormally(lora.stopReason) || !finishedNormally(full.stopReason)) return;
    const auto ratio = [](double a, double b) { return b > 0 ? numberText(a / b, 2) + "x" : std::string("-"); };
    std::cout << "LoRA / full: " << ratio(static_cast<double>(lora.trainableParams), static_cast<double>(full.trainableParams))
              << " the trainable parameters, " << ratio(lora.avgStepMs, full.avgStepMs) << " the step time, "
              << ratio(static_cast<double>(lora.peakMemoryBytes), static_cast<double>(full.peakMemoryBytes))
              << " the peak memory (estimate "
              << ratio(static_cast<double>(lora.estimate.total()), static_cast<double>(full.estimate.total())) << ")\n";
}

int runSweep(const Args& args, bool comparison)
{
    ExperimentPlan plan;
    if (args.has("resume")) {
        if (!args.positional().empty() || args.has("grid"))
            throw Error("--resume continues an experiment as it was planned; give no CONFIG file or --grid with it");
        plan = planContinuation(args.get("resume"));
    } else {
        const RunConfig config = runConfigFromArgs(args);
        std::vector<SweepAxis> axes;
        for (const auto& text : args.getAll("grid")) axes.push_back(parseSweepAxis(text));
        if (comparison) {
            axes.insert(axes.begin(), SweepAxis{"method", {"\"lora\"", "\"full\""}});
            if (config.method == RunMethod::Dpo) throw Error("compare runs LoRA against full fine-tuning; method dpo cannot be compared");
        } else if (axes.empty()) {
            throw Error("sweep needs at least one --grid KEY=VALUE,VALUE (for example --grid lora_r=4,8,16)");
        }
        plan = comparison && axes.size() == 1 ? planComparison(config) : planSweep(config, axes);
    }
    std::cerr << "experiment of " << plan.runs.size() << " runs:";
    for (const auto& run : plan.runs) std::cerr << "  " << run.label;
    std::cerr << "\n";
    RunControl control;
    InterruptGuard guard(control);
    const int every = printEveryOption(args, 1);
    ExperimentCallbacks callbacks;
    callbacks.forRun = [&](std::size_t i) {
        return printingCallbacks(every, plan.runs[i].label + " " + std::to_string(i + 1) + "/" + std::to_string(plan.runs.size()));
    };
    callbacks.onExperimentDir = [](const std::string& dir) { std::cerr << "experiment folder: " << dir << "\n"; };
    const ExperimentResult r = runPlan(plan, control, callbacks);
    std::cerr << "\n";
    std::cout << "experiment " << r.dir << "\n";
    printTable(r);
    printRatios(r);
    if (const int status = guard.interruptedStatus(r.dir, false)) {
        std::cerr << "continue it with: loralab-cli sweep --resume " << r.dir << "\n";
        return status;
    }
    for (const auto& run : r.runs)
        if (run.summary.stopReason == StopReason::Failed || run.summary.stopReason == StopReason::NonFiniteLoss) return 4;
    return 0;
}

std::vector<OptionSpec> sweepOptions()
{
    std::vector<OptionSpec> options;
    for (const auto& o : runOptions())
        if (o.name != "resume") options.push_back(o);
    options.push_back({"grid", "KEY=V1,V2", "an axis of the sweep (repeat for more axes; lists join words with +)"});
    options.push_back({"resume", "EXPERIMENT_DIR", "continue an experiment: cancelled runs resume, runs not started start"});
    return options;
}

} // namespace

std::vector<Command> sweepCommands()
{
    return {
        {"sweep", "sweep [CONFIG.json] --grid KEY=V1,V2 [--grid ...] [options]",
         "run every combination of the grid's values, one run after another, in an experiment folder", sweepOptions(),
         [](const Args& args) { return runSweep(args, false); }, runOptionsHelp},
        {"compare", "compare [CONFIG.json] [--grid ...] [options]",
         "run the configuration as LoRA and as full fine-tuning (a sweep over method), side by side", sweepOptions(),
         [](const Args& args) { return runSweep(args, true); }, runOptionsHelp},
    };
}

} // namespace loralab::cli
