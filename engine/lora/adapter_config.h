// PEFT's adapter_config.json for LoRA adapters: what LoRA Lab reads from
// adapters made in Python and writes so that PEFT loads LoRA Lab's adapters.
// Torch-free so that the fuzzers can drive the parser.
#pragma once

#include "engine/config/run_choices.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace loralab {

// What adapter files call the output head of every architecture: transformers
// >= 5 and PEFT name it lm_head (GPT-NeoX checkpoints call the module
// embed_out, and LoRA Lab's GPT-NeoX model keeps that name for the
// checkpoints' sake). Both spellings are read; lm_head is written.
inline constexpr const char* kAdapterHeadName = "lm_head";

struct AdapterConfig {
    std::int64_t rank = 8;
    double alpha = 16.0;
    double dropout = 0.0;
    bool useRsLora = false;
    // Module-name suffixes ("q_proj"), "all-linear", or, when targetRegex is
    // set, one regular expression that must match a whole module name.
    std::vector<std::string> targetModules;
    std::string targetRegex;
    std::map<std::string, std::int64_t> rankPattern;  // per-module overrides, keys as PEFT matches them
    std::map<std::string, double> alphaPattern;
    std::string baseModel;
    // How fresh adapters start (init_lora_weights: true or "gaussian"); an
    // adapter read from a file keeps the factors it holds whatever it says.
    LoraInit init = LoraInit::Kaiming;
};

// Parses adapter_config.json text; `path` labels errors. Adapters that need
// features LoRA Lab does not implement (DoRA, LoRA biases, modules_to_save,
// other PEFT methods) are refused with a message that says which.
AdapterConfig parseAdapterConfig(const std::string& text, const std::string& path);

// JSON that PEFT's LoraConfig.from_pretrained accepts.
std::string adapterConfigToJson(const AdapterConfig& config);

// The rank and alpha that apply to one module, after rank_pattern / alpha_pattern.
std::int64_t rankFor(const AdapterConfig& config, const std::string& module);
double alphaFor(const AdapterConfig& config, const std::string& module);

// A warning when an adapter names another base model than the one it is
// applied to (base_model_name_or_path against the model's folder name): the
// shapes may fit while the weights mean something else. Empty when they
// agree or the adapter names none.
std::string adapterBaseWarning(const AdapterConfig& adapter, const std::filesystem::path& adapterDir, const std::string& model);

} // namespace loralab
