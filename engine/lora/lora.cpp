// LoRA on a CausalLM; see lora.h.
#include "engine/lora/lora.h"

#include <cctype>

#include "engine/io/safetensors.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <regex>
#include <set>

namespace loralab {
namespace {

const std::string kPeftPrefix = "base_model.model.";

bool endsWithComponent(const std::string& name, const std::string& target)
{
    if (name == target) return true;
    return name.size() > target.size() && name.compare(name.size() - target.size(), target.size(), target) == 0 &&
           name[name.size() - target.size() - 1] == '.';
}

bool isHeadAlias(const std::string& target) { return target == "lm_head" || target == "embed_out"; }

// The module name an adapter file uses: the model's own, except for the output
// head, which transformers >= 5 and PEFT call lm_head in every architecture
// (GPT-NeoX checkpoints name the module embed_out).
std::string fileModuleName(CausalLMImpl& net, const std::string& module)
{
    return module == net.headName() ? std::string(kAdapterHeadName) : module;
}

// The key of one LoRA factor of `module` in an adapter file, in either
// spelling of the head; empty when the file has neither.
std::string findFactorKey(const SafetensorsFile& file, CausalLMImpl& net, const std::string& module, const char* factor)
{
    for (const std::string& name : {fileModuleName(net, module), module}) {
        const std::string key = kPeftPrefix + name + "." + factor + ".weight";
        if (file.contains(key)) return key;
    }
    if (module == net.headName())
        for (const char* alias : {"lm_head", "embed_out"}) {
            const std::string key = kPeftPrefix + alias + "." + factor + ".weight";
            if (file.contains(key)) return key;
        }
    return {};
}

bool targetHits(const std::string& target, const std::string& name, bool isHead)
{
    if (target == "all-linear") return !isHead;
    if (isHeadAlias(target)) return isHead;
    return endsWithComponent(name, target);
}

} // namespace

std::vector<std::string> selectLoraTargets(CausalLMImpl& net, const AdapterConfig& config)
{
    const auto layers = net.linearLayers();
    const std::string head = net.headName();
    std::set<std::string> chosen;
    if (!config.targetRegex.empty()) {
        const std::regex pattern(config.targetRegex);
        for (const auto& [name, linear] : layers)
            if (std::regex_match(name, pattern)) chosen.insert(name);
        if (chosen.empty()) throw Error("LoRA target pattern '" + config.targetRegex + "' matches no linear layer of the model");
    }
    for (const auto& target : config.targetModules) {
        bool any = false;
        for (const auto& [name, linear] : layers) {
            if (!targetHits(target, name, name == head)) continue;
            chosen.insert(name);
            any = true;
        }
        if (!any) {
            std::set<std::string> kinds;
            for (const auto& [name, linear] : layers) kinds.insert(name.substr(name.rfind('.') + 1));
            std::string known;
            for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
            throw Error("LoRA target '" + target + "' matches no linear layer of this " +
                        architectureName(net.config().architecture) + " model; its linear layers are: " + known +
                        " (or all-linear)");
        }
    }
    std::vector<std::string> out;
    for (const auto& [name, linear] : layers)
        if (chosen.count(name)) out.push_back(name);
    return out;
}

std::vector<LoraTargetInfo> applyLora(CausalLMImpl& net, const AdapterConfig& config)
{
    const auto targets = selectLoraTargets(net, config);
    for (auto& [name, linear] : net.linearLayers()) {
        if (std::find(targets.begin(), targets.end(), name) == targets.end()) continue;
        LoraSettings s;
        s.rank = rankFor(config, name);
        // B A has rank min(in, out) at most; a larger r only costs memory.
        const std::int64_t most = std::min(linear->inFeatures(), linear->outFeatures());
        if (s.rank > most)
            throw Error("lora_r " + std::to_string(s.rank) + " is larger than layer " + name + " can use (" +
                        std::to_string(linear->inFeatures()) + " -> " + std::to_string(linear->outFeatures()) +
                        ": rank " + std::to_string(most) + " at most); lower lora_r or leave that layer out");
        s.alpha = alphaFor(config, name);
        s.dropout = config.dropout;
        s.rsLora = config.useRsLora;
        s.init = config.init;
        linear->addLora(s);
    }
    return loraTargets(net);
}

std::vector<LoraTargetInfo> loraTargets(CausalLMImpl& net)
{
    std::vector<LoraTargetInfo> out;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        const auto r = linear->lora().rank;
        out.push_back({name, linear->inFeatures(), linear->outFeatures(), r, r * (linear->inFeatures() + linear->outFeatures())});
    }
    return out;
}

void removeAllLora(CausalLMImpl& net)
{
    for (auto& [name, linear] : net.linearLayers()) linear->removeLora();
}

void setLoraEnabled(CausalLMImpl& net, bool enabled)
{
    for (auto& [name, linear] : net.linearLayers()) linear->setLoraEnabled(enabled);
}

void setLoraDropout(CausalLMImpl& net, double dropout)
{
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        LoraSettings s = linear->lora();
        s.dropout = dropout;
        const torch::Tensor a = linear->loraA()->weight.detach().clone();
        const torch::Tensor b = linear->loraB()->weight.detach().clone();
        linear->addLora(s);
        torch::NoGradGuard noGrad;
        linear->loraA()->weight.copy_(a);
        linear->loraB()->weight.copy_(b);
    }
}

bool hasLora(CausalLMImpl& net)
{
    for (auto& [name, linear] : net.linearLayers())
        if (linear->hasLora()) return true;
    return false;
}

void setTrainable(CausalLMImpl& net, Method method)
{
    if (method == Method::Lora && !hasLora(net)) throw Error("LoRA training needs adapters attached to at least one layer");
    if (method == Method::Full) {
        std::vector<std::string> quantized;
        for (auto& [name, linear] : net.linearLayers())
            if (linear->baseQuantized()) quantized.push_back(name);
        if (!quantized.empty())
            throw Error("full fine-tuning trains every base weight, but the base weights of " + quantized.front() +
                        (quantized.size() > 1 ? " and " + std::to_string(quantized.size() - 1) + " more layers" : std::string()) +
                        " are quantized, which cannot train; train LoRA adapters on a quantized base, or load the "
                        "model without base quantization");
    }
    for (auto& item : net.named_parameters()) {
        const bool isLora = item.key().find(".lora_A.") != std::string::npos || item.key().find(".lora_B.") != std::string::npos;
        item.value().set_requires_grad(method == Method::Full ? !isLora : isLora);
    }
}

std::vector<std::pair<std::string, torch::Tensor>> trainableParameters(CausalLMImpl& net)
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& [name, p] : net.uniqueParameters())
        if (p.requires_grad()) out.emplace_back(name, p);
    return out;
}

void mergeLora(CausalLMImpl& net)
{
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        if (!linear->ownsWeight())
            throw Error("cannot merge the adapter on '" + name + "': its weight is tied to the input embedding");
        if (linear->baseQuantized())
            throw Error("cannot merge the adapter on '" + name + "' into its quantized base weight; export a merged "
                        "model instead (it dequantizes the weights)");
    }
    for (auto& [name, linear] : net.linearLayers()) linear->mergeLora();
}

void unmergeLora(CausalLMImpl& net)
{
    for (auto& [name, linear] : net.linearLayers()) linear->unmergeLora();
}

AdapterConfig currentAdapterConfig(CausalLMImpl& net, const std::string& baseModel)
{
    AdapterConfig c;
    c.baseModel = baseModel;
    bool first = true;
    std::set<std::string> suffixes;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        const LoraSettings& s = linear->lora();
        if (first) {
            c.rank = s.rank;
            c.alpha = s.alpha;
            c.dropout = s.dropout;
            c.useRsLora = s.rsLora;
            c.init = s.init;
            first = false;
        }
        if (s.rank != c.rank) c.rankPattern[fileModuleName(net, name)] = s.rank;
        if (s.alpha != c.alpha) c.alphaPattern[fileModuleName(net, name)] = s.alpha;
        suffixes.insert(name == net.headName() ? fileModuleName(net, name) : name.substr(name.rfind('.') + 1));
    }
    if (first) throw Error("the model has no LoRA adapters to save");
    // Suffixes alone may select more layers than carry adapters (e.g. only
    // some layers' q_proj); then the exact module paths are listed instead.
    c.targetModules.assign(suffixes.begin(), suffixes.end());
    std::set<std::string> withLora;
    for (const auto& t : loraTargets(net)) withLora.insert(t.module);
    const auto selected = selectLoraTargets(net, c);
    if (std::set<std::string>(selected.begin(), selected.end()) != withLora) {
        c.targetModules.clear();
        for (const auto& module : withLora) c.targetModules.push_back(fileModuleName(net, module));
    }
    return c;
}

void saveAdapter(CausalLMImpl& net, const AdapterConfig& config, const std::filesystem::path& dir)
{
    NamedTensors tensors;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        const std::string key = kPeftPrefix + fileModuleName(net, name);
        tensors.emplace_back(key + ".lora_A.weight", linear->loraA()->weight.detach().to(torch::kCPU));
        tensors.emplace_back(key + ".lora_B.weight", linear->loraB()->weight.detach().to(torch::kCPU));
    }
    if (tensors.empty()) throw Error("the model has no LoRA adapters to save");
    std::filesystem::create_directories(dir);
    saveSafetensors(dir / "adapter_model.safetensors", tensors, {{"format", "pt"}});
    writeFileAtomic(dir / "adapter_config.json", adapterConfigToJson(config));
}

AdapterConfig loadAdapter(CausalLMImpl& net, const std::filesystem::path& dir)
{
    const auto configPath = dir / "adapter_config.json";
    const AdapterConfig config = parseAdapterConfig(readTextFile(configPath), configPath.string());
    const auto weightsPath = dir / "adapter_model.safetensors";
    if (!std::filesystem::exists(weightsPath)) {
        if (std::filesystem::exists(dir / "adapter_model.bin"))
            throw fileError(weightsPath.string(), "not found; only safetensors adapters are supported (adapter_model.bin is a pickle)");
        throw fileError(weightsPath.string(), "file not found");
    }
    const SafetensorsFile file(weightsPath);

    removeAllLora(net);
    try {
        applyLora(net, config);
    } catch (const Error& e) {
        removeAllLora(net);
        throw fileError(configPath.string(), e.what());
    }
    std::set<std::string> used;
    torch::NoGradGuard noGrad;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        for (const char* factor : {"lora_A", "lora_B"}) {
            const std::string key = findFactorKey(file, net, name, factor);
            if (key.empty()) {
                removeAllLora(net);
                throw fileError(weightsPath.string(), "has no tensor '" + kPeftPrefix + fileModuleName(net, name) + "." +
                                                          factor + ".weight' for a module adapter_config.json targets");
            }
            torch::Tensor& target = std::string(factor) == "lora_A" ? linear->loraA()->weight : linear->loraB()->weight;
            const StTensorEntry* entry = file.find(key);
            if (c10::IntArrayRef(entry->shape) != target.sizes()) {
                removeAllLora(net);
                throw fileError(weightsPath.string(), "tensor '" + key + "' has the wrong shape for rank " +
                                                          std::to_string(linear->lora().rank) + " on a " +
                                                          std::to_string(linear->inFeatures()) + " -> " +
                                                          std::to_string(linear->outFeatures()) + " layer");
            }
            target.copy_(file.load(key, target.scalar_type()));
            used.insert(key);
        }
    }
    // PEFT saves the output head's whole weight beside its adapter
    // ("<head>.base_layer.weight", save_embedding_layers) and puts it in place
    // when it loads the adapter; so does LoRA Lab.
    for (auto& [name, linear] : net.linearLayers()) {
        for (const std::string& spelling : {fileModuleName(net, name), name}) {
            const std::string key = kPeftPrefix + spelling + ".base_layer.weight";
            const StTensorEntry* entry = file.find(key);
            if (!entry || used.count(key)) continue;
            if (linear->baseQuantized()) {
                removeAllLora(net);
                throw fileError(weightsPath.string(), "tensor '" + key + "' would replace the base weight of " + name +
                                                          ", which is quantized");
            }
            if (c10::IntArrayRef(entry->shape) != linear->weight.sizes()) {
                removeAllLora(net);
                throw fileError(weightsPath.string(), "tensor '" + key + "' does not have the shape of " + name + "'s weight");
            }
            linear->weight.copy_(file.load(key, linear->weight.scalar_type()));
            used.insert(key);
        }
    }
    for (const auto& name : file.names())
        if (!used.count(name)) {
            removeAllLora(net);
            throw fileError(weightsPath.string(), "tensor '" + name + "' belongs to no module this model has with an adapter");
        }
    return config;
}

void loadAdapterWeights(CausalLMImpl& net, const std::filesystem::path& checkpoint)
{
    torch::NoGradGuard noGrad;
    const auto path = checkpoint / "adapter_model.safetensors";
    const SafetensorsFile adapter(path);
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        for (const char* factor : {"lora_A", "lora_B"}) {
            const std::string key = findFactorKey(adapter, net, name, factor);
            if (key.empty()) throw fileError(path.string(), "has no tensor for " + name + "." + factor + ", which this model's adapters need");
            torch::Tensor& target = std::string(factor) == "lora_A" ? linear->loraA()->weight : linear->loraB()->weight;
            if (c10::IntArrayRef(adapter.find(key)->shape) != target.sizes())
                throw fileError(path.string(), "tensor '" + key + "' has the wrong shape for rank " + std::to_string(linear->lora().rank) +
                                                   " on a " + std::to_string(linear->inFeatures()) + " -> " +
                                                   std::to_string(linear->outFeatures()) + " layer");
            target.copy_(adapter.load(key, target.scalar_type()));
        }
    }
}

NamedTensors mergedWeights(CausalLMImpl& net)
{
    // Merged weights are computed beside the model rather than folded into it,
    // so the model's own weights stay bit for bit as they were.
    std::map<const void*, torch::Tensor> deltas;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora() || linear->loraMerged()) continue;
        if (!linear->ownsWeight())
            throw Error("cannot merge the adapter on '" + name + "': its weight is tied to the input embedding");
        if (!linear->baseQuantized()) deltas[linear->weight.unsafeGetTensorImpl()] = linear->loraDelta();
    }
    // Quantized base weights are written dequantized (in fp32, with the
    // adapter added there) in the dtype the model's other weights have.
    const torch::ScalarType denseDtype = net.embedding()->weight.scalar_type();
    NamedTensors tensors;
    {
        torch::NoGradGuard noGrad;
        std::set<const void*> seen;
        // Module by module, in the order named_parameters() lists them.
        for (const auto& item : net.named_modules("", /*include_self=*/true)) {
            const std::string prefix = item.key().empty() ? std::string() : item.key() + ".";
            if (const auto* linear = item.value()->as<LinearImpl>(); linear && linear->baseQuantized()) {
                torch::Tensor w = linear->denseWeight(torch::kFloat32);
                if (linear->hasLora() && !linear->loraMerged()) w += linear->loraDelta(torch::kFloat32);
                tensors.emplace_back(prefix + "weight", w.to(torch::kCPU, denseDtype));
            }
            for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) {
                const std::string name = prefix + p.key();
                if (name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos) continue;
                if (!seen.insert(p.value().unsafeGetTensorImpl()).second) continue;
                const auto delta = deltas.find(p.value().unsafeGetTensorImpl());
                tensors.emplace_back(name, (delta == deltas.end() ? p.value().detach() : p.value().detach() + delta->second)
                                               .to(torch::kCPU));
            }
        }
    }
    return tensors;
}

void exportMergedModel(CausalLMImpl& net, const std::filesystem::path& tokenizerDir, const std::filesystem::path& outDir)
{
    const NamedTensors tensors = mergedWeights(net);
    std::filesystem::create_directories(outDir);
    saveSafetensors(outDir / "model.safetensors", tensors, {{"format", "pt"}});
    ModelConfig config = net.config();
    const auto dtype = tensors.front().second.scalar_type();
    config.torchDtype = dtype == torch::kFloat32 ? "float32" : dtype == torch::kBFloat16 ? "bfloat16" : "float16";
    writeFileAtomic(outDir / "config.json", modelConfigToJson(config));
    for (const char* file : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                             "generation_config.json"}) {
        const auto from = tokenizerDir / file;
        if (!tokenizerDir.empty() && std::filesystem::exists(from)) writeFileAtomic(outDir / file, readTextFile(from));
    }
}

} // namespace loralab
