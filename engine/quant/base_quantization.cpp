// Names of the base-weight quantization formats; see base_quantization.h.
#include "engine/quant/base_quantization.h"

#include "engine/util/error.h"

namespace loralab {

const char* baseQuantizationName(BaseQuantization kind)
{
    switch (kind) {
    case BaseQuantization::Int8: return "int8";
    case BaseQuantization::Nf4: return "nf4";
    case BaseQuantization::Fp4: return "fp4";
    case BaseQuantization::None: break;
    }
    return "none";
}

const char* baseQuantizationChoices() { return "none, int8, nf4 or fp4"; }

BaseQuantization parseBaseQuantization(const std::string& name)
{
    for (const BaseQuantization kind : {BaseQuantization::None, BaseQuantization::Int8, BaseQuantization::Nf4, BaseQuantization::Fp4})
        if (name == baseQuantizationName(kind)) return kind;
    throw Error("unknown base quantization '" + name + "' (use " + baseQuantizationChoices() + ")");
}

} // namespace loralab
