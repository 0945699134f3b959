// log softmax(logits)[label] for each row: the quantity behind the language-
// modelling loss (its negative mean) and DPO's sequence log-probabilities.
//
// On the CPU it runs as one fused pass per row (max, sum of exponentials,
// pick) with its own vectorised exponential, and its backward writes the
// gradient in one more pass: no [N, V] log-softmax is materialised, and the
// exponential does not depend on how LibTorch was built (some builds
// evaluate it one element at a time, which made the softmax over a 50k
// vocabulary a fifth of a CPU training step). Elsewhere it is
// log_softmax + gather.
#pragma once

#include <torch/types.h>

namespace loralab {

// logits [N, V] (fp32 for the fused path), labels [N] in [0, V) -> [N] fp32.
torch::Tensor tokenLogProbs(const torch::Tensor& logits, const torch::Tensor& labels);

} // namespace loralab
