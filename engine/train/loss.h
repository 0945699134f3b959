// The causal language-modelling loss: logits at position t predict the label
// at t + 1; labels of -100 (prompt, padding) do not count; the loss is the
// mean over the tokens that do.
#pragma once

#include "engine/model/causal_lm.h"

#include <torch/types.h>

namespace loralab {

constexpr std::int64_t kIgnoreIndex = -100;

// From full logits [B, T, V] and labels [B, T].
torch::Tensor causalLmLoss(const torch::Tensor& logits, const torch::Tensor& labels);

struct LossOutput {
    torch::Tensor loss;      // scalar, fp32
    std::int64_t tokens = 0; // label tokens that counted
};

// Runs the model and applies the output head only at positions whose next
// label counts, so a prompt-heavy batch never materialises logits it ignores.
LossOutput modelLoss(CausalLMImpl& net, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels);

} // namespace loralab
