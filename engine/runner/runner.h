// The experiment runner: one call runs a configured fine-tuning experiment
// (LoRA, full or DPO) from data loading to samples and a summary, writing the
// run directory as it goes. Progress arrives through callbacks (the engine
// never prints); another thread steers the run through RunControl, whose
// requests are applied between steps. No LibTorch in this header.
#pragma once

#include "engine/runner/metrics.h"
#include "engine/runner/run_config.h"

#include <atomic>
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

// Runs `config` in a new run directory, or continues the run in `resumeDir`
// from its last checkpoint. Throws loralab::Error for bad configuration or
// input (naming the file and problem) before anything is written.
RunResult runExperiment(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks,
                        const std::string& resumeDir = "");

// Samples from a finished (or interrupted) run: its validation/test examples
// answered by the base model and by the run's best (else last) checkpoint.
std::vector<SampleRecord> sampleRun(const std::string& runDir, std::int64_t count, const RunConfig* overrides,
                                    const std::function<void(const SampleRecord&)>& onSample);

// Whether an answer matches its target: equal after trimming, lower-casing
// and dropping trailing punctuation.
bool answersMatch(const std::string& output, const std::string& target);

} // namespace loralab
