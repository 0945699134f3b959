// Running an experiment's runs one after another; see runner.h. The
// experiment folder and experiment.json are written before the first run
// starts, and experiment.json again as each run gets its directory, so a
// killed experiment still says which runs it began.
#include "engine/run/runner.h"

#include "engine/experiment/run_catalog.h"
#include "engine/records/run_directory.h"
#include "engine/records/run_lock.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <filesystem>

namespace loralab {
namespace fs = std::filesystem;

namespace {

// The run as its result left it.
void takeResult(ExperimentRun& run, const RunResult& result)
{
    run.summary = result.summary;
    run.state = result.summary.state;
    run.stepsDone = result.summary.steps;
    run.records.samples = result.samples;
    if (!result.summary.runDir.empty()) run.dir = result.summary.runDir;
    run.resumable = !run.dir.empty();
    run.next = continuationOf(run);
}

void runLone(Experiment& experiment, RunControl& control, const ExperimentCallbacks& callbacks)
{
    ExperimentRun& run = experiment.runs.front();
    RunCallbacks runCallbacks = callbacks.forRun ? callbacks.forRun(0) : RunCallbacks{};
    if (run.next == RunAction::Keep) {
        if (callbacks.onRunFinished) callbacks.onRunFinished(0, run);
        return;
    }
    const auto onRunDir = runCallbacks.onRunDir;
    runCallbacks.onRunDir = [&](const std::string& dir) {
        run.dir = dir;
        run.state = RunState::Running;
        experiment.dir = dir;
        if (onRunDir) onRunDir(dir);
    };
    const RunResult result = trainRun(run.config, control, runCallbacks, run.next == RunAction::Resume ? run.dir : std::string());
    takeResult(run, result);
    experiment.dir = run.dir;
    if (callbacks.onRunFinished) callbacks.onRunFinished(0, run);
}

} // namespace

void runExperiment(Experiment& experiment, RunControl& control, const ExperimentCallbacks& callbacks)
{
    if (experiment.runs.empty()) throw Error("the experiment has no runs");
    if (experiment.lone() && !isExperimentDir(experiment.dir)) {
        runLone(experiment, control, callbacks);
        return;
    }
    // Every run's configuration is checked before the folder is made.
    for (const auto& run : experiment.runs) {
        if (run.next != RunAction::Start) continue;
        const auto problems = validateRunConfig(run.config);
        if (problems.empty()) continue;
        std::string text = "run \"" + run.label + "\" of the experiment has problems:";
        for (const auto& p : problems) text += "\n  " + p;
        throw Error(text);
    }
    if (experiment.dir.empty()) experiment.dir = claimDirectory(runsDirOf(experiment.base), experiment.name).string();
    // One process at a time runs an experiment's folder.
    const FolderLock lock = FolderLock::acquire(experiment.dir, "runs the experiment in");
    const fs::path dir = experiment.dir;
    writeExperimentFile(experiment);
    if (callbacks.onExperimentDir) callbacks.onExperimentDir(experiment.dir);

    for (std::size_t i = 0; i < experiment.runs.size(); ++i) {
        ExperimentRun& run = experiment.runs[i];
        if (run.next == RunAction::Keep) {
            if (callbacks.onRunFinished) callbacks.onRunFinished(i, run);
            continue;
        }
        if (control.cancel.load()) {
            if (callbacks.onRunFinished) callbacks.onRunFinished(i, run); // left as it was
            continue;
        }
        control.stopKeepBest.store(false); // "stop, keep best" ends one run, not the experiment
        RunConfig config = run.config;
        config.runsDir = dir.string();
        RunCallbacks runCallbacks = callbacks.forRun ? callbacks.forRun(i) : RunCallbacks{};
        const auto onRunDir = runCallbacks.onRunDir;
        runCallbacks.onRunDir = [&, onRunDir](const std::string& runDir) {
            run.dir = runDir;
            run.state = RunState::Running;
            writeExperimentFile(experiment);
            if (onRunDir) onRunDir(runDir);
        };
        try {
            takeResult(run, trainRun(config, control, runCallbacks, run.next == RunAction::Resume ? run.dir : std::string()));
        } catch (const std::exception& e) {
            RunSummary failed;
            failed.objective = run.config.objective;
            failed.method = run.config.method;
            failed.model = run.config.model;
            failed.state = RunState::Failed;
            failed.error = e.what();
            if (!run.dir.empty()) {
                // The run began: its folder says how it ended, as a finished one does.
                failed.runDir = run.dir;
                failed.steps = run.stepsDone;
                if (!fs::exists(fs::path(run.dir) / "summary.json"))
                    writeFileAtomic(fs::path(run.dir) / "summary.json", toJson(failed) + "\n");
            }
            run.summary = failed;
            run.state = RunState::Failed;
            run.resumable = !run.dir.empty();
            run.next = continuationOf(run);
            if (runCallbacks.onEvent) runCallbacks.onEvent("run \"" + run.label + "\" failed: " + e.what());
        }
        if (callbacks.onRunFinished) callbacks.onRunFinished(i, run);
    }
}

} // namespace loralab
