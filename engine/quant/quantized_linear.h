// A frozen base weight kept quantized (int8, NF4 or FP4) and the product a
// linear layer computes with it, y = x W^T + b. The product dequantizes W a
// block of output rows at a time (kQuantizedChunkElements values, 16 MiB in
// fp32) and drops each block once its part of y is done; backward does the
// same for dX = dY W. So a step holds at most one block of a dequantized
// weight, whatever the layer's size, and keeps nothing of it for backward (no
// input is saved either: the codes receive no gradient). A block of rows is
// large enough for the products to run at full speed (thousands of rows of a
// 7B model's layers, the whole of most smaller ones).
#pragma once

#include "engine/quant/base_quantization.h"
#include "engine/quant/quant_format.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

// Dequantized values one block of rows holds at most (a single row may hold more).
constexpr std::int64_t kQuantizedChunkElements = std::int64_t{1} << 22;

struct QuantizedWeight {
    BaseQuantization kind = BaseQuantization::None;
    torch::ScalarType computeDtype = torch::kFloat32; // the products run in it: fp32, bf16 or fp16
    Int8Weight int8;                                  // kind Int8
    FourBitWeight fourBit;                            // kind Nf4 or Fp4

    std::int64_t rows() const; // out features
    std::int64_t cols() const; // in features
    torch::Device device() const;
    // Codes and statistics, in bytes.
    std::int64_t bytes() const;
    // Rows a block must start at a multiple of (4-bit blocks run across rows).
    std::int64_t rowStep() const;
    // Rows [first, first + count) dequantized, [count, cols] in `dtype`.
    torch::Tensor dequantizeRows(std::int64_t first, std::int64_t count, torch::ScalarType dtype) const;
    torch::Tensor dequantize(torch::ScalarType dtype) const { return dequantizeRows(0, rows(), dtype); }
    // Every tensor the weight consists of, with the buffer name a layer registers it under.
    std::vector<std::pair<std::string, torch::Tensor*>> tensors();
};

// Quantizes a dense [out, in] weight (on its device). `what` names it in errors.
QuantizedWeight quantizeWeight(const torch::Tensor& weight, BaseQuantization kind, bool doubleQuant, std::int64_t blockSize,
                               torch::ScalarType computeDtype, const std::string& what);

// Rows of `w` one block of the product dequantizes: as many as
// kQuantizedChunkElements values hold, a multiple of its row step.
std::int64_t quantizedChunkRows(const QuantizedWeight& w);
std::int64_t quantizedChunkRows(std::int64_t rows, std::int64_t cols, std::int64_t rowStep);

// x [..., in] -> [..., out] in x's dtype; the product runs in w's compute
// dtype. bias [out] may be undefined. Autograd gives x and bias their
// gradients and the weight none.
torch::Tensor quantizedLinear(const torch::Tensor& x, const std::shared_ptr<const QuantizedWeight>& w,
                              const torch::Tensor& bias);

} // namespace loralab
