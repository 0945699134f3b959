// GPT-NeoX (Pythia): fused per-head query_key_value projection, partial
// rotary embeddings, LayerNorm, GELU MLP, parallel (or sequential) residual,
// untied output head "embed_out".
#pragma once

#include "engine/model/causal_lm.h"

#include <torch/nn/modules/container/modulelist.h>

namespace loralab {

class GptNeoXAttentionImpl : public torch::nn::Module {
public:
    GptNeoXAttentionImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask, KvCache* cache,
                          std::size_t layer);
    Linear query_key_value{nullptr}; // [3 * hidden, hidden], rows grouped per head as (q, k, v)
    Linear dense{nullptr};

private:
    std::int64_t m_heads;
    std::int64_t m_headDim;
};
TORCH_MODULE(GptNeoXAttention);

class GptNeoXMlpImpl : public torch::nn::Module {
public:
    GptNeoXMlpImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x);
    Linear dense_h_to_4h{nullptr};
    Linear dense_4h_to_h{nullptr};

private:
    std::string m_act;
};
TORCH_MODULE(GptNeoXMlp);

class GptNeoXLayerImpl : public torch::nn::Module {
public:
    GptNeoXLayerImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask, KvCache* cache,
                          std::size_t layer);
    LayerNorm input_layernorm{nullptr};
    LayerNorm post_attention_layernorm{nullptr};
    GptNeoXAttention attention{nullptr};
    GptNeoXMlp mlp{nullptr};

private:
    bool m_parallel;
};
TORCH_MODULE(GptNeoXLayer);

class GptNeoXModelImpl : public torch::nn::Module {
public:
    GptNeoXModelImpl(const ModelConfig& c, torch::TensorOptions options);
    Embedding embed_in{nullptr};
    torch::nn::ModuleList layers{nullptr};
    LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(GptNeoXModel);

class GptNeoXForCausalLMImpl : public CausalLMImpl {
public:
    GptNeoXForCausalLMImpl(const ModelConfig& c, torch::TensorOptions options);
    torch::Tensor hiddenStates(const torch::Tensor& ids, const torch::Tensor& mask, KvCache* cache) override;
    Embedding& embedding() override { return gpt_neox->embed_in; }
    Linear& head() override { return embed_out; }
    std::string headName() const override { return "embed_out"; }

    GptNeoXModel gpt_neox{nullptr};
    Linear embed_out{nullptr};
};

} // namespace loralab
