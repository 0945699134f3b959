// AdamW with PyTorch's decoupled weight decay, gradient clipping by global
// norm, and the learning-rate schedules transformers offers. The optimizer
// holds state only for the parameters it is given: with LoRA, the adapters.
#pragma once

#include "engine/config/run_choices.h"

#include "engine/io/safetensors.h"

#include <torch/types.h>

#include <cstdint>
#include <optional>
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
    // Parameters of one device and dtype share flat buffers (see AdamW).
    bool flat = true;
    // On the CPU in fp32, the update runs as one pass over memory; off, it
    // runs as the tensor operations a GPU runs (tests compare the two).
    bool cpuKernel = true;
};

// When every parameter it trains has one device and dtype (the usual case:
// LoRA adapters, or a whole model), AdamW keeps the parameters, their
// gradients and both moments in four flat buffers, each parameter and
// gradient a view into them: an update, the zeroing, the gradient norm and
// clipping each take a few whole-buffer operations however many tensors train
// (hundreds of adapter factors: on a GPU, a handful of kernels per step instead
// of several per tensor), and a process group sums all gradients at once.
class AdamW {
public:
    AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config);

    // One update of every parameter that has a gradient, at learning rate `lr`.
    void step(double lr);
    void zeroGrad();
    // Scales the gradients so that their global L2 norm is at most maxNorm
    // (when maxNorm > 0); returns the norm before scaling, as clip_grad_norm_ does.
    double clipGradNorm(double maxNorm);
    // The gradients, made present (zero where backward left none): the flat
    // buffer as one tensor, or one tensor per parameter.
    std::vector<torch::Tensor> gradients();
    bool isFlat() const { return m_flat.has_value(); }

    std::int64_t stepCount() const { return m_step; }
    std::vector<torch::Tensor> parameters() const;
    std::int64_t stateBytes() const; // memory held by the moment estimates

    // Moment estimates as "exp_avg.<param>" / "exp_avg_sq.<param>" (and fp32
    // master weights as "master.<param>"), for checkpoints.
    NamedTensors state() const;
    void loadState(const NamedTensors& tensors, std::int64_t stepCount);

private:
    struct Slot {
        std::string name;
        torch::Tensor param;
        torch::Tensor expAvg;   // first moment, fp32, shape of param
        torch::Tensor expAvgSq; // second moment
        // With flat buffers: the parameter's and its gradient's views.
        torch::Tensor paramView, gradView;
        // An fp32 copy of a bf16/fp16 parameter (not flat): the weights the
        // update applies to, rounded into the parameter after each step.
        // Without it, steps below the dtype's spacing (bf16: 7.8e-3 at 1.0)
        // round away and a weight such as a norm's never moves.
        torch::Tensor master;
    };
    struct Flat {
        torch::Tensor params, grads, expAvg, expAvgSq; // 1-D, the slots' views in order
    };
    // Points every parameter and gradient at its view of the flat buffers
    // again where something replaced it (a gradient set to none and then
    // accumulated afresh, weights given new storage), keeping their values.
    void reattach();

    std::vector<Slot> m_slots;
    std::optional<Flat> m_flat;
    AdamWConfig m_config;
    std::int64_t m_step = 0;
};

// The learning rate of optimizer step `step` (0-based), following
// transformers' get_*_schedule_with_warmup multipliers.
double scheduledLearningRate(Schedule schedule, double baseLr, std::int64_t step, std::int64_t warmupSteps,
                             std::int64_t totalSteps);

} // namespace loralab
