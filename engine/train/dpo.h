// Direct Preference Optimization: summed log-probabilities of answers, and
// the sigmoid (DPO) and IPO losses over policy/reference log-ratios.
#pragma once

#include "engine/config/run_choices.h"
#include "engine/model/causal_lm.h"
#include "engine/train/trainer.h"

#include <string>
#include <torch/types.h>

namespace loralab {

// Sum over each row's label tokens (labels != -100, shifted as in the LM
// loss) of log p(label), [B] fp32. The head runs only where labels count.
// With perToken, the mean instead of the sum.
torch::Tensor sequenceLogProbs(CausalLMImpl& net, const Batch& batch, bool perToken = false);

struct DpoTerms {
    torch::Tensor loss;           // scalar, mean over pairs
    torch::Tensor rewardChosen;   // [N] beta * (policy - reference), detached
    torch::Tensor rewardRejected; // [N]
};

// Sigmoid: -log sigmoid(beta * margin of log-ratios); Ipo: (margin - 1 / (2 beta))^2,
// on per-token mean log-probabilities.
DpoTerms dpoLoss(const torch::Tensor& policyChosen, const torch::Tensor& policyRejected, const torch::Tensor& referenceChosen,
                 const torch::Tensor& referenceRejected, double beta, DpoLoss kind);

} // namespace loralab
