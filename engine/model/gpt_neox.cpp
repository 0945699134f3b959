// GPT-NeoX forward pass; see gpt_neox.h.
#include "engine/model/gpt_neox.h"

namespace loralab {

GptNeoXAttentionImpl::GptNeoXAttentionImpl(const ModelConfig& c, torch::TensorOptions options)
    : m_heads(c.numHeads), m_headDim(c.headDim)
{
    query_key_value = register_module("query_key_value", Linear(c.hiddenSize, 3 * c.numHeads * c.headDim, c.qkvBias, options));
    dense = register_module("dense", Linear(c.numHeads * c.headDim, c.hiddenSize, c.outputProjBias, options));
}

torch::Tensor GptNeoXAttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask,
                                            KvCache* cache, std::size_t layer)
{
    const auto B = x.size(0);
    const auto T = x.size(1);
    // [B, T, heads, 3 * headDim] -> q, k, v each [B, heads, T, headDim]
    const torch::Tensor qkv = query_key_value->forward(x).view({B, T, m_heads, 3 * m_headDim}).transpose(1, 2);
    auto parts = qkv.split(m_headDim, -1);
    torch::Tensor q = applyRotary(parts[0], rotary);
    torch::Tensor k = applyRotary(parts[1], rotary);
    auto [keys, values] = updateCache(cache, layer, k, parts[2].contiguous());
    const torch::Tensor attended = causalAttention(q, keys, values, mask);
    return dense->forward(attended.transpose(1, 2).reshape({B, T, m_heads * m_headDim}));
}

GptNeoXMlpImpl::GptNeoXMlpImpl(const ModelConfig& c, torch::TensorOptions options) : m_act(c.hiddenAct)
{
    dense_h_to_4h = register_module("dense_h_to_4h", Linear(c.hiddenSize, c.intermediateSize, c.mlpBias, options));
    dense_4h_to_h = register_module("dense_4h_to_h", Linear(c.intermediateSize, c.hiddenSize, c.mlpBias, options));
}

torch::Tensor GptNeoXMlpImpl::forward(const torch::Tensor& x)
{
    return dense_4h_to_h->forward(activation(m_act, dense_h_to_4h->forward(x)));
}

GptNeoXLayerImpl::GptNeoXLayerImpl(const ModelConfig& c, torch::TensorOptions options) : m_parallel(c.parallelResidual)
{
    input_layernorm = register_module("input_layernorm", LayerNorm(c.hiddenSize, c.normEps, options));
    post_attention_layernorm = register_module("post_attention_layernorm", LayerNorm(c.hiddenSize, c.normEps, options));
    attention = register_module("attention", GptNeoXAttention(c, options));
    mlp = register_module("mlp", GptNeoXMlp(c, options));
}

torch::Tensor GptNeoXLayerImpl::forward(const torch::Tensor& x, const RotaryTables& rotary, const torch::Tensor& mask,
                                        KvCache* cache, std::size_t layer)
{
    const torch::Tensor attn = attention->forward(input_layernorm->forward(x), rotary, mask, cache, layer);
    if (m_parallel) return x + attn + mlp->forward(post_attention_layernorm->forward(x));
    const torch::Tensor h = x + attn;
    return h + mlp->forward(post_attention_layernorm->forward(h));
}

GptNeoXModelImpl::GptNeoXModelImpl(const ModelConfig& c, torch::TensorOptions options)
{
    embed_in = register_module("embed_in", Embedding(c.vocabSize, c.hiddenSize, options));
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < c.numLayers; ++i) layers->push_back(GptNeoXLayer(c, options));
    final_layer_norm = register_module("final_layer_norm", LayerNorm(c.hiddenSize, c.normEps, options));
}

GptNeoXForCausalLMImpl::GptNeoXForCausalLMImpl(const ModelConfig& c, torch::TensorOptions options) : CausalLMImpl(c)
{
    gpt_neox = register_module("gpt_neox", GptNeoXModel(c, options));
    const torch::Tensor shared = c.tieWordEmbeddings ? gpt_neox->embed_in->weight : torch::Tensor();
    embed_out = register_module("embed_out", Linear(c.hiddenSize, c.vocabSize, false, options, shared));
}

torch::Tensor GptNeoXForCausalLMImpl::hiddenStates(const torch::Tensor& ids, const torch::Tensor& mask, KvCache* cache)
{
    const auto past = cache ? cache->length() : 0;
    const RotaryTables rotary = rotaryTablesFor(m_config.rotaryDims(), m_config.ropeTheta, past, ids, mask);
    torch::Tensor h = gpt_neox->embed_in->forward(ids);
    std::size_t index = 0;
    for (const auto& layer : *gpt_neox->layers) h = runBlock(*layer->as<GptNeoXLayerImpl>(), index++, h, rotary, mask, cache);
    return gpt_neox->final_layer_norm->forward(h);
}

} // namespace loralab
