// Which format the frozen base weights of the linear layers are kept in
// (QLoRA-style training: quantized base, fp32 LoRA adapters). The names are
// what run configurations, the command line and the window use; this header
// needs no LibTorch, so configuration parsing can use it.
#pragma once

#include "engine/config/choices.h"

namespace loralab {

enum class BaseQuantization {
    None, // the loaded dtype (fp32, bf16, fp16)
    Int8, // LLM.int8's weight format: int8 codes, one absmax per row
    Nf4,  // 4-bit NormalFloat, one absmax per block of 64 values (QLoRA)
    Fp4,  // 4-bit float (1 sign, 2 exponent, 1 mantissa bit), one absmax per block
};
template <>
struct ChoiceList<BaseQuantization> {
    static constexpr const char* what = "base_quantization";
    static constexpr std::array<std::pair<BaseQuantization, const char*>, 4> items = {
        {{BaseQuantization::None, "none"}, {BaseQuantization::Int8, "int8"}, {BaseQuantization::Nf4, "nf4"}, {BaseQuantization::Fp4, "fp4"}}};
};

inline bool isFourBit(BaseQuantization kind) { return kind == BaseQuantization::Nf4 || kind == BaseQuantization::Fp4; }

} // namespace loralab
