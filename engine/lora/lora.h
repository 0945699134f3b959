// LoRA on a CausalLM: choosing target layers the way PEFT does, attaching and
// removing adapters, deciding which parameters train (the whole difference
// between LoRA and full fine-tuning), merging, and PEFT adapter files.
#pragma once

#include "engine/config/run_choices.h"
#include "engine/lora/adapter_config.h"
#include "engine/model/causal_lm.h"

#include <filesystem>
#include <string>
#include <vector>

namespace loralab {


struct LoraTargetInfo {
    std::string module; // full module path, e.g. "gpt_neox.layers.0.attention.dense"
    std::int64_t inFeatures = 0;
    std::int64_t outFeatures = 0;
    std::int64_t rank = 0;
    std::int64_t addedParams = 0; // r * (in + out)
};

// Module paths of the Linear layers the config selects. Names match when
// equal to a target or ending in "." + target; "all-linear" is every Linear
// except the output head; the head is included only when named ("lm_head" or
// "embed_out" both name it, whatever the architecture calls it). A target that
// matches nothing is an error, as in PEFT.
std::vector<std::string> selectLoraTargets(CausalLMImpl& net, const AdapterConfig& config);

// Attaches fresh adapters (PEFT's initialisation) to the selected layers.
std::vector<LoraTargetInfo> applyLora(CausalLMImpl& net, const AdapterConfig& config);
void removeAllLora(CausalLMImpl& net);
void setLoraEnabled(CausalLMImpl& net, bool enabled);
// Every adapter's dropout set to `dropout`, its factors kept (a loaded
// adapter may carry 0, for inference; training uses the run's).
void setLoraDropout(CausalLMImpl& net, double dropout);
// The base model's answer within a scope: adapters off until it ends, then on
// again (also when it ends by an exception).
class AdaptersOff {
public:
    explicit AdaptersOff(CausalLMImpl& net, bool off = true) : m_net(net), m_off(off)
    {
        if (m_off) setLoraEnabled(m_net, false);
    }
    ~AdaptersOff()
    {
        if (m_off) setLoraEnabled(m_net, true);
    }
    AdaptersOff(const AdaptersOff&) = delete;
    AdaptersOff& operator=(const AdaptersOff&) = delete;

private:
    CausalLMImpl& m_net;
    bool m_off;
};
bool hasLora(CausalLMImpl& net);
std::vector<LoraTargetInfo> loraTargets(CausalLMImpl& net);

// Full: every base weight trains. Lora: only the adapters do; base weights
// get requires_grad(false), so they receive no gradient and no optimizer state.
void setTrainable(CausalLMImpl& net, Method method);
std::vector<std::pair<std::string, torch::Tensor>> trainableParameters(CausalLMImpl& net);

void mergeLora(CausalLMImpl& net);
void unmergeLora(CausalLMImpl& net);

// PEFT files: adapter_config.json and adapter_model.safetensors with keys
// "base_model.model.<module>.lora_A.weight". Written atomically.
void saveAdapter(CausalLMImpl& net, const AdapterConfig& config, const std::filesystem::path& dir);
// Attaches the adapter in `dir` (replacing any present) and returns its config.
AdapterConfig loadAdapter(CausalLMImpl& net, const std::filesystem::path& dir);
// The adapter settings now attached to the model, for saving.
AdapterConfig currentAdapterConfig(CausalLMImpl& net, const std::string& baseModel);

// Copies an adapter checkpoint's factors into the adapters `net` already
// carries (the same modules and ranks; shapes are checked). Loading any
// checkpoint goes through loadCheckpointWeights (engine/checkpoint).
void loadAdapterWeights(CausalLMImpl& net, const std::filesystem::path& checkpoint);

// The model's weights with the adapters folded in (W + B·A·scale), on the
// CPU, by checkpoint name, tied weights once, adapter factors left out. The
// model itself is left as it was. An adapter on a weight tied to the input
// embedding cannot be merged and is an Error.
std::vector<std::pair<std::string, torch::Tensor>> mergedWeights(CausalLMImpl& net);

// Writes a full Hugging Face checkpoint (config.json, model.safetensors and the
// tokenizer files of `tokenizerDir`) with the adapters folded into the
// weights. The model itself is left as it was.
void exportMergedModel(CausalLMImpl& net, const std::filesystem::path& tokenizerDir, const std::filesystem::path& outDir);

} // namespace loralab
