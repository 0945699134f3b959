// An experiment is a list of runs: one run, LoRA against full fine-tuning, or
// a sweep over any run options (a grid of values), run one after another.
// Each run is a normal run directory with its own config, metrics, samples
// and summary; an experiment of more than one run keeps them in a folder of
// its own with experiment.json (the base configuration, the axes, and each
// run's label, values and directory), so that it can be reopened or
// continued whole. No LibTorch here.
#pragma once

#include "engine/runner/metrics.h"
#include "engine/runner/run_config.h"
#include "engine/runner/runner.h"

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

// One axis of a sweep: a run option and the values it takes, each as compact
// JSON ("4", "0.001", "\"full\"", "[\"query_key_value\",\"dense\"]").
struct SweepAxis {
    std::string key;
    std::vector<std::string> values;
};

struct PlannedRun {
    std::string label;                                      // "lora_r=8, learning_rate=0.001"; "" for a lone run
    std::vector<std::pair<std::string, std::string>> values; // this run's value on each axis, as JSON
    RunConfig config;
    std::string resumeDir; // continue this run directory rather than start it
    std::string doneDir;   // finished earlier (a continued experiment): read, not run again
};

struct ExperimentPlan {
    std::string name;
    RunConfig base;
    std::vector<SweepAxis> axes;
    std::vector<PlannedRun> runs;
    std::string dir; // the experiment folder, when continuing one
    // A plan of one run without axes runs in runs_dir itself, as `loralab-cli run` does.
    bool single() const { return axes.empty() && runs.size() == 1 && dir.empty(); }
};

// "key=v1,v2,v3" as `loralab-cli sweep --grid` takes it. Values are JSON or
// bare words; commas inside brackets or quotes do not split; a list option
// takes '+'-joined words ("lora_targets=query_key_value+dense,all-linear").
SweepAxis parseSweepAxis(const std::string& text);

// Every combination of the axes' values (the last axis varies fastest), each
// checked as the configuration parser checks it. Throws loralab::Error for an
// unknown or repeated key, an axis without values, an option that cannot vary
// (name, runs_dir), or more than kMaxSweepRuns runs.
constexpr std::size_t kMaxSweepRuns = 1000;
ExperimentPlan planSweep(const RunConfig& base, const std::vector<SweepAxis>& axes);
// The same configuration as LoRA and as full fine-tuning: a sweep over method.
ExperimentPlan planComparison(const RunConfig& base);
// One run, or the continuation of the run in `resumeDir`.
ExperimentPlan planRun(const RunConfig& config, const std::string& resumeDir = "");
// An experiment folder taken up again: finished runs are kept as they are,
// cancelled or interrupted ones continue, and runs not started start.
ExperimentPlan planContinuation(const std::string& experimentDir);

// The label a run gets from its values ("method" shows its value alone).
std::string runLabel(const std::vector<std::pair<std::string, std::string>>& values);

struct ExperimentResult {
    std::string dir;             // the experiment folder; for a single run its run directory
    std::vector<std::string> labels;
    std::vector<RunResult> runs; // one per planned run, in order (NotStarted for those never begun)
};

struct ExperimentCallbacks {
    // The progress callbacks for run `index` (called before it starts).
    std::function<RunCallbacks(std::size_t index)> forRun;
    std::function<void(const std::string& dir)> onExperimentDir;
    std::function<void(std::size_t index, const RunResult& result)> onRunFinished;
};

// Runs the plan's runs one after another. Every run's configuration is
// checked before anything is written. A run that fails is recorded as Failed
// (its error in the summary) and the next one starts; cancelling ends the
// current run as cancelled and leaves the rest not started. A single-run plan
// throws as runExperiment does.
ExperimentResult runPlan(const ExperimentPlan& plan, RunControl& control, const ExperimentCallbacks& callbacks);

// An experiment as it is on disk, for reopening: experiment.json and its
// runs, a folder of runs grouped the way comparisons used to be (LoRA first),
// or a single run directory (one run).
struct ExperimentRun {
    std::string label;
    std::vector<std::pair<std::string, std::string>> values;
    bool started = false; // false: listed in the plan, never begun
    RunRecords records;   // records.summary.stopReason is NotStarted when not started
};
struct ExperimentRecords {
    std::string dir;
    std::string name;
    std::vector<SweepAxis> axes;
    std::string baseConfigJson; // the experiment's base configuration ("" for a single run: see the run's)
    std::vector<ExperimentRun> runs;
};
bool isExperimentDir(const std::string& dir);
ExperimentRecords readExperiment(const std::string& dir);

} // namespace loralab
