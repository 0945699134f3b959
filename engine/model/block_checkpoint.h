// Activation checkpointing of a transformer block: its forward runs without
// keeping its intermediate tensors (only its input is kept), and runs again
// inside the backward pass to take its gradients, with the random state of
// the first run (dropout masks are the same), so the gradients are those of
// the run without checkpointing, for a block's extra forward in time.
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

namespace loralab {

// `block(x)` with its activations recomputed in backward. `trainable` are
// the parameters the block reads that take gradients (the output depends on
// them, and backward hands them their gradients as for any other operation);
// `block` must read no other tensor that takes a gradient except `x`.
torch::Tensor checkpointedBlock(const std::function<torch::Tensor(const torch::Tensor&)>& block, const torch::Tensor& x,
                                const std::vector<torch::Tensor>& trainable);

} // namespace loralab
