// Causal LM loss; see loss.h.
#include "engine/train/loss.h"

#include "engine/train/token_log_probs.h"

namespace loralab {

torch::Tensor causalLmLoss(const torch::Tensor& logits, const torch::Tensor& labels)
{
    const auto V = logits.size(-1);
    const torch::Tensor shiftLogits = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, V}).to(torch::kFloat32);
    const torch::Tensor shiftLabels = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});
    return torch::nn::functional::cross_entropy(
        shiftLogits, shiftLabels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
}

LossOutput modelLoss(CausalLMImpl& net, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels)
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
    const torch::Tensor logits = net.logits(selected).to(torch::kFloat32);
    out.loss = -tokenLogProbs(logits, shiftLabels.index_select(0, positions)).mean();
    return out;
}

} // namespace loralab
