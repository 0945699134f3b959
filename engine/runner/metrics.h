// What a run reports while it goes and when it ends, as small copyable
// structs that cross from the engine to the CLI and the window (and into
// metrics.jsonl / summary.json). No LibTorch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

struct MemoryEstimate {
    std::int64_t weightBytes = 0;
    std::int64_t gradientBytes = 0;
    std::int64_t optimizerBytes = 0;
    std::int64_t activationBytes = 0;
    std::int64_t total() const { return weightBytes + gradientBytes + optimizerBytes + activationBytes; }
};

struct StepRecord {
    std::string run; // "lora", "full" or "dpo"; distinguishes the two halves of a comparison
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
    std::int64_t memoryBytes = 0;     // resident (CPU) or allocated (CUDA) after the step
    std::int64_t peakMemoryBytes = 0; // peak during the step
    MemoryEstimate estimate;
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
    std::string run;
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
    std::string run;        // "lora", "full" or "dpo", as in StepRecord
    std::int64_t index = 0; // in the validation set
    std::string prompt;
    std::string target;
    std::string rejected; // preference data only
    std::string baseOutput;
    std::string tunedOutput;
};

struct RunSummary {
    std::string run;
    std::string runDir;
    std::string model;
    std::string method;
    std::int64_t totalParams = 0;
    std::int64_t trainableParams = 0;
    std::int64_t steps = 0;
    double avgForwardMs = 0.0;
    double avgBackwardMs = 0.0;
    double avgOptimizerMs = 0.0;
    double avgStepMs = 0.0;
    double tokensPerSecond = 0.0;
    std::int64_t peakMemoryBytes = 0;
    MemoryEstimate estimate;
    double firstTrainLoss = 0.0;
    double finalTrainLoss = 0.0;
    double finalValLoss = -1.0;
    double bestValLoss = -1.0;
    double bestValAccuracy = -1.0;
    std::int64_t bestStep = 0;
    std::string stopReason; // "completed", "early_stopping", "user_stop", "cancelled", "non_finite_loss"
    double seconds = 0.0;
};

struct CompareSummary {
    RunSummary lora;
    RunSummary full;
    std::string groupDir;
};

std::string toJson(const StepRecord& r);
std::string toJson(const EvalRecord& r);
std::string toJson(const SampleRecord& r);
std::string toJson(const RunSummary& r);
std::string toJson(const CompareSummary& r);

StepRecord stepRecordFromJson(const std::string& text);
EvalRecord evalRecordFromJson(const std::string& text);
SampleRecord sampleRecordFromJson(const std::string& text);
RunSummary runSummaryFromJson(const std::string& text);

// A run directory as it is on disk, for reopening and overlaying past runs.
struct RunRecords {
    std::string dir;
    std::string configJson;
    std::vector<StepRecord> steps;
    std::vector<EvalRecord> evals;
    std::vector<SampleRecord> samples;
    bool hasSummary = false;
    RunSummary summary;
    std::int64_t unreadableLines = 0; // e.g. a line cut short by a killed process
};
RunRecords readRunDirectory(const std::string& dir);

} // namespace loralab
