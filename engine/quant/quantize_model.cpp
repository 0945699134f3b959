// Quantized frozen base weights of a model, and their bytes; see quantize_model.h.
#include "engine/quant/quantize_model.h"

#include "engine/quant/quantized_linear.h"
#include "engine/util/error.h"

#include <torch/torch.h>

#include <numeric>
#include <set>

namespace loralab {
namespace {

// The layers quantizeFrozenBase quantizes: every linear layer except the
// output head (a tied weight is the embedding's and is never quantized).
bool quantizedLayer(CausalLMImpl& net, const std::string& name, const LinearImpl& linear)
{
    return name != net.headName() && linear.ownsWeight();
}

std::int64_t elementBytes(torch::ScalarType type) { return static_cast<std::int64_t>(c10::elementSize(type)); }

void checkQuantizationOptions(const QuantizationOptions& o)
{
    if (o.computeDtype != torch::kFloat32 && o.computeDtype != torch::kBFloat16 && o.computeDtype != torch::kFloat16)
        throw Error(std::string("a quantized base computes in fp32, bf16 or fp16, not ") + c10::toString(o.computeDtype));
    if (isFourBit(o.kind) && (o.blockSize < 32 || o.blockSize > 4096 || (o.blockSize & (o.blockSize - 1)) != 0))
        throw Error("4-bit block size " + std::to_string(o.blockSize) + " is not one of 32, 64, 128, ..., 4096");
}

std::int64_t fourBitRowStepOf(std::int64_t cols, std::int64_t blockSize) { return blockSize / std::gcd(cols, blockSize); }

// What one product holds beside x and y: the dequantized block and, where
// LibTorch operations form it (off the CPU, and int8 everywhere), their fp32
// values and the int64 byte indices of a 4-bit block.
std::int64_t scratchOf(std::int64_t rows, std::int64_t cols, const QuantizationOptions& o, bool onCpu)
{
    const std::int64_t step = o.kind == BaseQuantization::Int8 ? 1 : fourBitRowStepOf(cols, o.blockSize);
    const std::int64_t values = quantizedChunkRows(rows, cols, step) * cols;
    const std::int64_t staged = o.computeDtype == torch::kFloat32 ? 0 : elementBytes(o.computeDtype);
    if (o.kind == BaseQuantization::Int8) return values * (4 + staged);
    return onCpu ? values * elementBytes(o.computeDtype) : values * (4 + 4 + staged);
}

} // namespace

QuantizationSummary quantizeFrozenBase(CausalLMImpl& net, const QuantizationOptions& options)
{
    QuantizationSummary summary;
    if (options.kind == BaseQuantization::None) return summary;
    checkQuantizationOptions(options);
    auto layers = net.linearLayers();
    torch::NoGradGuard noGrad;
    // Everything that could refuse is checked first, so that a refusal leaves
    // the model as it was.
    for (auto& [name, linear] : layers) {
        if (!quantizedLayer(net, name, *linear)) continue;
        if (linear->baseQuantized()) throw Error("the base weight of " + name + " is quantized already");
        if (linear->loraMerged())
            throw Error(name + " has its adapter merged into the base weight; unmerge it before quantizing");
        if (!torch::isfinite(linear->weight).all().item<bool>())
            throw Error(name + ": the weight holds inf or NaN values, which cannot be quantized");
    }
    for (auto& [name, linear] : layers) {
        if (!quantizedLayer(net, name, *linear)) continue;
        summary.denseBytes += linear->weight.numel() * static_cast<std::int64_t>(linear->weight.element_size());
        auto q = std::make_shared<QuantizedWeight>(
            quantizeWeight(linear->weight, options.kind, options.doubleQuant, options.blockSize, options.computeDtype, name));
        summary.quantizedBytes += q->bytes();
        linear->setQuantizedBase(std::move(q));
        ++summary.layers;
    }
    return summary;
}

bool hasQuantizedBase(CausalLMImpl& net)
{
    for (const auto& [name, linear] : net.linearLayers())
        if (linear->baseQuantized()) return true;
    return false;
}

std::int64_t modelWeightBytes(CausalLMImpl& net)
{
    std::int64_t total = 0;
    for (const auto& [name, p] : net.uniqueParameters()) total += p.numel() * static_cast<std::int64_t>(p.element_size());
    for (const auto& [name, linear] : net.linearLayers())
        if (linear->baseQuantized()) total += linear->quantizedBase()->bytes();
    return total;
}

std::int64_t quantizedWeightBytes(std::int64_t rows, std::int64_t cols, const QuantizationOptions& options)
{
    const std::int64_t n = rows * cols;
    switch (options.kind) {
    case BaseQuantization::None: return n * elementBytes(options.computeDtype);
    case BaseQuantization::Int8: return n + rows * 4; // codes, fp32 row absmax
    case BaseQuantization::Nf4:
    case BaseQuantization::Fp4: break;
    }
    const std::int64_t blocks = (n + options.blockSize - 1) / options.blockSize;
    const std::int64_t packed = (n + 1) / 2;
    const std::int64_t codeBook = 16 * 4;
    if (!options.doubleQuant) return packed + codeBook + blocks * 4;
    const std::int64_t groups = (blocks + FourBitWeight::kNestedBlockSize - 1) / FourBitWeight::kNestedBlockSize;
    // uint8 block codes, the offset, fp32 group absmax, the 256-value map.
    return packed + codeBook + blocks + 4 + groups * 4 + FourBitWeight::kNestedBlockSize * 4;
}

QuantizedMemoryEstimate estimateQuantizedMemory(CausalLMImpl& net, const QuantizationOptions& options, torch::Device device)
{
    QuantizedMemoryEstimate e;
    if (options.kind == BaseQuantization::None) {
        e.weightBytes = modelWeightBytes(net);
        return e;
    }
    const bool onCpu = device.is_cpu();
    std::set<const void*> replaced;
    for (const auto& [name, linear] : net.linearLayers()) {
        if (!linear->baseQuantized() && !quantizedLayer(net, name, *linear)) continue;
        if (linear->weight.defined()) replaced.insert(linear->weight.unsafeGetTensorImpl());
        e.weightBytes += quantizedWeightBytes(linear->outFeatures(), linear->inFeatures(), options);
        e.scratchBytes = std::max(e.scratchBytes, scratchOf(linear->outFeatures(), linear->inFeatures(), options, onCpu));
    }
    for (const auto& [name, p] : net.uniqueParameters())
        if (!replaced.count(p.unsafeGetTensorImpl())) e.weightBytes += p.numel() * static_cast<std::int64_t>(p.element_size());
    return e;
}

} // namespace loralab
