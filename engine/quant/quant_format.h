// The quantized weight formats, equal byte for byte to what bitsandbytes
// 0.50.2 makes on the CPU, and their dequantization:
//   int8  LLM.int8's weight format (int8_vectorwise_quant): each row scaled by
//         127 / its absmax and rounded half to even; value = code * absmax / 127.
//   NF4 / FP4 (quantize_4bit): the weight flattened row-major and cut into
//         blocks of `blockSize` values (blocks run across rows when a row is
//         not a multiple of it); each value scaled by 1 / its block's absmax
//         and rounded to the nearest of 16 code values, a value exactly between
//         two going to the lower one; two codes a byte, the first in the high
//         nibble. With double quantization (compress_statistics) the block
//         absmax values, less their mean, are themselves quantized to 8 bits in
//         blocks of 256 with bitsandbytes' dynamic code map.
// Quantization runs on the CPU (once, when a model is prepared); the
// dequantization of a range of rows runs where the weight is: a direct loop
// on the CPU, LibTorch operations elsewhere (CUDA).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace loralab {

enum class FourBitType { Nf4, Fp4 };

struct Int8Weight {
    torch::Tensor codes; // [out, in] int8
    torch::Tensor scale; // [out] fp32: the row absmax (0 for a row of zeros, whose codes are 0)
};

// bitsandbytes' QuantState of a 4-bit weight.
struct FourBitWeight {
    static constexpr std::int64_t kNestedBlockSize = 256;

    FourBitType type = FourBitType::Nf4;
    std::int64_t rows = 0;   // shape [rows, cols], as quantized
    std::int64_t cols = 0;
    std::int64_t blockSize = 64;
    torch::Tensor packed;    // [(rows * cols + 1) / 2, 1] uint8; an odd count ends with the code of 0.0
    torch::Tensor code;      // [16] fp32: the value of each nibble (QuantState.code; FP4 nibble 8 is +0.0)
    torch::Tensor absmax;    // [blocks] fp32, or uint8 codes of (absmax - offset) when nested
    bool nested = false;
    torch::Tensor offset;       // [1] fp32: the mean of the block absmax values (nested)
    torch::Tensor nestedAbsmax; // [ceil(blocks / 256)] fp32 (nested)
    torch::Tensor nestedCode;   // [256] fp32: the dynamic code map (nested)

    std::int64_t numel() const { return rows * cols; }
    std::int64_t blocks() const { return (numel() + blockSize - 1) / blockSize; }
};

// The 16 code values of a 4-bit type in nibble order (bitsandbytes' get_4bit_type).
torch::Tensor fourBitCode(FourBitType type);
// bitsandbytes' signed 8-bit dynamic code map (create_dynamic_map), 256 ascending values.
torch::Tensor dynamicCodeMap();

// `weight` is a 2-D floating-point tensor on any device; the result is on the
// same device. Non-finite values are an Error (`what` names the weight).
Int8Weight quantizeInt8(const torch::Tensor& weight, const std::string& what);
FourBitWeight quantizeFourBit(const torch::Tensor& weight, FourBitType type, bool doubleQuant, std::int64_t blockSize,
                              const std::string& what);

// Rows [first, first + count) of the dequantized weight, [count, cols] in
// `dtype` (values are formed in fp32 and rounded once, as bitsandbytes does).
torch::Tensor dequantizeInt8Rows(const Int8Weight& q, std::int64_t first, std::int64_t count, torch::ScalarType dtype);
torch::Tensor dequantizeFourBitRows(const FourBitWeight& q, std::int64_t first, std::int64_t count, torch::ScalarType dtype);
// The same with LibTorch operations only (the path a GPU takes; tested on the CPU).
torch::Tensor dequantizeFourBitRowsWithTorchOps(const FourBitWeight& q, std::int64_t first, std::int64_t count,
                                                torch::ScalarType dtype);
// The fp32 absmax of blocks [first, first + count), undoing double quantization.
torch::Tensor blockAbsmax(const FourBitWeight& q, std::int64_t first, std::int64_t count);

// Rows a range handed to dequantizeFourBitRows must start at a multiple of,
// so that it starts on a block boundary.
std::int64_t fourBitRowStep(const FourBitWeight& q);

} // namespace loralab
