// Model loading and runtime settings; see model_loader.h.
#include "engine/model/model_loader.h"

#include "engine/io/safetensors.h"
#include "engine/util/error.h"

#include <cstdlib>
#include <limits>
#include <malloc.h>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace loralab {
namespace {

// Keys old checkpoints carry that are buffers, not weights.
bool isIgnorableKey(const std::string& key)
{
    for (const char* suffix : {".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq"})
        if (key.size() >= std::string(suffix).size() && key.compare(key.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
            return true;
    return false;
}

std::string shapeText(c10::IntArrayRef shape)
{
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

// The checkpoint key a parameter is stored under. GPT-NeoX's output head is
// "embed_out" in Hub checkpoints but "lm_head" in files newer transformers
// versions write; both are read.
std::string storedName(const CheckpointWeights& weights, const std::string& name, const std::string& headName)
{
    if (weights.contains(name)) return name;
    const std::string prefix = headName + ".";
    if (headName == "embed_out" && name.rfind(prefix, 0) == 0) {
        const std::string alias = "lm_head." + name.substr(prefix.size());
        if (weights.contains(alias)) return alias;
    }
    return name;
}

} // namespace

std::vector<std::string> loadWeights(CausalLMImpl& net, const std::filesystem::path& dir)
{
    const CheckpointWeights weights(dir);
    std::set<std::string> used;
    torch::NoGradGuard noGrad;
    for (auto& [name, param] : net.uniqueParameters()) {
        const std::string key = storedName(weights, name, net.headName());
        if (!weights.contains(key))
            throw fileError(dir.string(), "checkpoint is missing weight '" + name + "' that a " +
                                              architectureName(net.config().architecture) + " model with this config.json needs");
        const StTensorEntry& entry = weights.entry(key);
        if (c10::IntArrayRef(entry.shape) != param.sizes())
            throw fileError(weights.fileOf(key), "weight '" + key + "' has shape " + shapeText(entry.shape) +
                                                     " but config.json implies " + shapeText(param.sizes()));
        param.copy_(weights.load(key, param.scalar_type()));
        used.insert(key);
    }
    std::vector<std::string> unused;
    for (const auto& name : weights.names())
        if (!used.count(name) && !isIgnorableKey(name)) unused.push_back(name);
    return unused;
}

LoadedModel loadModel(const std::string& spec, const LoadOptions& options)
{
    LoadedModel out;
    const auto tensorOptions = torch::TensorOptions().dtype(options.dtype).device(options.device);
    if (isPresetName(spec)) {
        out.config = presetConfig(spec);
        if (options.vocabSize > 0) out.config.vocabSize = options.vocabSize;
        torch::manual_seed(options.seed);
        out.net = buildCausalLM(out.config, tensorOptions);
        out.net->initRandom();
        out.storedDType = "random";
        return out;
    }
    out.dir = spec;
    if (!std::filesystem::is_directory(out.dir))
        throw fileError(spec, std::filesystem::exists(out.dir) ? "is not a model directory" : "model directory not found");
    out.config = loadModelConfig(out.dir);
    out.net = buildCausalLM(out.config, tensorOptions);
    for (const auto& key : loadWeights(*out.net, out.dir)) out.notes.push_back("ignored checkpoint weight '" + key + "'");
    out.storedDType = stDTypeName(CheckpointWeights(out.dir).storedDType());
    if (options.vocabSize > 0 && options.vocabSize != out.config.vocabSize) {
        out.net->resizeVocab(options.vocabSize);
        out.config = out.net->config();
    }
    out.tokenizer = loadTokenizer(out.dir);
    return out;
}

torch::Device resolveDevice(const std::string& name)
{
    if (name.empty() || name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    if (name == "cpu") return torch::kCPU;
    if (name.rfind("cuda", 0) == 0) {
        if (!torch::cuda::is_available()) throw Error("device '" + name + "' requested but this LibTorch build or machine has no CUDA");
        return torch::Device(name);
    }
    throw Error("unknown device '" + name + "' (use cpu, cuda, cuda:N or auto)");
}

int defaultThreadCount()
{
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void setThreadCount(int threads)
{
    torch::set_num_threads(threads > 0 ? threads : defaultThreadCount());
    keepLargeAllocationsInHeap();
}

void keepLargeAllocationsInHeap()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (std::getenv("MALLOC_MMAP_MAX_") || std::getenv("MALLOC_TRIM_THRESHOLD_")) return;
        ::mallopt(M_MMAP_MAX, 0);
        ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    });
}

torch::ScalarType parseDType(const std::string& name)
{
    if (name == "fp32" || name == "float32") return torch::kFloat32;
    if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
    if (name == "fp16" || name == "float16") return torch::kFloat16;
    throw Error("unknown dtype '" + name + "' (use fp32, bf16 or fp16)");
}

} // namespace loralab
