// The Llama family as transformers implements it, which also covers Qwen2
// (Qwen1.5): RMSNorm, SwiGLU MLP, grouped-query attention with full rotary
// embeddings; Qwen2 adds q/k/v biases and usually ties the output head to the
// input embedding (then no lm_head.weight is stored).
#pragma once

#include "engine/model/causal_lm.h"

#include <torch/nn/modules/container/modulelist.h>

namespace loralab {

class LlamaAttentionImpl : public torch::nn::Module {
public:
    LlamaAttentionImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask, KvCache* cache,
                          std::size_t layer);
    Linear q_proj{nullptr};
    Linear k_proj{nullptr};
    Linear v_proj{nullptr};
    Linear o_proj{nullptr};

private:
    std::int64_t m_heads;
    std::int64_t m_kvHeads;
    std::int64_t m_headDim;
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
public:
    LlamaMlpImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x);
    Linear gate_proj{nullptr};
    Linear up_proj{nullptr};
    Linear down_proj{nullptr};

private:
    std::string m_act;
};
TORCH_MODULE(LlamaMlp);

class LlamaLayerImpl : public torch::nn::Module {
public:
    LlamaLayerImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask, KvCache* cache,
                          std::size_t layer);
    LlamaAttention self_attn{nullptr};
    LlamaMlp mlp{nullptr};
    RmsNorm input_layernorm{nullptr};
    RmsNorm post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaLayer);

class LlamaModelImpl : public torch::nn::Module {
public:
    LlamaModelImpl(const ModelConfig& c, torch::TensorOptions options);
    Embedding embed_tokens{nullptr};
    torch::nn::ModuleList layers{nullptr};
    RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaModel);

class LlamaForCausalLMImpl : public CausalLMImpl {
public:
    LlamaForCausalLMImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor hiddenStates(const torch::Tensor& ids, const torch::Tensor& mask, KvCache* cache) override;
    Embedding& embedding() override { return model->embed_tokens; }
    Linear& head() override { return lm_head; }
    std::string headName() const override { return "lm_head"; }

    LlamaModel model{nullptr};
    Linear lm_head{nullptr};
};

} // namespace loralab
