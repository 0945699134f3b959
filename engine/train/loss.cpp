// Causal LM loss; see loss.h.
#include "engine/train/loss.h"

#include "engine/train/token_log_probs.h"

#include <torch/autograd.h>

#include <algorithm>

namespace loralab {
namespace {

// The mean of -log softmax(hidden W^T)[label] over the rows, chunk by chunk.
// The forward pass computes the gradients too (each chunk's logits exist only
// there) and backward scales them by the incoming gradient. Under no_grad,
// or when neither input needs a gradient, only the loss is computed.
class ChunkedHeadLoss : public torch::autograd::Function<ChunkedHeadLoss> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& weight,
                                 const torch::Tensor& labels, std::int64_t chunkRows, bool gradients)
    {
        const bool wantHidden = gradients && hidden.requires_grad();
        const bool wantWeight = gradients && weight.requires_grad();
        const std::int64_t rows = hidden.size(0);
        torch::Tensor gradHidden = wantHidden ? torch::empty_like(hidden) : torch::Tensor();
        torch::Tensor gradWeight = wantWeight ? torch::zeros_like(weight, weight.options().dtype(torch::kFloat32)) : torch::Tensor();
        torch::Tensor lossSum = torch::zeros({}, hidden.options().dtype(torch::kFloat32));
        for (std::int64_t start = 0; start < rows; start += chunkRows) {
            const std::int64_t n = std::min(chunkRows, rows - start);
            const torch::Tensor h = hidden.narrow(0, start, n);
            const torch::Tensor y = labels.narrow(0, start, n);
            torch::Tensor logits = torch::matmul(h, weight.t()).to(torch::kFloat32);
            if (!wantHidden && !wantWeight) {
                lossSum -= tokenLogProbs(logits, y).sum();
                continue;
            }
            // d log p[label] / d logits = onehot - softmax, by the fused
            // log-probability's own backward; the loss's is its negative,
            // applied to the (much smaller) products below.
            torch::Tensor dLogProbs;
            {
                torch::AutoGradMode enable(true);
                logits.requires_grad_(true);
                const torch::Tensor logProbs = tokenLogProbs(logits, y);
                lossSum -= logProbs.detach().sum();
                dLogProbs = torch::autograd::grad({logProbs.sum()}, {logits})[0];
            }
            logits = torch::Tensor();
            if (wantHidden) gradHidden.narrow(0, start, n).copy_(torch::matmul(dLogProbs.to(weight.scalar_type()), weight)).neg_();
            if (wantWeight) gradWeight.addmm_(dLogProbs.t(), h.to(torch::kFloat32), 1.0, -1.0);
        }
        ctx->saved_data["rows"] = rows;
        ctx->save_for_backward({gradHidden, wantWeight ? gradWeight.to(weight.scalar_type()) : gradWeight});
        return lossSum / static_cast<double>(std::max<std::int64_t>(1, rows));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const double rows = static_cast<double>(std::max<std::int64_t>(1, ctx->saved_data["rows"].toInt()));
        const torch::Tensor scale = grads[0].to(torch::kFloat32) / rows;
        torch::Tensor gradHidden = saved[0].defined() ? saved[0] * scale.to(saved[0].scalar_type()) : torch::Tensor();
        torch::Tensor gradWeight = saved[1].defined() ? saved[1] * scale.to(saved[1].scalar_type()) : torch::Tensor();
        return {gradHidden, gradWeight, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

bool headLossIsChunked(CausalLMImpl& net) { return !net.head()->loraActive() && !net.head()->bias.defined(); }

std::int64_t headLossChunking(CausalLMImpl& net, std::int64_t positions, std::int64_t chunkRows)
{
    if (chunkRows <= 0) return headLossChunking(net, positions, net.head()->weight.device());
    return headLossIsChunked(net) && positions > chunkRows ? chunkRows : 0;
}

std::int64_t headLossChunking(CausalLMImpl& net, std::int64_t positions, torch::Device device)
{
    const std::int64_t logits = std::int64_t{device.is_cpu() ? 256 : 64} << 20;
    return headLossChunking(net, positions, std::max<std::int64_t>(16, logits / std::max<std::int64_t>(1, net.head()->outFeatures())));
}

torch::Tensor causalLmLoss(const torch::Tensor& logits, const torch::Tensor& labels)
{
    const auto V = logits.size(-1);
    const torch::Tensor shiftLogits = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, V}).to(torch::kFloat32);
    const torch::Tensor shiftLabels = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});
    return torch::nn::functional::cross_entropy(
        shiftLogits, shiftLabels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
}

LossOutput modelLoss(CausalLMImpl& net, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels,
                     const HeadLossOptions& options)
{
    const torch::Tensor hidden = net.hiddenStates(ids, mask, nullptr);
    const auto T = ids.size(1);
    const torch::Tensor shiftLabels = labels.narrow(1, 1, T - 1).reshape({-1});
    const torch::Tensor positions = (shiftLabels != kIgnoreIndex).nonzero().view({-1});
    LossOutput out;
    out.tokens = positions.size(0);
    if (out.tokens == 0) {
        out.loss = hidden.sum() * 0.0; // keeps the graph, contributes nothing
        return out;
    }
    const torch::Tensor selected = hidden.narrow(1, 0, T - 1).reshape({-1, hidden.size(-1)}).index_select(0, positions);
    const torch::Tensor targets = shiftLabels.index_select(0, positions);
    if (const std::int64_t rows = options.chunked ? headLossChunking(net, selected.size(0), options.chunkRows) : 0; rows > 0) {
        // Gradients are worked out in the forward pass only when a backward pass can follow.
        out.loss = ChunkedHeadLoss::apply(selected, net.head()->weight, targets, rows, torch::GradMode::is_enabled());
        return out;
    }
    const torch::Tensor logits = net.logits(selected).to(torch::kFloat32);
    out.loss = -tokenLogProbs(logits, targets).mean();
    return out;
}

} // namespace loralab
