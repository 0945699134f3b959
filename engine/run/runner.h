// Training runs and experiments: one call trains a configured run (LoRA or
// full weights, SFT or DPO) from data loading to samples and a summary,
// writing its run directory as it goes; another runs an experiment's runs one
// after another, updating the Experiment value as they go. Progress arrives
// through callbacks (the engine never prints); another thread steers a run
// through RunControl, whose requests are applied between steps. No LibTorch
// in this header.
#pragma once

#include "engine/config/run_config.h"
#include "engine/experiment/experiment.h"
#include "engine/records/metrics.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

struct RunControl {
    std::atomic<bool> cancel{false};       // stop after the current step; checkpoints are kept
    std::atomic<bool> paused{false};       // hold between steps until cleared
    std::atomic<bool> stopKeepBest{false}; // stop now and finish with the best checkpoint
    std::atomic<std::int64_t> patience{-1};     // >= 0: change early-stopping patience
    std::atomic<std::int64_t> evalInterval{-1}; // > 0: change the evaluation interval
    std::atomic<bool> earlyStopping{true};      // switch early stopping on or off mid-run
    // Set by the engine while a run writes its directory (from the moment it
    // exists to its summary): a stop requested then waits for the run to
    // save what it did; before, while model and data load, nothing would be
    // lost by ending the process at once.
    std::atomic<bool> recording{false};
};

// Sets RunControl::recording for as long as it lives.
class RecordingScope {
public:
    explicit RecordingScope(RunControl& control) : m_flag(control.recording) { m_flag = true; }
    ~RecordingScope() { m_flag = false; }
    RecordingScope(const RecordingScope&) = delete;
    RecordingScope& operator=(const RecordingScope&) = delete;

private:
    std::atomic<bool>& m_flag;
};

struct RunCallbacks {
    std::function<void(const StepRecord&)> onStep;
    std::function<void(const EvalRecord&)> onEval;
    std::function<void(const SampleRecord&)> onSample;
    std::function<void(const std::string& message)> onEvent; // one human-readable line
    // Set when the run directory exists, before training starts.
    std::function<void(const std::string& runDir)> onRunDir;
    // A pause took effect; the model as it now is was saved in checkpointDir.
    std::function<void(const std::string& checkpointDir)> onPaused;
};

struct RunResult {
    RunSummary summary;
    std::vector<SampleRecord> samples;
};

// Trains `config` in a new run directory under its runs folder, or continues
// the run in `resumeDir` from its last checkpoint. Throws loralab::Error for
// a bad configuration or input (naming the file and problem) before anything
// is written, and for a run folder another process trains.
RunResult trainRun(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir = "");

struct ExperimentCallbacks {
    // The progress callbacks for run `index` (called before it starts).
    std::function<RunCallbacks(std::size_t index)> forRun;
    std::function<void(const std::string& dir)> onExperimentDir;
    // Run `index` ended, was kept, or was never begun (cancelled before it);
    // experiment.runs[index] holds its state, summary and samples.
    std::function<void(std::size_t index, const ExperimentRun& run)> onRunFinished;
};

// Runs the experiment's runs one after another as each one's `next` says
// (start, resume, or keep as it is), updating each run's directory, state,
// summary and samples. Every run's configuration is checked before anything
// is written. A lone run trains in its runs folder and throws as trainRun
// does; in an experiment of several runs a run that fails is recorded as
// Failed (its error in the summary) and the next one starts. Cancelling ends
// the current run as cancelled and leaves the rest not started.
void runExperiment(Experiment& experiment, RunControl& control, const ExperimentCallbacks& callbacks);

} // namespace loralab
