// What a run reports while it goes and when it ends, as small copyable
// structs that cross from the engine to the CLI and the window (and into
// metrics.jsonl / summary.json). No LibTorch here.
#pragma once

#include "engine/config/run_config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loralab {

// Bytes of a training step by what holds them: estimated from shapes before
// the run, or measured while it goes (weights, gradients and optimizer state
// from the tensors themselves; activations as what else the step's peak held:
// activations kept for backward, and temporaries).
struct MemoryBreakdown {
    std::int64_t weightBytes = 0;
    std::int64_t gradientBytes = 0;
    std::int64_t optimizerBytes = 0;
    std::int64_t activationBytes = 0;
    std::int64_t total() const { return weightBytes + gradientBytes + optimizerBytes + activationBytes; }
};

// Where a run stands, the one encoding of it everywhere. A run that ended says
// why (Completed ... Failed: RunSummary::error says why it failed). A run
// that began and has not ended is Running while a process trains it, and
// Interrupted when none does (killed, or stopped before its summary); a run of
// an experiment that never began is NotStarted. summary.json holds the name
// under "stop_reason".
enum class RunState { NotStarted, Running, Interrupted, Completed, EarlyStopping, UserStop, Cancelled, NonFiniteLoss, Failed };
template <>
struct ChoiceList<RunState> {
    static constexpr const char* what = "run state";
    static constexpr std::array<std::pair<RunState, const char*>, 9> items = {
        {{RunState::NotStarted, "not_started"}, {RunState::Running, "running"}, {RunState::Interrupted, "interrupted"},
         {RunState::Completed, "completed"}, {RunState::EarlyStopping, "early_stopping"}, {RunState::UserStop, "user_stop"},
         {RunState::Cancelled, "cancelled"}, {RunState::NonFiniteLoss, "non_finite_loss"}, {RunState::Failed, "failed"}}};
};
// What a run trains, in a word or two: "lora", "full", "dpo" (adapters), "dpo full".
std::string runKindText(Objective objective, Method method);

// The run trained to a result worth comparing (not cancelled, failed, unstarted or unfinished).
bool finishedNormally(RunState state);
// The run has a summary: it ended one way or another.
bool hasEnded(RunState state);

struct StepRecord {
    Objective objective = Objective::Sft;
    Method method = Method::Lora;
    std::int64_t step = 0;
    std::int64_t totalSteps = 0;
    double epoch = 0.0;
    double loss = 0.0;
    double learningRate = 0.0;
    double gradNorm = 0.0;
    double forwardMs = 0.0;
    double backwardMs = 0.0;
    double optimizerMs = 0.0;
    double stepMs = 0.0;
    std::int64_t tokens = 0; // input tokens processed in the step
    double tokensPerSecond = 0.0;
    std::int64_t usefulTokens = 0;      // of those, the tokens whose labels count in the loss
    double usefulTokensPerSecond = 0.0; // what packing raises
    // Bytes held by this run's tensors (CPU: counted at c10's allocator for
    // the run's thread; CUDA: the caching allocator's allocated bytes).
    std::int64_t memoryBytes = 0;     // after the step
    std::int64_t peakMemoryBytes = 0; // the most during the step
    std::int64_t processMemoryBytes = 0; // the whole process's resident set (RSS) after the step
    MemoryBreakdown measured;            // the step's peak by what held it
    MemoryBreakdown estimate;
    double elapsedSeconds = 0.0; // wall time of the run so far, pauses excluded, earlier sessions included
    double etaSeconds = 0.0;
    // Data-parallel runs: processes in the group, and the time this step spent
    // summing over them (included in the step's time).
    int worldSize = 1;
    double commMs = 0.0;
    // DPO only
    double rewardChosen = 0.0;
    double rewardRejected = 0.0;
    double rewardMargin = 0.0;
    double preferenceAccuracy = 0.0;
};

struct EvalRecord {
    Objective objective = Objective::Sft;
    Method method = Method::Lora;
    std::int64_t step = 0;
    double epoch = 0.0;
    double loss = 0.0;
    double perplexity = 0.0;
    std::int64_t tokens = 0;
    double preferenceAccuracy = -1.0; // DPO; -1 when not measured
    double rewardMargin = 0.0;
    bool improved = false;
    double bestValue = 0.0; // best loss (or accuracy) so far
    std::int64_t evalsSinceBest = 0;
    std::int64_t evalsLeft = -1; // before early stopping; -1 when it is off
};

struct SampleRecord {
    Objective objective = Objective::Sft;
    Method method = Method::Lora;
    std::int64_t index = 0; // in the validation set
    std::string prompt;
    std::string target;
    std::string rejected; // preference data only
    std::string baseOutput;
    std::string tunedOutput;
};

struct RunSummary {
    std::string runDir;
    std::string model;
    Objective objective = Objective::Sft;
    Method method = Method::Lora;
    std::int64_t totalParams = 0;
    std::int64_t trainableParams = 0;
    std::int64_t steps = 0;
    double avgForwardMs = 0.0;
    double avgBackwardMs = 0.0;
    double avgOptimizerMs = 0.0;
    double avgStepMs = 0.0;
    double tokensPerSecond = 0.0;
    double usefulTokensPerSecond = 0.0; // tokens whose labels count in the loss
    std::int64_t peakMemoryBytes = 0;        // tensors, the most any step held
    std::int64_t processPeakMemoryBytes = 0; // the process's resident set, the most after any step
    MemoryBreakdown measured;                // at the step with the highest peak
    MemoryBreakdown estimate;
    double firstTrainLoss = 0.0;
    double finalTrainLoss = 0.0;
    // Absent (null in summary.json) when the run had no validation, no
    // evaluation, or no samples.
    std::optional<double> finalValLoss;
    // The validation loss of the best step, the one whose checkpoint is kept
    // and restored: with min_delta a later, slightly lower loss does not
    // count as an improvement and is not reported here.
    std::optional<double> bestValLoss;
    std::optional<double> bestValAccuracy; // DPO
    std::int64_t bestStep = 0;
    std::optional<double> baseExactMatch;  // share of sampled answers equal to their targets
    std::optional<double> tunedExactMatch;
    RunState state = RunState::Completed;
    std::string error; // why a Failed run failed
    double seconds = 0.0;       // wall time, pauses excluded
    double pausedSeconds = 0.0; // time spent paused
};

// Whether an answer matches its target: equal after trimming, lower-casing
// and dropping trailing punctuation.
bool answersMatch(const std::string& output, const std::string& target);
// The share of samples whose base (or tuned) answer matches; absent for no samples.
std::optional<double> exactMatchRate(const std::vector<SampleRecord>& samples, bool tuned);

// {"weights", "gradients", "optimizer", "activations", "total"} in bytes, as summary.json writes them.
std::string toJson(const MemoryBreakdown& m);
std::string toJson(const StepRecord& r);
std::string toJson(const EvalRecord& r);
std::string toJson(const SampleRecord& r);
std::string toJson(const RunSummary& r);

StepRecord stepRecordFromJson(const std::string& text);
EvalRecord evalRecordFromJson(const std::string& text);
SampleRecord sampleRecordFromJson(const std::string& text);
RunSummary runSummaryFromJson(const std::string& text);

// What a run directory's metrics.jsonl and samples.jsonl hold, for charts
// and for reopening a run (its configuration and summary are read with the
// run: see engine/experiment/experiment.h).
struct RunRecords {
    std::string dir;
    std::vector<StepRecord> steps;
    std::vector<EvalRecord> evals;
    std::vector<SampleRecord> samples;
    std::int64_t unreadableLines = 0; // e.g. a line cut short by a killed process
};
RunRecords readRunRecords(const std::string& dir);
// summary.json of `dir`, if it has a readable one.
std::optional<RunSummary> readRunSummary(const std::string& dir);

} // namespace loralab
