// Building blocks shared by the model families: a Linear layer that can carry
// a LoRA adapter, an embedding, RMSNorm, rotary position embeddings, causal
// attention with a padding mask, and the key/value cache used in generation.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/config/run_choices.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loralab {

struct QuantizedWeight; // engine/quant/quantized_linear.h

struct LoraSettings {
    std::int64_t rank = 8;
    double alpha = 16.0;
    double dropout = 0.0;
    bool rsLora = false; // scaling alpha/sqrt(r) instead of alpha/r
    LoraInit init = LoraInit::Kaiming;

    double scaling() const;
};

// Holds one LoRA factor as a module so that its parameter is named
// "<layer>.lora_A.weight", exactly PEFT's file key below "base_model.model.".
class LoraFactorImpl : public torch::nn::Module {
public:
    explicit LoraFactorImpl(torch::Tensor weightInit);
    torch::Tensor weight;
};
TORCH_MODULE(LoraFactor);

// y = x W^T + b [+ (dropout(x) A^T B^T) * scaling]. W is [out, in]. The
// base weight W may be kept quantized (setQuantizedBase): `weight` is then
// undefined and W lives in buffers as codes and statistics.
class LinearImpl : public torch::nn::Module {
public:
    // With `sharedWeight` defined, the layer uses that tensor (tied output
    // head) and does not register it as its own parameter.
    LinearImpl(std::int64_t inFeatures, std::int64_t outFeatures, bool bias, torch::TensorOptions options,
               torch::Tensor sharedWeight = {});

    torch::Tensor forward(const torch::Tensor& x);
    // x W^T + b, without the adapter.
    torch::Tensor baseForward(const torch::Tensor& x);

    std::int64_t inFeatures() const;
    std::int64_t outFeatures() const;
    bool ownsWeight() const { return m_ownsWeight; }
    torch::Device device() const;

    // Replaces the dense base weight by `base` (its tensors become buffers
    // named weight_*; the parameter "weight" is removed). The layer must own
    // its weight and have no merged adapter. Such a layer moves with
    // Module::to(device) only: LibTorch's to(dtype) would convert the codes too.
    void setQuantizedBase(std::shared_ptr<QuantizedWeight> base);
    bool baseQuantized() const { return m_quantized != nullptr; }
    const QuantizedWeight* quantizedBase() const { return m_quantized.get(); }
    // W as a dense tensor: `weight` itself, or the quantized base dequantized
    // to `dtype` (a fresh tensor, no gradient).
    torch::Tensor denseWeight(torch::ScalarType dtype) const;

    // LoRA. A is [r, in], B is [out, r]. Adding freezes nothing by itself:
    // which parameters train is decided when the optimizer is built.
    void addLora(const LoraSettings& settings);
    void removeLora();
    bool hasLora() const { return !m_loraA.is_empty(); }
    const LoraSettings& lora() const { return m_lora; }
    LoraFactor loraA() const { return m_loraA; }
    LoraFactor loraB() const { return m_loraB; }
    // The adapter takes part in forward: present, enabled and not merged.
    bool loraActive() const { return hasLora() && m_loraEnabled && !m_merged; }
    // Switches the adapter's contribution off (the base model's outputs) without removing it.
    void setLoraEnabled(bool enabled) { m_loraEnabled = enabled; }
    bool loraEnabled() const { return m_loraEnabled; }
    // Folds B A scaling into W (and back). A merged layer skips the adapter path.
    // A quantized base cannot take the adapter in: merging it is an Error.
    void mergeLora();
    void unmergeLora();
    bool loraMerged() const { return m_merged; }
    torch::Tensor loraDelta() const; // B A scaling, [out, in], in W's dtype (a quantized base: its compute dtype)
    torch::Tensor loraDelta(torch::ScalarType dtype) const;
    // y + (low B^T) * scaling, low being the adapter's A product of the input.
    torch::Tensor addAdapterOutput(const torch::Tensor& y, const torch::Tensor& low) const;

    torch::Tensor weight; // [out, in]
    torch::Tensor bias;   // [out], undefined without bias

private:
    bool m_ownsWeight = true;
    LoraSettings m_lora;
    LoraFactor m_loraA{nullptr};
    LoraFactor m_loraB{nullptr};
    bool m_loraEnabled = true;
    bool m_merged = false;
    std::shared_ptr<QuantizedWeight> m_quantized;
};
TORCH_MODULE(Linear);

// The outputs of several layers that read the same input (q/k/v, gate/up),
// each exactly layer->forward(x). When every one carries an active adapter
// and no dropout applies, their A factors run as one matmul over x (one
// product forward and two backward instead of one per layer), and so do
// their base weights when they are frozen (LoRA): the first such call lays
// those weights out as consecutive rows of one buffer, each layer's weight a
// view of it. Quantized base weights keep a product each (they are
// dequantized a block of rows at a time, per layer). With dropout, each layer
// keeps its own mask, as PEFT's separate dropout modules do.
std::vector<torch::Tensor> forwardSharedInput(const std::vector<LinearImpl*>& layers, const torch::Tensor& x);

// Fills `t` with random values drawn by `draw` from the CPU generator, also
// when `t` lives on a GPU (drawn into a CPU tensor of its dtype, then copied):
// one seed gives a model or an adapter the same initial values on every device.
void drawOnCpu(torch::Tensor& t, const std::function<void(torch::Tensor&)>& draw);

class EmbeddingImpl : public torch::nn::Module {
public:
    EmbeddingImpl(std::int64_t count, std::int64_t dim, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& ids); // [B, T] -> [B, T, dim]
    torch::Tensor weight;                            // [count, dim]
};
TORCH_MODULE(Embedding);

class LayerNormImpl : public torch::nn::Module {
public:
    LayerNormImpl(std::int64_t dim, double eps, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor weight;
    torch::Tensor bias;

private:
    double m_eps;
};
TORCH_MODULE(LayerNorm);

// Normalises in fp32 whatever the input dtype, as the reference does.
class RmsNormImpl : public torch::nn::Module {
public:
    RmsNormImpl(std::int64_t dim, double eps, torch::TensorOptions options);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor weight;

private:
    double m_eps;
};
TORCH_MODULE(RmsNorm);

torch::Tensor activation(const std::string& name, const torch::Tensor& x);

// Rotary tables for absolute positions: cos and sin, each [T, rotaryDims], in fp32.
struct RotaryTables {
    torch::Tensor cos;
    torch::Tensor sin;
};
RotaryTables rotaryTables(std::int64_t rotaryDims, double theta, std::int64_t start, std::int64_t length,
                          torch::Device device);
// The same for each token's own position: positions [B, T] int64 -> cos and
// sin [B, 1, T, rotaryDims] (packed sequences, whose examples restart at 0).
RotaryTables rotaryTablesAt(std::int64_t rotaryDims, double theta, const torch::Tensor& positions);
// The positions a [B, 1, T, T] packed attention mask gives its tokens: how
// many tokens before each one it sees.
torch::Tensor positionsOfPackedMask(const torch::Tensor& sees);
// The rotary tables of a forward pass: absolute positions from `past`, or,
// for a packed mask ([B, 1, T, T]), each example's own.
RotaryTables rotaryTablesFor(std::int64_t rotaryDims, double theta, std::int64_t past, const torch::Tensor& ids,
                             const torch::Tensor& mask);
// Rotates the first rotaryDims of the last dimension of x [B, heads, T, headDim].
torch::Tensor applyRotary(const torch::Tensor& x, const RotaryTables& tables);

// Per-layer keys and values seen so far, [B, kvHeads, S, headDim] each.
struct KvCache {
    std::vector<torch::Tensor> keys;
    std::vector<torch::Tensor> values;
    std::int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
};

// Appends this step's k, v to the cache for `layer` (when given) and returns the full k, v.
std::pair<torch::Tensor, torch::Tensor> updateCache(KvCache* cache, std::size_t layer, torch::Tensor k, torch::Tensor v);

// Scaled dot-product attention with a causal mask. q [B, H, T, D]; k, v
// [B, Hkv, S, D] with S >= T (earlier positions come from the cache).
// keyMask [B, S] (1 = real token, 0 = padding) may be undefined; a
// [B, 1, T, S] boolean mask (packed sequences) says itself which query sees
// which key.
torch::Tensor causalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& keyMask);

} // namespace loralab
