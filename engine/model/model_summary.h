// Parameter counts of a model, broken down by the kind of layer they sit in.
#pragma once

#include "engine/model/causal_lm.h"

#include <cstdint>
#include <map>
#include <string>

namespace loralab {

struct ParameterCounts {
    std::int64_t total = 0;     // every distinct parameter (tied weights once)
    std::int64_t trainable = 0; // those with requires_grad
    std::map<std::string, std::int64_t> byKind; // embedding, attention, mlp, norm, output_head, lora
};

ParameterCounts countParameters(CausalLMImpl& net);

// "embedding", "attention", "mlp", "norm", "output_head" or "lora" for a parameter name.
std::string parameterKind(const std::string& name, const std::string& headName);

} // namespace loralab
