// An experiment is a base configuration, the axes it varies, and a list of
// runs: one run, LoRA against full fine-tuning (a sweep over method), or a
// grid over any run options. This one value is what planning creates, what
// running updates, what reading a folder gives back, and what the window and
// loralab-cli show. Each run is a normal run directory; an experiment of more
// than one run keeps them in a folder of its own with experiment.json (the
// base configuration, the axes, each run's label, values and directory), so
// it can be reopened or continued whole. No LibTorch here.
#pragma once

#include "engine/config/run_config.h"
#include "engine/records/metrics.h"

#include <cstddef>
#include <cstdint>
#include <optional>
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

// A run's value on each axis, as JSON, in axis order.
using AxisValues = std::vector<std::pair<std::string, std::string>>;

// What running an experiment does with one of its runs.
enum class RunAction {
    Start,  // train it from the beginning in a new run directory
    Resume, // continue it from its last checkpoint
    Keep,   // it is done: read, not run again
};

struct ExperimentRun {
    std::string label;  // "lora_r=8, learning_rate=0.001"; "lora" / "full" for a comparison; the name of a lone run
    AxisValues values;
    RunConfig config;   // what it runs (or ran) with
    std::string dir;    // its run directory; empty until it has one
    RunState state = RunState::NotStarted;
    RunAction next = RunAction::Start;
    std::optional<RunSummary> summary;  // once it ended
    // Its samples, and when read with metrics (or recorded as it runs) its
    // step and evaluation records, for charts.
    RunRecords records;
    std::int64_t stepsDone = 0; // optimizer steps recorded so far
    // Its folder can be taken up again: from its last checkpoint, or from its
    // start when it stopped before the first one.
    bool resumable = false;
};

struct Experiment {
    std::string name;
    std::string dir; // the experiment folder; a lone run's run directory
    RunConfig base;
    std::vector<SweepAxis> axes;
    std::vector<ExperimentRun> runs;

    // One run and no axes: it lives in runs_dir itself, without an experiment
    // folder, as `loralab-cli run` makes it.
    bool lone() const { return axes.empty() && runs.size() == 1; }
};

// "key=v1,v2,v3" as `loralab-cli sweep --grid` takes it. Values are JSON or
// bare words; commas inside brackets or quotes do not split; a list option
// takes '+'-joined words ("lora_targets=query_key_value+dense,all-linear").
SweepAxis parseSweepAxis(const std::string& text);

// The experiment of `base` over `axes`: every combination of their values
// (the last axis varies fastest), each checked as the configuration parser
// checks it; no axes is a lone run. Throws loralab::Error for an unknown or
// repeated key, an axis without values, an option that cannot vary (name,
// runs_dir), or more than kMaxSweepRuns runs. `name` names the experiment's
// folder (default: the base configuration's name).
constexpr std::size_t kMaxSweepRuns = 1000;
// A sweep of more runs than this starts only when the user confirms it (the
// window asks; loralab-cli sweep wants --yes): hours of training from one typo.
constexpr std::size_t kConfirmSweepRuns = 50;
Experiment planExperiment(const RunConfig& base, const std::vector<SweepAxis>& axes, const std::string& name = "");

// The label a run gets from its values ("method" shows its value alone).
std::string runLabel(const AxisValues& values);

// What continuing does with a run as it stands: runs that ended normally (or
// on a non-finite loss, which would recur) are kept, as is a run another
// process is training; a run folder that was cancelled, interrupted or failed
// resumes (from its last checkpoint, or from its start); a run never begun
// starts. The window's "can be continued" and `sweep --resume` both follow
// this rule.
RunAction continuationOf(const ExperimentRun& run);
bool canContinue(const Experiment& experiment);

// An experiment as it is on disk: experiment.json and its runs, a folder of
// runs grouped the way comparisons used to be (LoRA first), or a run
// directory on its own (a lone run). Every run's `next` is its
// continuationOf, so the result can be run again to continue it. Throws
// loralab::Error for a folder that is none of these. Each run's samples are
// read; its step and evaluation records only `withMetrics` (they can be long).
Experiment readExperiment(const std::string& dir, bool withMetrics = false);
bool isExperimentDir(const std::string& dir);
bool isRunDir(const std::string& dir);

// Writes experiment.json into experiment.dir atomically (runs' directories
// relative to it).
void writeExperimentFile(const Experiment& experiment);

// How a run stands, in words: "completed", "stopped early", "cancelled after
// 12 steps", "interrupted after 12 steps", "running", "not started",
// "failed: <why>".
std::string outcomeText(const ExperimentRun& run);

// Run options whose values differ between the runs (the sweep's axes, or
// the options of runs overlaid together), in the order of the options table;
// name and runs_dir never count.
std::vector<std::string> varyingOptions(const Experiment& experiment);

// Several runs or experiments read from disk as one experiment of all their
// runs, to overlay them; each run labelled with its own label, or its folder
// name where labels repeat.
Experiment overlayExperiments(const std::vector<Experiment>& parts);

} // namespace loralab
