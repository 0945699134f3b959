// Opening a model the way users name it: a Hugging Face snapshot directory
// (config.json, safetensors weights, tokenizer) or a shape preset with random
// weights. Also the process-wide runtime settings (threads, device).
#pragma once

#include "engine/model/causal_lm.h"
#include "engine/tokenizer/tokenizer.h"

#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace loralab {

struct LoadOptions {
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32; // compute dtype of the base weights
    std::int64_t vocabSize = 0;                // > 0 resizes the vocabulary
    std::uint64_t seed = 0;                    // for preset weights
};

struct LoadedModel {
    ModelConfig config;
    std::shared_ptr<CausalLMImpl> net;
    std::shared_ptr<Tokenizer> tokenizer; // null for presets
    std::filesystem::path dir;            // empty for presets
    std::string storedDType;              // "F16", "BF16", "F32", or "random" for presets
    std::vector<std::string> notes;       // e.g. checkpoint keys that were ignored
};

// `spec` is a model directory or "preset:<name>".
LoadedModel loadModel(const std::string& spec, const LoadOptions& options = {});

// Copies checkpoint weights into the module's parameters, checking names and
// shapes. Returns the checkpoint keys that were not used.
std::vector<std::string> loadWeights(CausalLMImpl& net, const std::filesystem::path& dir);

// "cpu", "cuda", "cuda:1" or "auto" (CUDA when present).
torch::Device resolveDevice(const std::string& name);
// Sets LibTorch's intra-op thread count; 0 means every core.
void setThreadCount(int threads);
int defaultThreadCount();
torch::ScalarType parseDType(const std::string& name); // "fp32", "bf16", "fp16"

} // namespace loralab
