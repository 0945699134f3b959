// loralab-cli sweep and compare: experiments of several runs, run one after
// another in a folder of their own, ending with a table of one row per run.
// compare is the sweep over method (LoRA, then full fine-tuning). And
// loralab-cli runs: the runs and experiments of a runs folder, as the Runs tab
// lists them.
#include "commands.h"
#include "progress.h"

#include "engine/experiment/run_catalog.h"
#include "engine/run/runner.h"
#include "engine/util/error.h"

#include <algorithm>
#include <filesystem>
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

void printTable(const Experiment& r)
{
    struct Column {
        const char* title;
        int width;
    };
    Column columns[] = {{"run", 30}, {"outcome", 16}, {"steps", 6}, {"trainable", 11}, {"fwd ms", 8}, {"bwd ms", 8},
                        {"opt ms", 8}, {"peak mem", 10}, {"estimate", 10}, {"best val", 17}, {"exact", 6}};
    // A sweep's labels name every value ("activation_checkpointing=1, base_quantization=nf4"): the
    // run column is as wide as they are, up to a point, so runs stay apart.
    for (const ExperimentRun& run : r.runs) columns[0].width = std::max(columns[0].width, static_cast<int>(std::min<std::size_t>(run.label.size(), 72)));
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
    for (const ExperimentRun& run : r.runs) {
        const RunSummary s = run.summary.value_or(RunSummary{});
        const bool ran = run.summary && s.steps > 0;
        const auto ifRan = [&](const std::string& text) { return ran ? text : std::string("-"); };
        std::string outcome = choiceName(run.state);
        for (char& c : outcome)
            if (c == '_') c = ' ';
        row({run.label.empty() ? runKindText(run.config.objective, run.config.method) : run.label, outcome,
             ifRan(std::to_string(s.steps)), ifRan(std::to_string(s.trainableParams)), ifRan(numberText(s.avgForwardMs, 1)),
             ifRan(numberText(s.avgBackwardMs, 1)), ifRan(numberText(s.avgOptimizerMs, 1)), ifRan(formatBytes(s.peakMemoryBytes)),
             ifRan(formatBytes(s.estimate.total())),
             s.bestValLoss ? numberText(*s.bestValLoss, 4) + " (step " + std::to_string(s.bestStep) + ")" : std::string("-"),
             s.tunedExactMatch ? numberText(100 * *s.tunedExactMatch, 0) + "%" : std::string("-")});
    }
    for (const ExperimentRun& run : r.runs)
        if (run.summary && !run.summary->error.empty()) std::cout << run.label << ": " << run.summary->error << "\n";
}

// LoRA against full fine-tuning in words, when both finished.
void printRatios(const Experiment& r)
{
    if (r.runs.size() != 2 || !finishedNormally(r.runs[0].state) || !finishedNormally(r.runs[1].state)) return;
    if (r.runs[0].config.method != Method::Lora || r.runs[1].config.method != Method::Full) return;
    const RunSummary& lora = *r.runs[0].summary;
    const RunSummary& full = *r.runs[1].summary;
    const auto ratio = [](double a, double b) { return b > 0 ? numberText(a / b, 2) + "x" : std::string("-"); };
    std::cout << "LoRA / full: " << ratio(static_cast<double>(lora.trainableParams), static_cast<double>(full.trainableParams))
              << " the trainable parameters, " << ratio(lora.avgStepMs, full.avgStepMs) << " the step time, "
              << ratio(static_cast<double>(lora.peakMemoryBytes), static_cast<double>(full.peakMemoryBytes))
              << " the peak memory (estimate "
              << ratio(static_cast<double>(lora.estimate.total()), static_cast<double>(full.estimate.total())) << ")\n";
}

int runSweep(const Args& args, bool comparison)
{
    Experiment plan;
    if (args.has("resume")) {
        if (!args.positional().empty() || args.has("grid"))
            throw Error("--resume continues an experiment as it was planned; give no CONFIG file or --grid with it");
        plan = readExperiment(args.get("resume"));
        if (plan.lone()) throw fileError(args.get("resume"), "is a run, not an experiment; continue it with loralab-cli run --resume");
        if (!canContinue(plan)) throw fileError(args.get("resume"), "has no run left to continue: every run finished");
    } else {
        const RunConfig config = runConfigFromArgs(args);
        std::vector<SweepAxis> axes;
        for (const auto& text : args.getAll("grid")) axes.push_back(parseSweepAxis(text));
        // LoRA against full fine-tuning is the sweep over method, first axis.
        if (comparison) axes.insert(axes.begin(), SweepAxis{"method", {"\"lora\"", "\"full\""}});
        if (axes.empty()) throw Error("sweep needs at least one --grid KEY=VALUE,VALUE (for example --grid lora_r=4,8,16)");
        plan = planExperiment(config, axes, comparison && axes.size() == 1 ? config.name + "-compare" : config.name);
        if (plan.runs.size() > kConfirmSweepRuns && !args.has("yes"))
            throw Error("the sweep has " + std::to_string(plan.runs.size()) + " runs, one after another; add --yes to start them all "
                        "(or use fewer values)");
    }
    std::cerr << "experiment of " << plan.runs.size() << " runs:";
    for (std::size_t i = 0; i < plan.runs.size() && i < 12; ++i) std::cerr << "\n  " << plan.runs[i].label;
    if (plan.runs.size() > 12) std::cerr << "\n  ... and " << plan.runs.size() - 12 << " more";
    std::cerr << "\n";
    RunControl control;
    InterruptGuard guard(control);
    const int every = printEveryOption(args, 1);
    ExperimentCallbacks callbacks;
    callbacks.forRun = [&](std::size_t i) {
        return printingCallbacks(every, plan.runs[i].label + " " + std::to_string(i + 1) + "/" + std::to_string(plan.runs.size()));
    };
    callbacks.onExperimentDir = [](const std::string& dir) { std::cerr << "experiment folder: " << dir << "\n"; };
    runExperiment(plan, control, callbacks);
    std::cerr << "\n";
    std::cout << "experiment " << plan.dir << "\n";
    printTable(plan);
    printRatios(plan);
    if (const int status = guard.interruptedStatus(plan.dir, false)) {
        std::cerr << "continue it with: loralab-cli sweep --resume " << plan.dir << "\n";
        return status;
    }
    for (const auto& run : plan.runs)
        if (run.state == RunState::Failed || run.state == RunState::NonFiniteLoss) return 4;
    return 0;
}

void printCatalog(const std::vector<CatalogEntry>& entries)
{
    const auto cell = [](std::string text, std::size_t width) {
        if (text.size() > width) text = text.substr(0, width - 1) + "~";
        text.resize(width, ' ');
        return text;
    };
    std::cout << cell("run / experiment", 44) << "  " << cell("kind", 9) << "  " << cell("state", 16) << "  " << cell("steps", 6)
              << "  " << cell("best val", 9) << "  outcome\n";
    const auto line = [&](const std::string& name, const std::string& kind, const ExperimentRun* run, const std::string& outcome,
                          bool continuable) {
        std::cout << cell(name, 44) << "  " << cell(kind, 9) << "  " << cell(run ? choiceName(run->state) : "", 16) << "  "
                  << cell(run ? std::to_string(run->stepsDone) : "", 6) << "  "
                  << cell(run && run->summary && run->summary->bestValLoss ? numberText(*run->summary->bestValLoss, 4) : "", 9) << "  "
                  << outcome << (continuable ? "  (can be continued)" : "") << "\n";
    };
    for (const CatalogEntry& e : entries) {
        if (!e.experiment) {
            const ExperimentRun& run = e.contents.runs.front();
            line(e.shownName(), runKindText(run.config.objective, run.config.method), &run, outcomeText(run), e.continuable);
            continue;
        }
        line(e.shownName(), "sweep", nullptr, entryOutcomeText(e), e.continuable);
        for (const ExperimentRun& run : e.contents.runs)
            line("  " + run.label, runKindText(run.config.objective, run.config.method), &run, outcomeText(run),
                 continuationOf(run) != RunAction::Keep);
    }
}

int runRuns(const Args& args)
{
    std::vector<std::string> folders;
    if (!args.positional().empty()) {
        folders.push_back(args.positional()[0]);
        if (!std::filesystem::is_directory(folders.front())) throw fileError(folders.front(), "folder not found");
    } else {
        folders.push_back(defaultRunsDir());
        for (const auto& legacy : legacyRunsDirs())
            if (std::filesystem::is_directory(legacy)) folders.push_back(legacy);
    }
    std::vector<CatalogEntry> entries;
    std::vector<std::string> problems;
    for (const auto& folder : folders)
        for (auto& e : listRuns(folder, &problems)) entries.push_back(std::move(e));
    if (args.has("json")) {
        std::cout << catalogJson(entries) << "\n";
        return 0;
    }
    if (entries.empty()) {
        std::cout << "No runs in " << folders.front() << "; start one with loralab-cli run\n";
    } else {
        printCatalog(entries);
    }
    for (const auto& p : problems) std::cerr << "unreadable: " << p << "\n";
    return 0;
}

std::vector<OptionSpec> sweepOptions()
{
    std::vector<OptionSpec> options;
    for (const auto& o : runOptions())
        if (o.name != "resume") options.push_back(o);
    options.push_back({"grid", "KEY=V1,V2", "an axis of the sweep (repeat for more axes; lists join words with +)"});
    options.push_back({"resume", "EXPERIMENT_DIR", "continue an experiment: cancelled runs resume, runs not started start"});
    options.push_back({"yes", "", "start a sweep of more than 50 runs without asking"});
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
        {"runs", "runs [DIR] [--json]",
         "list the runs and experiments of a runs folder with their state (default: the shared runs folder)",
         {{"json", "", "print the list as JSON"}}, runRuns},
    };
}

} // namespace loralab::cli
