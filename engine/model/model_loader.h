// Opening a model the way users name it: a Hugging Face snapshot directory
// (config.json, safetensors weights, tokenizer) or a shape preset with random
// weights. Also the process-wide runtime settings (threads, device).
#pragma once

#include "engine/config/run_choices.h"
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

class CheckpointWeights;

// Copies checkpoint weights into the module's parameters, checking names and
// shapes (`dir` names the checkpoint in messages). Returns the checkpoint keys
// that were not used.
std::vector<std::string> loadWeights(CausalLMImpl& net, const CheckpointWeights& weights, const std::filesystem::path& dir);

// The key a parameter is stored under in a checkpoint ("name" when absent).
// GPT-NeoX's output head is "embed_out" in Hub checkpoints but "lm_head" in
// files newer transformers versions write; both are read.
std::string checkpointKey(const CheckpointWeights& weights, const std::string& name, const std::string& headName);

// "cpu", "cuda", "cuda:1" or "auto" (CUDA when present).
torch::Device resolveDevice(const std::string& name);
// Sets LibTorch's CPU threads (0: all cores) and prepares the process for
// training-sized allocations (see keepLargeAllocationsInHeap).
void setThreadCount(int threads);
// Has glibc serve large blocks from its heap and keep freed memory there,
// instead of mapping and unmapping them on every allocation: each training
// step allocates and frees the same activation and gradient tensors, and on
// virtual machines the page faults of fresh mappings cost more than the
// arithmetic (a [512, 50304] gradient took 170 ms to first touch). The
// process then keeps its peak memory until it exits. Skipped when the user
// set glibc's MALLOC_MMAP_MAX_ or MALLOC_TRIM_THRESHOLD_.
void keepLargeAllocationsInHeap();
int defaultThreadCount();
torch::ScalarType parseDType(const std::string& name); // "fp32", "bf16", "fp16" (command-line flags)
torch::ScalarType torchDType(WeightDType dtype);

} // namespace loralab
