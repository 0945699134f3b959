// Supervised fine-tuning (and language modelling on text): mean cross-entropy
// over label tokens.
#include "engine/run/objective.h"

#include "engine/data/micro_batches.h"
#include "engine/train/loss.h"

namespace loralab {
namespace {

class SftObjective final : public TrainingObjective {
public:
    SftObjective(CausalLMImpl& net, const PreparedData& data, std::int64_t padId, torch::Device device)
        : m_net(net), m_train(data.trainTokens), m_validation(data.validationTokens), m_padId(padId), m_device(device)
    {
    }

    std::size_t trainCount() const override { return m_train.size(); }

    ObjectiveStep step(Trainer& trainer, const std::vector<std::size_t>& indices, std::int64_t microBatch) override
    {
        std::vector<Batch> batches;
        ObjectiveStep out;
        for (const BatchRange& range : batchRanges(indices.size(), microBatch)) {
            const auto part = batchItems(m_train, range, &indices);
            for (const auto* example : part) {
                out.inputTokens += static_cast<std::int64_t>(example->ids.size());
                out.usefulTokens += labelTokens(*example);
            }
            batches.push_back(collate(part, m_padId, m_device));
        }
        out.result = trainer.step(batches);
        return out;
    }

    ObjectiveEval evaluate(std::int64_t maxBatches, std::int64_t batchSize, EvalShard shard) override
    {
        const EvaluationMode evaluation(m_net);
        double lossSum = 0.0;
        ObjectiveEval out;
        for (const BatchRange& range : batchRanges(m_validation.size(), batchSize)) {
            if (maxBatches > 0 && range.index >= maxBatches) break;
            if (!shard.mine(range.index)) continue;
            const Batch b = collate(batchItems(m_validation, range), m_padId, m_device);
            const LossOutput l = modelLoss(m_net, b.ids, b.mask, b.labels);
            lossSum += l.loss.item<double>() * static_cast<double>(l.tokens);
            out.tokens += l.tokens;
        }
        out.loss = out.tokens > 0 ? lossSum / static_cast<double>(out.tokens) : 0.0;
        return out;
    }

    std::int64_t longestSequence() const override
    {
        std::size_t longest = 1;
        for (const auto& t : m_train) longest = std::max(longest, t.ids.size());
        return static_cast<std::int64_t>(longest);
    }

private:
    CausalLMImpl& m_net;
    const std::vector<TokenizedExample>& m_train;
    const std::vector<TokenizedExample>& m_validation;
    std::int64_t m_padId;
    torch::Device m_device;
};

} // namespace

std::unique_ptr<TrainingObjective> makeSftObjective(CausalLMImpl& net, const PreparedData& data, std::int64_t padId,
                                            torch::Device device)
{
    return std::make_unique<SftObjective>(net, data, padId, device);
}

} // namespace loralab
