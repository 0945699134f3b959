// Llama / Qwen2 forward pass; see llama.h.
#include "engine/model/llama.h"

namespace loralab {

LlamaAttentionImpl::LlamaAttentionImpl(const ModelConfig& c, torch::TensorOptions options)
    : m_heads(c.numHeads), m_kvHeads(c.numKvHeads), m_headDim(c.headDim)
{
    q_proj = register_module("q_proj", Linear(c.hiddenSize, c.numHeads * c.headDim, c.qkvBias, options));
    k_proj = register_module("k_proj", Linear(c.hiddenSize, c.numKvHeads * c.headDim, c.qkvBias, options));
    v_proj = register_module("v_proj", Linear(c.hiddenSize, c.numKvHeads * c.headDim, c.qkvBias, options));
    o_proj = register_module("o_proj", Linear(c.numHeads * c.headDim, c.hiddenSize, c.outputProjBias, options));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask,
                                          KvCache* cache, std::size_t layer)
{
    const auto B = x.size(0);
    const auto T = x.size(1);
    const auto qkv = forwardSharedInput({q_proj.get(), k_proj.get(), v_proj.get()}, x);
    const torch::Tensor q = applyRotary(qkv[0].view({B, T, m_heads, m_headDim}).transpose(1, 2), rotary);
    const torch::Tensor k = applyRotary(qkv[1].view({B, T, m_kvHeads, m_headDim}).transpose(1, 2), rotary);
    const torch::Tensor v = qkv[2].view({B, T, m_kvHeads, m_headDim}).transpose(1, 2);
    auto [keys, values] = updateCache(cache, layer, k, v);
    const torch::Tensor attended = causalAttention(q, keys, values, mask);
    return o_proj->forward(attended.transpose(1, 2).reshape({B, T, m_heads * m_headDim}));
}

LlamaMlpImpl::LlamaMlpImpl(const ModelConfig& c, torch::TensorOptions options) : m_act(c.hiddenAct)
{
    gate_proj = register_module("gate_proj", Linear(c.hiddenSize, c.intermediateSize, c.mlpBias, options));
    up_proj = register_module("up_proj", Linear(c.hiddenSize, c.intermediateSize, c.mlpBias, options));
    down_proj = register_module("down_proj", Linear(c.intermediateSize, c.hiddenSize, c.mlpBias, options));
}

torch::Tensor LlamaMlpImpl::forward(const torch::Tensor& x)
{
    const auto gateUp = forwardSharedInput({gate_proj.get(), up_proj.get()}, x);
    return down_proj->forward(activation(m_act, gateUp[0]) * gateUp[1]);
}

LlamaLayerImpl::LlamaLayerImpl(const ModelConfig& c, torch::TensorOptions options)
{
    self_attn = register_module("self_attn", LlamaAttention(c, options));
    mlp = register_module("mlp", LlamaMlp(c, options));
    input_layernorm = register_module("input_layernorm", RmsNorm(c.hiddenSize, c.normEps, options));
    post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(c.hiddenSize, c.normEps, options));
}

torch::Tensor LlamaLayerImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask,
                                      KvCache* cache, std::size_t layer)
{
    const torch::Tensor h = x + self_attn->forward(input_layernorm->forward(x), rotary, mask, cache, layer);
    return h + mlp->forward(post_attention_layernorm->forward(h));
}

LlamaModelImpl::LlamaModelImpl(const ModelConfig& c, torch::TensorOptions options)
{
    embed_tokens = register_module("embed_tokens", Embedding(c.vocabSize, c.hiddenSize, options));
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < c.numLayers; ++i) layers->push_back(LlamaLayer(c, options));
    norm = register_module("norm", RmsNorm(c.hiddenSize, c.normEps, options));
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const ModelConfig& c, torch::TensorOptions options) : CausalLMImpl(c)
{
    model = register_module("model", LlamaModel(c, options));
    const torch::Tensor shared = c.tieWordEmbeddings ? model->embed_tokens->weight : torch::Tensor();
    lm_head = register_module("lm_head", Linear(c.hiddenSize, c.vocabSize, false, options, shared));
}

torch::Tensor LlamaForCausalLMImpl::hiddenStates(const torch::Tensor& ids, const torch::Tensor& mask, KvCache* cache)
{
    const auto past = cache ? cache->length() : 0;
    const RotaryTables rotary = rotaryTablesFor(m_config.headDim, m_config.ropeTheta, past, ids, mask);
    torch::Tensor h = model->embed_tokens->forward(ids);
    std::size_t index = 0;
    for (const auto& layer : *model->layers) h = runBlock(*layer->as<LlamaLayerImpl>(), index++, h, rotary, mask, cache);
    return model->norm->forward(h);
}

} // namespace loralab
