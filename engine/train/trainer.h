// One training step as a recipe (forward, loss, backward, clip, step) over
// one or more micro-batches, for LoRA or full fine-tuning alike: the only
// difference is which parameters reach the optimizer. Also the training state
// a checkpoint needs to resume exactly: weights that train, optimizer
// moments, step count and random-number state.
#pragma once

#include "engine/lora/lora.h"
#include "engine/model/causal_lm.h"
#include "engine/train/loss.h"
#include "engine/train/optimizer.h"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace loralab {

struct Batch {
    torch::Tensor ids;    // [B, T] int64
    torch::Tensor mask;   // [B, T] int64, 1 = token, 0 = padding
    torch::Tensor labels; // [B, T] int64, -100 where the loss ignores a position
};

struct TrainConfig {
    Method method = Method::Lora;
    AdamWConfig adam;
    double maxGradNorm = 1.0; // <= 0: no clipping
    Schedule schedule = Schedule::Constant;
    std::int64_t warmupSteps = 0;
    std::int64_t totalSteps = 1;
};

struct StepResult {
    double loss = 0.0;     // mean over the step's label tokens
    double gradNorm = 0.0; // before clipping
    double learningRate = 0.0;
    std::int64_t tokens = 0;      // the step's total weight: label tokens (SFT) or pairs (DPO)
    double forwardMs = 0.0;
    double backwardMs = 0.0;
    double optimizerMs = 0.0;
    double stepMs = 0.0;
    double commMs = 0.0; // time in collectives (data-parallel runs)
    bool finite = true; // false: NaN/inf loss or gradient; no update was made
};

class Collective;

class Trainer {
public:
    // Sets which parameters train (setTrainable) and builds the optimizer from them.
    Trainer(std::shared_ptr<CausalLMImpl> net, const TrainConfig& config);

    // One optimizer step over the micro-batches of an SFT batch.
    StepResult step(const std::vector<Batch>& microBatches);

    // One optimizer step for any objective: lossOf(i) runs micro-batch i and
    // returns its mean loss and weight (tokens, pairs); losses are combined
    // weighted by weight / totalWeight, as one large batch would be. In a
    // group, totalWeight is this process's share; the step's weight is the
    // group's sum, so the summed gradients equal one process's over the whole batch.
    StepResult stepWith(std::int64_t microBatches, std::int64_t totalWeight,
                        const std::function<LossOutput(std::int64_t)>& lossOf);

    // Data-parallel training: each process runs its share of every step's
    // micro-batches, the weights and gradients are summed over the group
    // before clipping, and every process makes the same update.
    void joinGroup(Collective* group) { m_group = group; }
    // Every process takes rank 0's trainable weights, optimizer moments and
    // step count (at the start, and after rank 0 resumed from a checkpoint).
    void takeStateFromRankZero();

    std::int64_t stepCount() const { return m_optimizer.stepCount(); }
    const TrainConfig& config() const { return m_config; }
    std::int64_t trainableParams() const;
    std::int64_t optimizerStateBytes() const { return m_optimizer.stateBytes(); }
    bool flatOptimizer() const { return m_optimizer.isFlat(); } // see AdamW

    // Writes the weights that train (a PEFT adapter for LoRA, a Hugging Face
    // checkpoint for full fine-tuning; `sourceDir` gives tokenizer files), and,
    // when withOptimizer, the optimizer moments and RNG state, plus
    // trainer_state.json holding `extra` (the caller's data position etc.).
    void saveCheckpoint(const std::filesystem::path& dir, const nlohmann::json& extra, bool withOptimizer,
                        const std::filesystem::path& sourceDir, const std::string& baseModel) const;
    // Restores what saveCheckpoint wrote and returns `extra`.
    nlohmann::json loadCheckpoint(const std::filesystem::path& dir);

private:
    std::shared_ptr<CausalLMImpl> m_net;
    TrainConfig m_config;
    AdamW m_optimizer;
    torch::Device m_device;
    Collective* m_group = nullptr; // not owned; null in a single process
};

} // namespace loralab
