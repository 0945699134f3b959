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

// How the output head and the loss run. Chunked (the default where the head
// is a plain linear layer, no adapter and no bias, and the positions that
// count are more than one chunk), they go through the head a chunk of rows
// at a time: each chunk's logits [rows, V]
// are made, turned into its share of the loss and of the gradients of the
// hidden states (and of the head's weight when it trains), and dropped, so a
// step never holds [tokens x vocabulary] logits (with Qwen's 151,936 tokens,
// 2.5 GB in fp32 for 8 x 512 tokens, twice over with their gradient).
// Whole makes all logits at once, as the reference.
struct HeadLossOptions {
    bool chunked = true;
    std::int64_t chunkRows = 0; // 0: the default of headLossChunking
};

// Whether the model's head can take the chunked path (no adapter, no bias).
bool headLossIsChunked(CausalLMImpl& net);

// Rows per chunk when `positions` rows go through the head in chunks, 0 when
// they go at once: chunked where the head can be and the rows are more than
// one chunk. A chunk is `chunkRows` rows, or by default (at least 16) about
// 64 M logits (256 MB in fp32) on a GPU and 256 M (1 GB) on the CPU, since
// there a chunked step runs about 7 % slower (Qwen1.5-0.5B shapes, 4 x 256
// tokens: 11.1 s against 10.4 s), a cost worth paying only where the logits
// would be large. Training and the memory estimate both decide by it.
std::int64_t headLossChunking(CausalLMImpl& net, std::int64_t positions, std::int64_t chunkRows = 0);
// The same for the model as it will train on `device` (the estimate asks it of
// a model built on the meta device).
std::int64_t headLossChunking(CausalLMImpl& net, std::int64_t positions, torch::Device device);

// Runs the model and applies the output head only at positions whose next
// label counts, so a prompt-heavy batch never materialises logits it ignores.
LossOutput modelLoss(CausalLMImpl& net, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels,
                     const HeadLossOptions& options = {});

} // namespace loralab
