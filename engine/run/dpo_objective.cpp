// Preference training with DPO (or IPO) on (prompt, chosen, rejected) pairs.
#include "engine/run/objective.h"

#include "engine/data/micro_batches.h"
#include "engine/lora/lora.h"
#include "engine/train/dpo.h"
#include "engine/util/error.h"

namespace loralab {
namespace {

struct Pair {
    TokenizedExample chosen;
    TokenizedExample rejected;
    double referenceChosen = 0.0; // log-probabilities under the starting model
    double referenceRejected = 0.0;
};

class DpoObjective final : public TrainingObjective {
public:
    DpoObjective(CausalLMImpl& net, const PreparedData& data, const Tokenizer& tokenizer, const RunConfig& config,
                 torch::Device device)
        : m_net(net), m_beta(config.dpoBeta), m_kind(config.dpoLoss), m_padId(tokenizer.paddingId()),
          m_device(device)
    {
        TokenizeOptions options;
        options.maxLen = config.maxLen;
        options.appendEos = false; // ids = tokenize(prompt) + tokenize(answer)
        m_train = tokenizePairs(tokenizer, data.train, options);
        m_validation = tokenizePairs(tokenizer, data.validation, options);
        if (m_train.empty()) throw fileError(data.train.path, "has no pair with both a chosen and a rejected answer");
        // The reference is fixed for the whole run, so its log-probabilities
        // are computed once; "base" switches the adapters off for it.
        const AdaptersOff reference(m_net, config.dpoReference == DpoReference::Base);
        computeReference(m_train, config.batchSize);
        computeReference(m_validation, config.batchSize);
    }

    std::size_t trainCount() const override { return m_train.size(); }

    ObjectiveStep step(Trainer& trainer, const std::vector<std::size_t>& indices, std::int64_t microBatch) override
    {
        ObjectiveStep out;
        std::vector<std::vector<const Pair*>> parts;
        for (const BatchRange& range : batchRanges(indices.size(), microBatch)) {
            parts.push_back(batchItems(m_train, range, &indices));
            for (const Pair* p : parts.back()) {
                out.inputTokens += static_cast<std::int64_t>(p->chosen.ids.size() + p->rejected.ids.size());
                out.usefulTokens += labelTokens(p->chosen) + labelTokens(p->rejected);
            }
        }
        std::vector<torch::Tensor> chosenRewards;
        std::vector<torch::Tensor> rejectedRewards;
        out.result = trainer.stepWith(static_cast<std::int64_t>(parts.size()), static_cast<std::int64_t>(indices.size()),
                                      [&](std::int64_t i) {
                                          const auto& part = parts[static_cast<std::size_t>(i)];
                                          const DpoTerms t = terms(part);
                                          chosenRewards.push_back(t.rewardChosen);
                                          rejectedRewards.push_back(t.rewardRejected);
                                          return LossOutput{t.loss, static_cast<std::int64_t>(part.size())};
                                      });
        const torch::Tensor chosen = torch::cat(chosenRewards);
        const torch::Tensor rejected = torch::cat(rejectedRewards);
        out.rewardChosen = chosen.mean().item<double>();
        out.rewardRejected = rejected.mean().item<double>();
        out.rewardMargin = (chosen - rejected).mean().item<double>();
        out.accuracy = (chosen > rejected).to(torch::kFloat64).mean().item<double>();
        return out;
    }

    ObjectiveEval evaluate(std::int64_t maxBatches, std::int64_t batchSize, EvalShard shard) override
    {
        const EvaluationMode evaluation(m_net);
        ObjectiveEval out;
        double lossSum = 0.0;
        double marginSum = 0.0;
        double correct = 0.0;
        for (const BatchRange& range : batchRanges(m_validation.size(), batchSize)) {
            if (maxBatches > 0 && range.index >= maxBatches) break;
            if (!shard.mine(range.index)) continue;
            const auto part = batchItems(m_validation, range);
            const DpoTerms t = terms(part);
            const auto n = static_cast<double>(part.size());
            lossSum += t.loss.item<double>() * n;
            marginSum += (t.rewardChosen - t.rewardRejected).sum().item<double>();
            correct += (t.rewardChosen > t.rewardRejected).sum().item<double>();
            out.tokens += static_cast<std::int64_t>(part.size());
        }
        if (out.tokens > 0) {
            out.loss = lossSum / static_cast<double>(out.tokens);
            out.accuracy = correct / static_cast<double>(out.tokens);
            out.rewardMargin = marginSum / static_cast<double>(out.tokens);
        }
        return out;
    }

    std::int64_t longestSequence() const override
    {
        std::size_t longest = 1;
        for (const auto& p : m_train) longest = std::max({longest, p.chosen.ids.size(), p.rejected.ids.size()});
        return static_cast<std::int64_t>(longest);
    }

private:
    static std::vector<Pair> tokenizePairs(const Tokenizer& tokenizer, const Dataset& data, const TokenizeOptions& options)
    {
        std::vector<Pair> out;
        for (const auto& e : data.examples) {
            if (e.rejected.empty()) continue;
            Example rejected = e;
            rejected.target = e.rejected;
            if (e.isChat()) {
                // A pair in messages form: the loss (and the log-probability)
                // on the answer after the shared prompt only, as TRL takes it.
                rejected.conversation = e.rejectedConversation;
                TokenizeOptions last = options;
                last.assistantTurns = AssistantTurns::Last;
                out.push_back({tokenizeExample(tokenizer, e, last), tokenizeExample(tokenizer, rejected, last)});
                continue;
            }
            out.push_back({tokenizeExample(tokenizer, e, options), tokenizeExample(tokenizer, rejected, options)});
        }
        return out;
    }

    // Chosen answers in the first half of the batch, rejected in the second.
    Batch pairBatch(const std::vector<const Pair*>& part) const
    {
        std::vector<const TokenizedExample*> rows;
        for (const auto* p : part) rows.push_back(&p->chosen);
        for (const auto* p : part) rows.push_back(&p->rejected);
        return collate(rows, m_padId, m_device);
    }

    torch::Tensor policyLogProbs(const std::vector<const Pair*>& part)
    {
        return sequenceLogProbs(m_net, pairBatch(part), m_kind == DpoLoss::Ipo);
    }

    DpoTerms terms(const std::vector<const Pair*>& part)
    {
        const torch::Tensor policy = policyLogProbs(part);
        const auto n = static_cast<std::int64_t>(part.size());
        std::vector<double> refChosen;
        std::vector<double> refRejected;
        for (const auto* p : part) {
            refChosen.push_back(p->referenceChosen);
            refRejected.push_back(p->referenceRejected);
        }
        const auto options = torch::TensorOptions().dtype(torch::kFloat64);
        return dpoLoss(policy.narrow(0, 0, n), policy.narrow(0, n, n), torch::tensor(refChosen, options).to(policy.options()),
                       torch::tensor(refRejected, options).to(policy.options()), m_beta, m_kind);
    }

    void computeReference(std::vector<Pair>& pairs, std::int64_t batchSize)
    {
        const EvaluationMode evaluation(m_net);
        for (const BatchRange& range : batchRanges(pairs.size(), batchSize)) {
            const torch::Tensor logps = policyLogProbs(batchItems(pairs, range)).to(torch::kCPU, torch::kFloat64);
            const auto n = range.size();
            for (std::size_t i = 0; i < n; ++i) {
                pairs[range.begin + i].referenceChosen = logps[static_cast<std::int64_t>(i)].item<double>();
                pairs[range.begin + i].referenceRejected = logps[static_cast<std::int64_t>(n + i)].item<double>();
            }
        }
    }

    CausalLMImpl& m_net;
    double m_beta;
    DpoLoss m_kind;
    std::int64_t m_padId;
    torch::Device m_device;
    std::vector<Pair> m_train;
    std::vector<Pair> m_validation;
};

} // namespace

std::unique_ptr<TrainingObjective> makeDpoObjective(CausalLMImpl& net, const PreparedData& data, const Tokenizer& tokenizer,
                                            const RunConfig& config, torch::Device device)
{
    return std::make_unique<DpoObjective>(net, data, tokenizer, config, device);
}

} // namespace loralab
