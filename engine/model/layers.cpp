// Model building blocks; see layers.h.
#include "engine/model/layers.h"

#include "engine/quant/quantized_linear.h"
#include "engine/util/error.h"
#include "engine/util/torch_compat.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace loralab {

double LoraSettings::scaling() const
{
    return rsLora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

LoraFactorImpl::LoraFactorImpl(torch::Tensor weightInit) { weight = register_parameter("weight", std::move(weightInit)); }

LinearImpl::LinearImpl(std::int64_t inFeatures, std::int64_t outFeatures, bool withBias, torch::TensorOptions options,
                       torch::Tensor sharedWeight)
{
    if (sharedWeight.defined()) {
        weight = sharedWeight;
        m_ownsWeight = false;
    } else {
        weight = register_parameter("weight", torch::empty({outFeatures, inFeatures}, options));
    }
    if (withBias) bias = register_parameter("bias", torch::empty({outFeatures}, options));
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x)
{
    torch::Tensor y = baseForward(x);
    if (!hasLora() || !m_loraEnabled || m_merged) return y;
    const torch::Tensor in = m_lora.dropout > 0.0 ? torch::dropout(x, m_lora.dropout, is_training()) : x;
    return addAdapterOutput(y, torch::nn::functional::linear(in.to(m_loraA->weight.scalar_type()), m_loraA->weight));
}

torch::Tensor LinearImpl::baseForward(const torch::Tensor& x)
{
    if (m_quantized) return quantizedLinear(x, m_quantized, bias);
    return torch::nn::functional::linear(x, weight, bias);
}

std::int64_t LinearImpl::inFeatures() const { return m_quantized ? m_quantized->cols() : weight.size(1); }

std::int64_t LinearImpl::outFeatures() const { return m_quantized ? m_quantized->rows() : weight.size(0); }

torch::Device LinearImpl::device() const { return m_quantized ? m_quantized->device() : weight.device(); }

void LinearImpl::setQuantizedBase(std::shared_ptr<QuantizedWeight> base)
{
    if (!m_ownsWeight) throw Error("a weight tied to the input embedding cannot be quantized");
    if (m_merged) throw Error("the layer has its adapter merged into the weight; unmerge it before quantizing");
    if (m_quantized) throw Error("the layer's base weight is quantized already");
    if (base->rows() != outFeatures() || base->cols() != inFeatures())
        throw Error("internal: a quantized weight of another shape");
    parameters_.erase("weight");
    weight = torch::Tensor();
    for (auto& [name, tensor] : base->tensors()) register_buffer(name, *tensor);
    m_quantized = std::move(base);
}

torch::Tensor LinearImpl::denseWeight(torch::ScalarType dtype) const
{
    if (m_quantized) return m_quantized->dequantize(dtype);
    return weight;
}

torch::Tensor LinearImpl::addAdapterOutput(const torch::Tensor& y, const torch::Tensor& low) const
{
    const torch::Tensor up = torch::nn::functional::linear(low, m_loraB->weight);
    return y + (up * m_lora.scaling()).to(y.scalar_type());
}

namespace {

// The layers' tensors (weights or biases) as one tensor of all their rows
// when they are consecutive rows of one storage; undefined otherwise.
torch::Tensor adjacentRows(const std::vector<LinearImpl*>& layers, torch::Tensor LinearImpl::*member)
{
    const torch::Tensor& first = layers.front()->*member;
    if (!first.defined() || !first.is_contiguous()) return {};
    const std::int64_t rowSize = first.numel() / std::max<std::int64_t>(1, first.size(0));
    std::int64_t rows = 0;
    for (const LinearImpl* layer : layers) {
        const torch::Tensor& t = layer->*member;
        if (!t.defined() || !t.is_contiguous() || t.scalar_type() != first.scalar_type() || t.device() != first.device() ||
            t.numel() != t.size(0) * rowSize || !t.storage().is_alias_of(first.storage()) ||
            t.storage_offset() != first.storage_offset() + rows * rowSize)
            return {};
        rows += t.size(0);
    }
    std::vector<std::int64_t> sizes = first.sizes().vec();
    sizes[0] = rows;
    return first.as_strided(sizes, first.strides());
}

// Copies the layers' tensors into one buffer, each layer's now a view of its rows.
torch::Tensor makeAdjacentRows(const std::vector<LinearImpl*>& layers, torch::Tensor LinearImpl::*member)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> parts;
    for (const LinearImpl* layer : layers) parts.push_back(layer->*member);
    const torch::Tensor buffer = torch::cat(parts, 0);
    std::int64_t offset = 0;
    for (LinearImpl* layer : layers) {
        torch::Tensor& t = layer->*member;
        const std::int64_t rows = t.size(0);
        t.set_data(buffer.narrow(0, offset, rows));
        offset += rows;
    }
    return buffer;
}

// The frozen base weights (and biases) of layers that read one input, as one
// weight and bias, so that their products run as one; undefined weight when
// any trains, is tied, or only some have a bias. The first call lays the
// weights out as consecutive rows of one buffer (each layer's a view of it);
// whatever later gives a weight new storage (a dtype change) makes the next
// call lay them out again.
std::pair<torch::Tensor, torch::Tensor> frozenBase(const std::vector<LinearImpl*>& layers)
{
    bool frozen = true;
    int biases = 0;
    for (const LinearImpl* layer : layers) {
        frozen = frozen && !layer->baseQuantized() && layer->ownsWeight() && !layer->weight.requires_grad() &&
                 !(layer->bias.defined() && layer->bias.requires_grad());
        biases += layer->bias.defined();
    }
    if (!frozen || (biases != 0 && biases != static_cast<int>(layers.size()))) return {};
    torch::Tensor weight = adjacentRows(layers, &LinearImpl::weight);
    if (!weight.defined()) weight = makeAdjacentRows(layers, &LinearImpl::weight);
    torch::Tensor bias;
    if (biases > 0) {
        bias = adjacentRows(layers, &LinearImpl::bias);
        if (!bias.defined()) bias = makeAdjacentRows(layers, &LinearImpl::bias);
    }
    return {weight, bias};
}

} // namespace

void drawOnCpu(torch::Tensor& t, const std::function<void(torch::Tensor&)>& draw)
{
    torch::NoGradGuard noGrad;
    if (!t.is_cuda()) { // the CPU, and the meta device (shapes only: nothing to draw into)
        draw(t);
        return;
    }
    torch::Tensor cpu = torch::empty(t.sizes(), t.options().device(torch::kCPU));
    draw(cpu);
    t.copy_(cpu);
}

std::vector<torch::Tensor> forwardSharedInput(const std::vector<LinearImpl*>& layers, const torch::Tensor& x)
{
    bool batched = layers.size() > 1;
    for (const LinearImpl* layer : layers)
        batched = batched && layer->loraActive() && (layer->lora().dropout == 0.0 || !layer->is_training());
    std::vector<torch::Tensor> out;
    out.reserve(layers.size());
    if (!batched) {
        for (LinearImpl* layer : layers) out.push_back(layer->forward(x));
        return out;
    }
    std::vector<torch::Tensor> factorsA;
    factorsA.reserve(layers.size());
    for (const LinearImpl* layer : layers) factorsA.push_back(layer->loraA()->weight);
    const torch::Tensor stackedA = torch::cat(factorsA, 0); // [sum of ranks, in]
    const torch::Tensor low = torch::nn::functional::linear(x.to(stackedA.scalar_type()), stackedA);
    // With frozen base weights (LoRA), their products run as one too.
    // (Split rather than narrowed: one backward node gathers the layers' gradients.)
    const auto [baseWeight, baseBias] = frozenBase(layers);
    std::vector<torch::Tensor> base;
    if (baseWeight.defined()) {
        std::vector<std::int64_t> widths;
        for (const LinearImpl* layer : layers) widths.push_back(layer->outFeatures());
        base = torch::nn::functional::linear(x, baseWeight, baseBias).split_with_sizes(widths, -1);
    }
    std::vector<std::int64_t> ranks;
    for (const LinearImpl* layer : layers) ranks.push_back(layer->loraA()->weight.size(0));
    const std::vector<torch::Tensor> lows = low.split_with_sizes(ranks, -1);
    for (std::size_t i = 0; i < layers.size(); ++i) {
        LinearImpl* layer = layers[i];
        const torch::Tensor y = base.empty() ? layer->baseForward(x) : base[i];
        out.push_back(layer->addAdapterOutput(y, lows[i]));
    }
    return out;
}

void LinearImpl::addLora(const LoraSettings& settings)
{
    if (settings.rank <= 0) throw Error("LoRA rank must be positive");
    if (hasLora()) removeLora();
    m_lora = settings;
    // Adapters train in fp32 even over low-precision or quantized base weights.
    const auto options = torch::TensorOptions().device(device()).dtype(torch::kFloat32).requires_grad(true);
    torch::Tensor a = torch::empty({settings.rank, inFeatures()}, options.requires_grad(false));
    torch::Tensor b = torch::zeros({outFeatures(), settings.rank}, options.requires_grad(false));
    if (settings.init == LoraInit::Kaiming) {
        // PEFT's default: kaiming_uniform_(a=sqrt(5)) on A, i.e. U(-1/sqrt(in), 1/sqrt(in)).
        const double bound = 1.0 / std::sqrt(static_cast<double>(inFeatures()));
        drawOnCpu(a, [bound](torch::Tensor& t) { t.uniform_(-bound, bound); });
    } else {
        const double std = 1.0 / static_cast<double>(settings.rank);
        drawOnCpu(a, [std](torch::Tensor& t) { t.normal_(0.0, std); });
    }
    m_loraA = register_module("lora_A", LoraFactor(a.requires_grad_(true)));
    m_loraB = register_module("lora_B", LoraFactor(b.requires_grad_(true)));
    m_loraEnabled = true;
    m_merged = false;
}

void LinearImpl::removeLora()
{
    if (!hasLora()) return;
    if (m_merged) unmergeLora();
    unregister_module("lora_A");
    unregister_module("lora_B");
    m_loraA = LoraFactor(nullptr);
    m_loraB = LoraFactor(nullptr);
}

torch::Tensor LinearImpl::loraDelta() const
{
    return loraDelta(m_quantized ? m_quantized->computeDtype : weight.scalar_type());
}

torch::Tensor LinearImpl::loraDelta(torch::ScalarType dtype) const
{
    torch::NoGradGuard noGrad;
    return (torch::matmul(m_loraB->weight, m_loraA->weight) * m_lora.scaling()).to(dtype);
}

void LinearImpl::mergeLora()
{
    if (!hasLora() || m_merged) return;
    if (m_quantized)
        throw Error("the base weight is quantized and cannot take the adapter in; export a merged model instead "
                    "(it dequantizes the weights)");
    torch::NoGradGuard noGrad;
    weight.add_(loraDelta());
    m_merged = true;
}

void LinearImpl::unmergeLora()
{
    if (!hasLora() || !m_merged) return;
    torch::NoGradGuard noGrad;
    weight.sub_(loraDelta());
    m_merged = false;
}

EmbeddingImpl::EmbeddingImpl(std::int64_t count, std::int64_t dim, torch::TensorOptions options)
{
    weight = register_parameter("weight", torch::empty({count, dim}, options));
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }

LayerNormImpl::LayerNormImpl(std::int64_t dim, double eps, torch::TensorOptions options) : m_eps(eps)
{
    weight = register_parameter("weight", torch::ones({dim}, options));
    bias = register_parameter("bias", torch::zeros({dim}, options));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x)
{
    return torch::layer_norm(x, {weight.size(0)}, weight, bias, m_eps);
}

RmsNormImpl::RmsNormImpl(std::int64_t dim, double eps, torch::TensorOptions options) : m_eps(eps)
{
    weight = register_parameter("weight", torch::ones({dim}, options));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x)
{
    const torch::Tensor h = x.to(torch::kFloat32);
    const torch::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
    return weight * (h * torch::rsqrt(variance + m_eps)).to(x.scalar_type());
}

torch::Tensor activation(const std::string& name, const torch::Tensor& x)
{
    if (name == "gelu") return torch::gelu(x);
    if (name == "silu") return torch::silu(x);
    if (name == "relu") return torch::relu(x);
    return torch::gelu(x, "tanh"); // gelu_new, gelu_fast, gelu_pytorch_tanh
}

namespace {

// theta^(-2i / rotaryDims) for i < rotaryDims / 2, fp32.
torch::Tensor inverseFrequencies(std::int64_t rotaryDims, double theta, torch::Device device)
{
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    const torch::Tensor exponents = torch::arange(0, rotaryDims, 2, f32.dtype(torch::kInt64)).to(torch::kFloat32) /
                                    static_cast<double>(rotaryDims);
    return 1.0 / torch::pow(theta, exponents);
}

} // namespace

RotaryTables rotaryTables(std::int64_t rotaryDims, double theta, std::int64_t start, std::int64_t length,
                          torch::Device device)
{
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    const torch::Tensor invFreq = inverseFrequencies(rotaryDims, theta, device);
    const torch::Tensor positions = torch::arange(start, start + length, f32.dtype(torch::kInt64)).to(torch::kFloat32);
    const torch::Tensor freqs = torch::outer(positions, invFreq);
    const torch::Tensor emb = torch::cat({freqs, freqs}, -1);
    return {emb.cos(), emb.sin()};
}

RotaryTables rotaryTablesAt(std::int64_t rotaryDims, double theta, const torch::Tensor& positions)
{
    const torch::Tensor invFreq = inverseFrequencies(rotaryDims, theta, positions.device());
    const torch::Tensor freqs = positions.to(torch::kFloat32).unsqueeze(-1) * invFreq; // [B, T, rd/2]
    const torch::Tensor emb = torch::cat({freqs, freqs}, -1).unsqueeze(1);             // [B, 1, T, rd]
    return {emb.cos(), emb.sin()};
}

torch::Tensor positionsOfPackedMask(const torch::Tensor& sees) { return sees.select(1, 0).sum(-1).sub(1).clamp_min(0); }

RotaryTables rotaryTablesFor(std::int64_t rotaryDims, double theta, std::int64_t past, const torch::Tensor& ids,
                             const torch::Tensor& mask)
{
    if (mask.defined() && mask.dim() == 4) return rotaryTablesAt(rotaryDims, theta, positionsOfPackedMask(mask));
    return rotaryTables(rotaryDims, theta, past, ids.size(1), ids.device());
}

namespace {

torch::Tensor rotateHalf(const torch::Tensor& x)
{
    const auto half = x.size(-1) / 2;
    return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

} // namespace

torch::Tensor applyRotary(const torch::Tensor& x, const RotaryTables& tables)
{
    const auto rd = tables.cos.size(-1);
    const torch::Tensor cos = tables.cos.to(x.scalar_type());
    const torch::Tensor sin = tables.sin.to(x.scalar_type());
    if (rd == x.size(-1)) return x * cos + rotateHalf(x) * sin;
    const torch::Tensor rot = x.narrow(-1, 0, rd);
    const torch::Tensor pass = x.narrow(-1, rd, x.size(-1) - rd);
    return torch::cat({rot * cos + rotateHalf(rot) * sin, pass}, -1);
}

std::pair<torch::Tensor, torch::Tensor> updateCache(KvCache* cache, std::size_t layer, torch::Tensor k, torch::Tensor v)
{
    if (!cache) return {k, v};
    if (cache->keys.size() <= layer) {
        cache->keys.resize(layer + 1);
        cache->values.resize(layer + 1);
    }
    auto& ck = cache->keys[layer];
    auto& cv = cache->values[layer];
    ck = ck.defined() ? torch::cat({ck, k}, 2) : k;
    cv = cv.defined() ? torch::cat({cv, v}, 2) : v;
    return {ck, cv};
}

torch::Tensor causalAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& keyMask)
{
    const auto heads = q.size(1);
    const auto kvHeads = k.size(1);
    const auto T = q.size(2);
    const auto S = k.size(2);
    torch::Tensor keys = k;
    torch::Tensor values = v;
    if (kvHeads != heads) {
        keys = k.repeat_interleave(heads / kvHeads, 1);
        values = v.repeat_interleave(heads / kvHeads, 1);
    }
    // allowed[t, s]: query t (absolute position S - T + t) may see key s;
    // undefined for plain causal attention, which the fused kernels take as is.
    torch::Tensor allowed;
    if (keyMask.defined() && keyMask.dim() == 4) {
        allowed = keyMask;
    } else if (keyMask.defined() || S != T) {
        const auto boolOpts = torch::TensorOptions().dtype(torch::kBool).device(q.device());
        allowed = torch::ones({T, S}, boolOpts).tril(S - T).view({1, 1, T, S});
        if (keyMask.defined()) allowed = allowed & keyMask.to(torch::kBool).view({keyMask.size(0), 1, 1, S});
    }
    return compat::scaledDotProductAttention(q, keys, values, allowed);
}

} // namespace loralab
