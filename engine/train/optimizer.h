// AdamW with PyTorch's decoupled weight decay, gradient clipping by global
// norm, and the learning-rate schedules transformers offers. The optimizer
// holds state only for the parameters it is given: with LoRA, the adapters.
#pragma once

#include "engine/io/safetensors.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

struct AdamWConfig {
    double lr = 2e-4;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0.0;
};

class AdamW {
public:
    AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config);

    // One update of every parameter that has a gradient, at learning rate `lr`.
    void step(double lr);
    void zeroGrad();

    std::int64_t stepCount() const { return m_step; }
    std::vector<torch::Tensor> parameters() const;
    std::int64_t stateBytes() const; // memory held by the moment estimates

    // Moment estimates as "exp_avg.<param>" / "exp_avg_sq.<param>", for checkpoints.
    NamedTensors state() const;
    void loadState(const NamedTensors& tensors, std::int64_t stepCount);

private:
    struct Slot {
        std::string name;
        torch::Tensor param;
        torch::Tensor expAvg;   // first moment, fp32, shape of param
        torch::Tensor expAvgSq; // second moment
    };
    std::vector<Slot> m_slots;
    AdamWConfig m_config;
    std::int64_t m_step = 0;
};

// Scales gradients so that their global L2 norm is at most maxNorm (when
// maxNorm > 0) and returns the norm before scaling, as clip_grad_norm_ does.
double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm);

enum class Schedule { Constant, ConstantWithWarmup, Linear, Cosine };
Schedule parseSchedule(const std::string& name); // "constant", "constant_with_warmup", "linear", "cosine"
const char* scheduleName(Schedule schedule);

// The learning rate of optimizer step `step` (0-based), following
// transformers' get_*_schedule_with_warmup multipliers.
double scheduledLearningRate(Schedule schedule, double baseLr, std::int64_t step, std::int64_t warmupSteps,
                             std::int64_t totalSteps);

} // namespace loralab
