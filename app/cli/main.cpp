// loralab-cli: the headless front end of LoRA Lab. Parses the command line,
// runs one engine command and prints its results; all work happens in the
// engine, which never prints.
#include "cli_args.h"
#include "commands.h"

#include "engine/util/error.h"
#include "engine/util/process.h"

#include <filesystem>
#include <iostream>
#include <new>

namespace {

using loralab::cli::Command;

std::vector<Command> allCommands()
{
    std::vector<Command> all;
    for (auto& c : loralab::cli::modelCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::runCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::sweepCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::benchCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::dataCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::analyzeCommands()) all.push_back(std::move(c));
    for (auto& c : loralab::cli::reportCommands()) all.push_back(std::move(c));
    return all;
}

void printUsage(const std::vector<Command>& commands)
{
    std::cout << "usage: loralab-cli COMMAND [arguments] [options]\n\ncommands:\n";
    for (const auto& c : commands) {
        std::string name = "  " + c.name;
        name.resize(16, ' ');
        std::cout << name << c.summary << "\n";
    }
    std::cout << "\nMODEL is a Hugging Face model directory, Org/Name[@revision] from the Hugging Face cache\n"
                 "(see 'models'), or a preset (preset:pythia-70m, ...).\n"
                 "Run 'loralab-cli COMMAND --help' for a command's options.\n";
}

} // namespace

int main(int argc, char** argv)
{
    loralab::relaunchWithPassiveOpenMpThreads(argv);
    const auto commands = allCommands();
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
        printUsage(commands);
        return argc < 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    if (name == "--version") {
        std::cout << "loralab-cli " << LORALAB_VERSION << "\n";
        return 0;
    }
    for (const auto& c : commands) {
        if (c.name != name) continue;
        const std::vector<std::string> rest(argv + 2, argv + argc);
        try {
            const loralab::cli::Args args(rest, c.options);
            if (args.has("help")) {
                std::cout << "usage: loralab-cli " << c.usage << "\n\n" << c.summary << "\n\noptions:\n"
                          << loralab::cli::formatOptions(c.options) << loralab::cli::formatOptions(loralab::cli::commonOptions());
                if (c.moreHelp) std::cout << "\n" << c.moreHelp();
                return 0;
            }
            return c.run(args);
        } catch (const loralab::Error& e) {
            std::cerr << "loralab-cli " << name << ": error: " << e.what() << "\n";
            return 1;
        } catch (const std::bad_alloc&) {
            std::cerr << "loralab-cli " << name << ": error: out of memory\n";
            return 1;
        } catch (const std::filesystem::filesystem_error& e) {
            // An unreadable folder, a loop of links, a file where a folder should be.
            std::cerr << "loralab-cli " << name << ": error: " << (e.path1().empty() ? std::string() : e.path1().string() + ": ")
                      << e.code().message() << "\n";
            return 1;
        } catch (const std::exception& e) {
            if (const std::string oom = loralab::outOfMemoryMessage(e.what()); !oom.empty()) {
                std::cerr << "loralab-cli " << name << ": error: " << oom << "\n";
                return 1;
            }
            std::cerr << "loralab-cli " << name << ": internal error: " << e.what() << "\n";
            return 3;
        }
    }
    std::cerr << "loralab-cli: unknown command '" << name << "'\n\n";
    printUsage(commands);
    return 2;
}
