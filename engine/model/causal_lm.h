// A causal language model as a LibTorch module tree whose parameter names are
// the Hugging Face checkpoint keys ("gpt_neox.layers.0.attention.dense.weight",
// "model.layers.0.self_attn.q_proj.weight", ...), so loading, saving and PEFT
// adapter keys map one to one.
#pragma once

#include "engine/model/layers.h"
#include "engine/model/model_config.h"

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

class CausalLMImpl : public torch::nn::Module {
public:
    explicit CausalLMImpl(ModelConfig config) : m_config(std::move(config)) {}

    const ModelConfig& config() const { return m_config; }

    // Final hidden states after the last norm, [B, T, hidden].
    // ids [B, T] int64. mask [B, past + T] (1 = token, 0 = right padding)
    // covers the cached positions too and may be undefined (no padding).
    // With a cache, ids continue the cached positions and the cache grows.
    virtual torch::Tensor hiddenStates(const torch::Tensor& ids, const torch::Tensor& mask, KvCache* cache) = 0;

    // Logits over the vocabulary for hidden states [..., hidden] -> [..., vocab].
    torch::Tensor logits(const torch::Tensor& hidden) { return head()->forward(hidden); }
    torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask = {})
    {
        return logits(hiddenStates(ids, mask, nullptr));
    }

    virtual Embedding& embedding() = 0;
    virtual Linear& head() = 0;
    // The output head's module name: "embed_out" (GPT-NeoX) or "lm_head".
    virtual std::string headName() const = 0;

    // Every Linear layer with its full module path, the output head last.
    std::vector<std::pair<std::string, Linear>> linearLayers();

    // Parameters with duplicates (tied weights) counted once.
    std::vector<std::pair<std::string, torch::Tensor>> uniqueParameters();

    // Fills weights as the reference initialisation does (normal(0, 0.02),
    // zero biases, unit norms), drawing from the global generator.
    void initRandom();

    // Swaps the vocabulary to `size` rows, keeping the rows that exist and
    // filling new ones with the mean of the old embeddings.
    void resizeVocab(std::int64_t size);

    // Activation checkpointing of every `every`-th transformer block (blocks
    // 0, every, 2 every, ...; 0: none): in training with gradients, such a
    // block keeps only its input and runs again in backward (block_checkpoint.h).
    // A setting that cannot help (a model of one block, `every` past the
    // blocks) or a negative one is an Error saying why; callers name their option.
    void setActivationCheckpointing(std::int64_t every);
    std::int64_t activationCheckpointing() const { return m_checkpointEvery; }
    // Blocks checkpointed of the model's, at that setting.
    std::int64_t checkpointedBlocks() const;

protected:
    // Transformer block `index` of the hidden states h, checkpointed when it
    // is one of those chosen and the pass trains (no cache, gradients on).
    template <typename Layer>
    torch::Tensor runBlock(Layer& layer, std::size_t index, const torch::Tensor& h, const RotaryTables& rotary,
                           const torch::Tensor& mask, KvCache* cache)
    {
        if (!checkpoints(index, cache)) return layer.forward(h, rotary, mask, cache, index);
        return checkpointed(layer, h, [&layer, rotary, mask, index](const torch::Tensor& x) {
            return layer.forward(x, rotary, mask, nullptr, index);
        });
    }

    ModelConfig m_config;

private:
    bool checkpoints(std::size_t index, const KvCache* cache) const;
    torch::Tensor checkpointed(torch::nn::Module& block, const torch::Tensor& h,
                               const std::function<torch::Tensor(const torch::Tensor&)>& run);

    std::int64_t m_checkpointEvery = 0;
};

// Evaluation within a scope: no gradients, dropout off; the model's training
// mode comes back when the scope ends. LibTorch's grad mode is per thread, so
// this holds on the thread that made it.
class EvaluationMode {
public:
    explicit EvaluationMode(torch::nn::Module& net) : m_net(net), m_wasTraining(net.is_training()) { m_net.eval(); }
    ~EvaluationMode() { m_net.train(m_wasTraining); }
    EvaluationMode(const EvaluationMode&) = delete;
    EvaluationMode& operator=(const EvaluationMode&) = delete;

private:
    torch::NoGradGuard m_noGrad;
    torch::nn::Module& m_net;
    bool m_wasTraining;
};

std::shared_ptr<CausalLMImpl> buildCausalLM(const ModelConfig& config, torch::TensorOptions options);

} // namespace loralab
