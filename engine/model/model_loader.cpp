// Model loading and runtime settings; see model_loader.h.
#include "engine/model/model_loader.h"

#include "engine/io/safetensors.h"
#include "engine/util/error.h"
#include "engine/train/memory.h"
#include "engine/util/torch_compat.h"
#include "engine/util/units.h"

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

} // namespace

std::string checkpointKey(const CheckpointWeights& weights, const std::string& name, const std::string& headName)
{
    if (weights.contains(name)) return name;
    const std::string prefix = headName + ".";
    if (headName == "embed_out" && name.rfind(prefix, 0) == 0) {
        const std::string alias = "lm_head." + name.substr(prefix.size());
        if (weights.contains(alias)) return alias;
    }
    return name;
}

std::vector<std::string> loadWeights(CausalLMImpl& net, const CheckpointWeights& weights, const std::filesystem::path& dir)
{
    std::set<std::string> used;
    torch::NoGradGuard noGrad;
    for (auto& [name, param] : net.uniqueParameters()) {
        const std::string key = checkpointKey(weights, name, net.headName());
        if (!weights.contains(key))
            throw fileError(dir.string(), "checkpoint is missing weight '" + name + "' that a " +
                                              architectureName(net.config().architecture) + " model with this config.json needs");
        const StTensorEntry& entry = weights.entry(key);
        if (c10::IntArrayRef(entry.shape) != param.sizes())
            throw fileError(weights.fileOf(key), "weight '" + key + "' has shape " + shapeText(entry.shape) +
                                                     " but config.json implies " + shapeText(param.sizes()));
        param.copy_(weights.load(key, param.scalar_type()));
        // A weight that holds NaN or infinity makes every output NaN: generation
        // would print nothing and a loss read "nan", with the cause unsaid.
        if (param.is_floating_point() && !torch::isfinite(param).all().item<bool>())
            throw fileError(weights.fileOf(key), "weight '" + key + "' holds NaN or infinite values; the checkpoint is damaged");
        used.insert(key);
    }
    std::vector<std::string> unused;
    for (const auto& name : weights.names())
        if (!used.count(name) && !isIgnorableKey(name)) unused.push_back(name);
    return unused;
}

namespace {

// Checks made before a model is built, from config.json and the files'
// headers alone: a config.json that describes more parameters than its weight
// files hold, or weights that do not fit in the device's free memory, are
// refused before anything is allocated, naming the figures.
void checkBeforeBuilding(const std::string& spec, const ModelConfig& config, const LoadOptions& options,
                         const CheckpointWeights* weights)
{
    const std::int64_t params = config.parameterCount();
    if (weights) {
        std::int64_t stored = 0;
        for (const auto& name : weights->names()) {
            std::int64_t n = 1;
            for (const auto d : weights->entry(name).shape) n *= d;
            stored += n;
        }
        // Only a config.json far larger than its weights is refused here, before
        // anything is built; a weight or two missing is named when loading.
        if (params > 2 * stored + 4096)
            throw fileError(spec, "config.json describes a " + std::string(architectureName(config.architecture)) + " model of " +
                                      std::to_string(params) + " parameters, but the weight files hold only " +
                                      std::to_string(stored) + "; config.json does not belong to these weights");
    }
    const std::int64_t need = params * static_cast<std::int64_t>(c10::elementSize(options.dtype));
    if (options.device.is_meta()) return;
    const std::int64_t free = availableMemory(options.device);
    if (free > 0 && need > free)
        throw Error(spec + ": its weights need " + bytesText(need) + " in " + std::string(c10::toString(options.dtype)) +
                    " (before gradients, optimizer state and activations), but " + memoryPlace(options.device) + " has " +
                    bytesText(free) + " free; use a smaller model" + (options.dtype == torch::kFloat32 ? ", --dtype bf16" : "") +
                    (options.device.is_cuda() ? ", or another GPU" : ""));
}

} // namespace

LoadedModel loadModel(const std::string& spec, const LoadOptions& options)
{
    if (options.dtype == torch::kHalf && !options.device.is_cuda())
        throw Error("dtype fp16 needs a GPU: LibTorch's CPU kernels lack half-precision layers (layer norm among "
                    "them); on the CPU use bf16 (the same memory) or fp32");
    LoadedModel out;
    const auto tensorOptions = torch::TensorOptions().dtype(options.dtype).device(options.device);
    if (isPresetName(spec)) {
        out.config = presetConfig(spec);
        if (options.vocabSize > 0) out.config.vocabSize = options.vocabSize;
        checkBeforeBuilding(spec, out.config, options, nullptr);
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
    const CheckpointWeights weights(out.dir);
    checkBeforeBuilding(spec, out.config, options, &weights);
    out.net = buildCausalLM(out.config, tensorOptions);
    for (const auto& key : loadWeights(*out.net, weights, out.dir)) out.notes.push_back("ignored checkpoint weight '" + key + "'");
    out.storedDType = stDTypeName(weights.storedDType());
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

torch::ScalarType torchDType(WeightDType dtype)
{
    switch (dtype) {
    case WeightDType::Bf16: return torch::kBFloat16;
    case WeightDType::Fp16: return torch::kFloat16;
    case WeightDType::Fp32: break;
    }
    return torch::kFloat32;
}

} // namespace loralab
