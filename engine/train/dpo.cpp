// DPO terms; see dpo.h.
#include "engine/train/dpo.h"

#include "engine/train/loss.h"
#include "engine/train/token_log_probs.h"

namespace loralab {

torch::Tensor sequenceLogProbs(CausalLMImpl& net, const Batch& batch, bool perToken)
{
    const torch::Tensor hidden = net.hiddenStates(batch.ids, batch.mask, nullptr);
    const auto B = batch.ids.size(0);
    const auto T = batch.ids.size(1);
    const torch::Tensor labels = batch.labels.narrow(1, 1, T - 1).reshape({-1});
    const torch::Tensor positions = (labels != kIgnoreIndex).nonzero().view({-1});
    const torch::Tensor selected = hidden.narrow(1, 0, T - 1).reshape({-1, hidden.size(-1)}).index_select(0, positions);
    const torch::Tensor picked = tokenLogProbs(net.logits(selected).to(torch::kFloat32), labels.index_select(0, positions));
    // Scattered back into [B, T - 1] (zeros where labels do not count) and
    // summed per row, the same reduction the reference implementation uses.
    const torch::Tensor perPosition = torch::zeros({B * (T - 1)}, picked.options()).index_put({positions}, picked).view({B, T - 1});
    const torch::Tensor sums = perPosition.sum(-1);
    if (!perToken) return sums;
    const torch::Tensor counts = (batch.labels.narrow(1, 1, T - 1) != kIgnoreIndex).sum(-1).to(sums.scalar_type());
    return sums / counts.clamp_min(1.0);
}

DpoTerms dpoLoss(const torch::Tensor& policyChosen, const torch::Tensor& policyRejected, const torch::Tensor& referenceChosen,
                 const torch::Tensor& referenceRejected, double beta, DpoLoss kind)
{
    const torch::Tensor chosenRatio = policyChosen - referenceChosen;
    const torch::Tensor rejectedRatio = policyRejected - referenceRejected;
    const torch::Tensor margin = chosenRatio - rejectedRatio;
    DpoTerms t;
    if (kind == DpoLoss::Ipo)
        t.loss = (margin - 1.0 / (2.0 * beta)).pow(2).mean();
    else
        t.loss = -torch::log_sigmoid(beta * margin).mean();
    t.rewardChosen = (beta * chosenRatio).detach();
    t.rewardRejected = (beta * rejectedRatio).detach();
    return t;
}

} // namespace loralab
