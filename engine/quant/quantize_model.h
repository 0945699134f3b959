// Quantized frozen base weights for a whole model (QLoRA-style training):
// the base weight of every linear layer except the output head becomes
// int8, NF4 or FP4 codes with their statistics, held as buffers, so nothing
// trains them; LoRA adapters on top train in fp32 as over any base. The head,
// embeddings and norms stay as loaded (as bitsandbytes and transformers leave
// lm_head in full precision). Also the bytes such a model holds, measured and
// estimated.
#pragma once

#include "engine/model/causal_lm.h"
#include "engine/quant/base_quantization.h"

#include <torch/types.h>

#include <cstdint>

namespace loralab {

struct QuantizationOptions {
    BaseQuantization kind = BaseQuantization::None;
    bool doubleQuant = false;                         // 4-bit: quantize the block absmax values too (QLoRA)
    torch::ScalarType computeDtype = torch::kFloat32; // the dtype products run in: fp32 or bf16 (fp16 too)
    std::int64_t blockSize = 64;                      // 4-bit: values per absmax (32, 64, ..., 4096)
};

struct QuantizationSummary {
    std::int64_t layers = 0;         // linear layers whose base weight was quantized
    std::int64_t denseBytes = 0;     // their weights before
    std::int64_t quantizedBytes = 0; // their codes and statistics after
};

// Quantizes the frozen base weights of `net` in place, layer by layer (the
// dense weight of a layer is released before the next is quantized). Apply
// it after loading and before attaching LoRA (applyLora, loadAdapter), or
// with adapters attached (they are kept); a layer with a merged adapter, or
// one already quantized, is an Error. Kind None changes nothing. Afterwards
// full fine-tuning is refused (setTrainable), an adapter cannot be merged
// into the weights (mergeLora), and exportMergedModel writes dequantized
// weights with the adapters added, in the dtype of the model's other weights.
QuantizationSummary quantizeFrozenBase(CausalLMImpl& net, const QuantizationOptions& options);

// Whether any layer of `net` holds a quantized base weight.
bool hasQuantizedBase(CausalLMImpl& net);

// The bytes of every weight `net` holds now: its parameters (a tied weight
// once) and the codes and statistics of quantized base weights. This is what
// heldMemory's weightBytes should be for a model with a quantized base.
std::int64_t modelWeightBytes(CausalLMImpl& net);

// The bytes a [rows, cols] base weight takes quantized with `options`.
std::int64_t quantizedWeightBytes(std::int64_t rows, std::int64_t cols, const QuantizationOptions& options);

struct QuantizedMemoryEstimate {
    // Every weight of the model once quantized with `options` (what
    // modelWeightBytes gives after quantizeFrozenBase).
    std::int64_t weightBytes = 0;
    // What a quantized product holds beside its input and output: the largest
    // dequantized block of rows (with its fp32 staging off the CPU).
    std::int64_t scratchBytes = 0;
};

// From shapes alone (a model on the meta device will do), for `net` as
// loaded or already quantized, training on `device`.
QuantizedMemoryEstimate estimateQuantizedMemory(CausalLMImpl& net, const QuantizationOptions& options, torch::Device device);

} // namespace loralab
