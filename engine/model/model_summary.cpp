// Parameter counting; see model_summary.h.
#include "engine/model/model_summary.h"

namespace loralab {

std::string parameterKind(const std::string& name, const std::string& headName)
{
    const auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
    if (has(".lora_A.") || has(".lora_B.")) return "lora";
    if (name.rfind(headName + ".", 0) == 0) return "output_head";
    if (has("embed_in") || has("embed_tokens")) return "embedding";
    if (has(".attention.") || has(".self_attn.")) return "attention";
    if (has(".mlp.")) return "mlp";
    return "norm";
}

ParameterCounts countParameters(CausalLMImpl& net)
{
    ParameterCounts counts;
    for (const auto& [name, p] : net.uniqueParameters()) {
        counts.total += p.numel();
        if (p.requires_grad()) counts.trainable += p.numel();
        counts.byKind[parameterKind(name, net.headName())] += p.numel();
    }
    // A quantized base weight is held as buffers, yet it is one of the
    // model's weights all the same (frozen).
    for (const auto& [name, linear] : net.linearLayers()) {
        if (!linear->baseQuantized()) continue;
        const std::int64_t n = linear->inFeatures() * linear->outFeatures();
        counts.total += n;
        counts.byKind[parameterKind(name + ".weight", net.headName())] += n;
    }
    return counts;
}

} // namespace loralab
