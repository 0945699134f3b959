// What a run optimises, behind one interface so the training loop is the same
// for supervised fine-tuning and preference training: a step over a set of
// training examples, and an evaluation on the validation set.
#pragma once

#include "engine/run/run_setup.h"
#include "engine/train/trainer.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace loralab {

struct ObjectiveStep {
    StepResult result;
    std::int64_t inputTokens = 0;  // non-padding tokens the model read
    std::int64_t usefulTokens = 0; // of those, the ones whose labels count in the loss
    // Preference training only.
    double rewardChosen = 0.0;
    double rewardRejected = 0.0;
    double rewardMargin = 0.0;
    double accuracy = 0.0;
};

struct ObjectiveEval {
    double loss = 0.0;
    std::int64_t tokens = 0; // label tokens (SFT) or pairs (DPO)
    double accuracy = -1.0;  // preference accuracy; -1 when not measured
    double rewardMargin = 0.0;
};

// Data-parallel evaluation: this process scores validation batches b with
// b % count == index; the group sums what each found.
struct EvalShard {
    std::int64_t index = 0;
    std::int64_t count = 1;
    bool mine(std::int64_t batch) const { return batch % count == index; }
};

class TrainingObjective {
public:
    virtual ~TrainingObjective() = default;
    virtual std::size_t trainCount() const = 0;
    // One optimizer step over `indices` (training examples), in micro-batches
    // of `microBatch` examples.
    virtual ObjectiveStep step(Trainer& trainer, const std::vector<std::size_t>& indices, std::int64_t microBatch) = 0;
    // Validation, at most maxBatches batches (0: all), without gradients; of
    // those, the batches of `shard`.
    virtual ObjectiveEval evaluate(std::int64_t maxBatches, std::int64_t batchSize, EvalShard shard) = 0;
    // The longest training sequence, for the memory estimate.
    virtual std::int64_t longestSequence() const = 0;
};

std::unique_ptr<TrainingObjective> makeSftObjective(CausalLMImpl& net, const PreparedData& data, std::int64_t padId,
                                            torch::Device device);

// Direct Preference Optimization over (prompt, chosen, rejected). The
// reference log-probabilities are those of the model as it starts (base plus
// the starting adapter, if any), computed once before training, so no second
// copy of the weights is held.
std::unique_ptr<TrainingObjective> makeDpoObjective(CausalLMImpl& net, const PreparedData& data, const Tokenizer& tokenizer,
                                            const RunConfig& config, torch::Device device);

} // namespace loralab
