// Architecture-independent parts of CausalLMImpl; see causal_lm.h.
#include "engine/model/causal_lm.h"

#include "engine/model/block_checkpoint.h"
#include "engine/model/gpt_neox.h"
#include "engine/model/llama.h"
#include "engine/util/error.h"

#include <set>

namespace loralab {

std::vector<std::pair<std::string, Linear>> CausalLMImpl::linearLayers()
{
    std::vector<std::pair<std::string, Linear>> out;
    std::pair<std::string, Linear> headEntry{"", nullptr};
    for (const auto& item : named_modules("", /*include_self=*/false)) {
        auto linear = std::dynamic_pointer_cast<LinearImpl>(item.value());
        if (!linear) continue;
        if (item.key() == headName())
            headEntry = {item.key(), Linear(linear)};
        else
            out.emplace_back(item.key(), Linear(linear));
    }
    if (headEntry.second) out.push_back(headEntry);
    return out;
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLMImpl::uniqueParameters()
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    std::set<const void*> seen;
    for (const auto& p : named_parameters()) {
        if (!seen.insert(p.value().unsafeGetTensorImpl()).second) continue;
        out.emplace_back(p.key(), p.value());
    }
    return out;
}

void CausalLMImpl::initRandom()
{
    torch::NoGradGuard noGrad;
    constexpr double kInitStd = 0.02;
    const auto normal = [](torch::Tensor& t) { t.normal_(0.0, kInitStd); };
    for (const auto& item : named_modules("", false)) {
        if (auto linear = std::dynamic_pointer_cast<LinearImpl>(item.value())) {
            if (linear->ownsWeight() && !linear->baseQuantized()) drawOnCpu(linear->weight, normal);
            if (linear->bias.defined()) linear->bias.zero_();
        } else if (auto emb = std::dynamic_pointer_cast<EmbeddingImpl>(item.value())) {
            drawOnCpu(emb->weight, normal);
        } else if (auto ln = std::dynamic_pointer_cast<LayerNormImpl>(item.value())) {
            ln->weight.fill_(1.0);
            ln->bias.zero_();
        } else if (auto rms = std::dynamic_pointer_cast<RmsNormImpl>(item.value())) {
            rms->weight.fill_(1.0);
        }
    }
}

void CausalLMImpl::resizeVocab(std::int64_t size)
{
    if (size == m_config.vocabSize) return;
    torch::NoGradGuard noGrad;
    const auto resized = [&](const torch::Tensor& old) {
        torch::Tensor fresh = torch::empty({size, old.size(1)}, old.options());
        const auto keep = std::min(size, old.size(0));
        fresh.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
        if (size > keep) fresh.narrow(0, keep, size - keep).copy_(old.mean(0, true).expand({size - keep, old.size(1)}));
        return fresh;
    };
    Embedding& emb = embedding();
    Linear& out = head();
    const bool tied = !out->ownsWeight();
    emb->weight.set_data(resized(emb->weight));
    if (tied)
        out->weight = emb->weight;
    else
        out->weight.set_data(resized(out->weight));
    if (out->bias.defined()) out->bias.set_data(torch::zeros({size}, out->bias.options()));
    m_config.vocabSize = size;
}

void CausalLMImpl::setActivationCheckpointing(std::int64_t every)
{
    const std::int64_t blocks = m_config.numLayers;
    if (every < 0) throw Error("must not be negative (0 is off)");
    if (every > 0 && blocks < 2)
        throw Error("the model has one transformer block; checkpointing it would keep its input and recompute all of it, "
                    "saving nothing (0 turns it off)");
    if (every > blocks)
        throw Error(std::to_string(every) + " is more than the model's " + std::to_string(blocks) +
                    " blocks (only the first would be checkpointed); choose 1 to " + std::to_string(blocks));
    m_checkpointEvery = every;
}

std::int64_t CausalLMImpl::checkpointedBlocks() const
{
    if (m_checkpointEvery <= 0) return 0;
    return (m_config.numLayers + m_checkpointEvery - 1) / m_checkpointEvery;
}

bool CausalLMImpl::checkpoints(std::size_t index, const KvCache* cache) const
{
    return m_checkpointEvery > 0 && index % static_cast<std::size_t>(m_checkpointEvery) == 0 && !cache && is_training() &&
           torch::GradMode::is_enabled();
}

torch::Tensor CausalLMImpl::checkpointed(torch::nn::Module& block, const torch::Tensor& h,
                                         const std::function<torch::Tensor(const torch::Tensor&)>& run)
{
    std::vector<torch::Tensor> trainable;
    for (const torch::Tensor& p : block.parameters())
        if (p.requires_grad()) trainable.push_back(p);
    // Nothing in or before the block takes a gradient: nothing to keep anyway.
    if (trainable.empty() && !h.requires_grad()) return run(h);
    return checkpointedBlock(run, h, trainable);
}

std::shared_ptr<CausalLMImpl> buildCausalLM(const ModelConfig& config, torch::TensorOptions options)
{
    if (config.architecture == Architecture::GptNeoX) return std::make_shared<GptNeoXForCausalLMImpl>(config, options);
    return std::make_shared<LlamaForCausalLMImpl>(config, options);
}

} // namespace loralab
