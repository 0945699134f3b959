// Model loading and runtime settings; see model_loader.h.
#include "engine/model/model_loader.h"

#include "engine/io/safetensors.h"
#include "engine/util/error.h"
#include "engine/util/torch_compat.h"

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

namespace {

std::string gib(std::int64_t bytes)
{
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0) << " GiB";
    return out.str();
}

// A model whose weights alone exceed the GPU's free memory is refused before
// any of it is allocated, naming the device and what it would need.
void checkFitsOnDevice(const std::string& spec, const ModelConfig& config, const LoadOptions& options)
{
    if (!options.device.is_cuda()) return;
    const auto shape = buildCausalLM(config, torch::TensorOptions().device(torch::kMeta));
    std::int64_t params = 0;
    for (const auto& [name, p] : shape->uniqueParameters()) params += p.numel();
    const std::int64_t need = params * static_cast<std::int64_t>(c10::elementSize(options.dtype));
    const auto gpu = compat::cudaDeviceInfo(options.device.has_index() ? options.device.index() : 0);
    if (need > gpu.freeBytes)
        throw Error(spec + ": its weights need " + gib(need) + " in " + std::string(c10::toString(options.dtype)) +
                    " (before gradients, optimizer state and activations), but " + options.device.str() + " (" +
                    gpu.name + ") has " + gib(gpu.freeBytes) + " free of " + gib(gpu.totalBytes) +
                    "; use a smaller model, --dtype bf16, or another GPU");
}

} // namespace

LoadedModel loadModel(const std::string& spec, const LoadOptions& options)
{
    LoadedModel out;
    const auto tensorOptions = torch::TensorOptions().dtype(options.dtype).device(options.device);
    if (isPresetName(spec)) {
        out.config = presetConfig(spec);
        if (options.vocabSize > 0) out.config.vocabSize = options.vocabSize;
        checkFitsOnDevice(spec, out.config, options);
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
    checkFitsOnDevice(spec, out.config, options);
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
    if (name.empty() || name == "auto")
        return compat::cudaDeviceCount() > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (name == "cpu") return torch::kCPU;
    if (name.rfind("cuda", 0) != 0) throw Error("unknown device '" + name + "' (use cpu, cuda, cuda:N or auto)");
    int index = 0;
    if (name != "cuda") {
        const std::string digits = name.size() > 5 && name[4] == ':' ? name.substr(5) : "";
        if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
            throw Error("unknown device '" + name + "' (use cpu, cuda, cuda:N or auto)");
        index = std::stoi(digits);
    }
    if (!compat::builtWithCuda())
        throw Error("device '" + name + "' requested, but this build of LoRA Lab uses a CPU-only LibTorch " +
                    compat::libtorchVersion() + " (build it against a CUDA LibTorch: see the README's GPU set-up)");
    const int count = compat::cudaDeviceCount();
    if (count == 0)
        throw Error("device '" + name + "' requested, but no NVIDIA GPU is visible to this process "
                    "(no driver loaded, or CUDA_VISIBLE_DEVICES hides them)");
    if (index >= count)
        throw Error("device '" + name + "' does not exist: this machine has " + std::to_string(count) +
                    (count == 1 ? " GPU (cuda:0)" : " GPUs (cuda:0 to cuda:" + std::to_string(count - 1) + ")"));
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(index)};
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
