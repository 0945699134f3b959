// Reading a base model and a trained checkpoint and analysing each linear
// layer's update; see update_analysis.h. The base model is loaded once; a full
// checkpoint's weights are read one tensor at a time from their memory-mapped
// files, so the analysis never holds a second copy of the model.
#include "engine/analysis/update_analysis.h"

#include "engine/analysis/spectrum.h"
#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/util/error.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

namespace loralab {
namespace {

namespace fs = std::filesystem;

const std::string kAnalysisPeftPrefix = "base_model.model.";

std::string bracketShape(const std::vector<std::int64_t>& shape)
{
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

std::string weightShape(const LinearImpl& linear) { return bracketShape({linear.outFeatures(), linear.inFeatures()}); }

void checkAnalysisOptions(const AnalysisOptions& o)
{
    if (o.intruderTopK < 1) throw Error("intruder top-k must be at least 1, got " + std::to_string(o.intruderTopK));
    if (!(o.intruderEpsilon > 0.0 && o.intruderEpsilon <= 1.0))
        throw Error("intruder epsilon is a cosine threshold in (0, 1], got " + std::to_string(o.intruderEpsilon));
    if (!(o.energyFraction > 0.0 && o.energyFraction <= 1.0))
        throw Error("the energy fraction must be in (0, 1], got " + std::to_string(o.energyFraction));
    if (o.keepDirections < 0) throw Error("keepDirections cannot be negative");
    if (o.float64MaxElements < 0) throw Error("float64MaxElements cannot be negative");
}

UpdateKind checkpointKindOf(const fs::path& dir)
{
    if (!fs::exists(dir)) throw fileError(dir.string(), "not found");
    if (!fs::is_directory(dir)) throw fileError(dir.string(), "is not a directory; give an adapter folder or a checkpoint folder");
    if (fs::exists(dir / "adapter_config.json")) return UpdateKind::Lora;
    if (fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json")) return UpdateKind::Full;
    throw fileError(dir.string(), "holds neither a PEFT adapter (adapter_config.json) nor model weights (model.safetensors)");
}

// The base weights' compute dtype: bf16 checkpoints stay bf16 (half the
// memory of fp32, and exact in float64 later); everything else loads as fp32,
// which holds fp16 and fp32 weights exactly.
torch::ScalarType baseLoadDType(const std::string& spec)
{
    if (isPresetName(spec) || !fs::is_directory(spec)) return torch::kFloat32;
    return CheckpointWeights(spec).storedDType() == StDType::BF16 ? torch::kBFloat16 : torch::kFloat32;
}

std::string baseDescription(CausalLMImpl& net, const std::string& spec)
{
    return spec + " (" + architectureName(net.config().architecture) + ")";
}

LinearImpl* findLinear(CausalLMImpl& net, const std::string& module)
{
    const bool head = module == "lm_head" || module == "embed_out";
    for (auto& [name, linear] : net.linearLayers())
        if (name == module || (head && name == net.headName())) return linear.get();
    return nullptr;
}

// Every LoRA factor in the adapter file must belong to a linear layer of the
// base with matching shapes; checked here so that the message names the tensor.
void checkAdapterFitsBase(const fs::path& weightsPath, CausalLMImpl& net, const std::string& spec)
{
    const SafetensorsFile file(weightsPath);
    for (const auto& key : file.names()) {
        for (const std::string factor : {"lora_A", "lora_B"}) {
            const std::string suffix = "." + factor + ".weight";
            if (key.rfind(kAnalysisPeftPrefix, 0) != 0 || key.size() <= kAnalysisPeftPrefix.size() + suffix.size() ||
                key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            const std::string module = key.substr(kAnalysisPeftPrefix.size(), key.size() - kAnalysisPeftPrefix.size() - suffix.size());
            const LinearImpl* linear = findLinear(net, module);
            if (!linear)
                throw fileError(weightsPath.string(), "tensor '" + key + "' adapts module '" + module + "', which the base model " +
                                                          baseDescription(net, spec) + " does not have; the adapter was made for another model");
            const auto& shape = file.find(key)->shape;
            const bool fits = shape.size() == 2 && (factor == "lora_A" ? shape[1] == linear->inFeatures()
                                                                      : shape[0] == linear->outFeatures());
            if (!fits)
                throw fileError(weightsPath.string(), "tensor '" + key + "' has shape " + bracketShape(shape) + ", which does not fit " +
                                                          module + ".weight " + weightShape(*linear) + " of the base model " +
                                                          baseDescription(net, spec));
        }
    }
}

// What one layer's update is made of.
struct LayerSource {
    std::string module;
    torch::Tensor base;  // W [out, in] as the base model holds it
    torch::Tensor b;     // LoRA factors B [out, r] and A [r, in]; undefined for a full update
    torch::Tensor a;
    double scale = 0.0;
    torch::Tensor dense; // dW [out, in] when the update is not the factors' product alone
};

void splitModuleName(const std::string& module, LayerUpdate& out)
{
    std::size_t start = 0;
    out.layer = -1;
    while (start <= module.size()) {
        const std::size_t end = std::min(module.find('.', start), module.size());
        const std::string part = module.substr(start, end - start);
        if (out.layer < 0 && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 10)
            out.layer = std::stoll(part);
        out.kind = part;
        start = end + 1;
    }
}

SingularDirections keptDirections(const torch::Tensor& columns, std::int64_t count)
{
    SingularDirections d;
    d.count = std::min(count, columns.size(1));
    d.dim = columns.size(0);
    const torch::Tensor rows = columns.narrow(1, 0, d.count).t().to(torch::kCPU, torch::kDouble).contiguous();
    d.values.assign(rows.data_ptr<double>(), rows.data_ptr<double>() + rows.numel());
    return d;
}

LayerUpdate analyseLayer(const LayerSource& source, const AnalysisOptions& options)
{
    LayerUpdate u;
    u.module = source.module;
    splitModuleName(source.module, u);
    u.outFeatures = source.base.size(0);
    u.inFeatures = source.base.size(1);
    const auto dtype = analysisDType(u.outFeatures * u.inFeatures, options.float64MaxElements);
    const torch::Tensor w = source.base.to(dtype);
    const bool keep = options.keepDirections > 0;
    const bool lowRank = !source.dense.defined();
    if (source.b.defined()) {
        u.loraRank = source.b.size(1);
        u.loraScale = source.scale;
    }
    // The factors are small, so their decomposition always runs in float64.
    const Spectrum spectrum = lowRank ? lowRankSpectrum(source.b.to(torch::kDouble), source.a.to(torch::kDouble), source.scale, keep)
                                      : denseSpectrum(source.dense.to(dtype), keep);
    u.spectrumFloat64 = lowRank || dtype == torch::kDouble;
    const torch::Tensor values = spectrum.values.to(torch::kCPU);
    const torch::Tensor values64 = values.to(torch::kDouble).contiguous();
    u.singularValues.assign(values64.data_ptr<double>(), values64.data_ptr<double>() + values64.numel());
    u.updateNorm = lowRank ? std::sqrt(values64.pow(2).sum().item<double>()) : source.dense.to(dtype).norm().item<double>();
    u.baseNorm = w.norm().item<double>();
    u.relativeNorm = u.baseNorm > 0.0 ? u.updateNorm / u.baseNorm : 0.0;
    u.numericalRank = numericalRank(values, u.outFeatures, u.inFeatures);
    u.effectiveRank = effectiveRank(values);
    u.energyRank = energyRank(values, options.energyFraction);
    if (keep) {
        u.left = keptDirections(spectrum.left, options.keepDirections);
        u.right = keptDirections(spectrum.right, options.keepDirections);
    }
    if (options.intruders) {
        const torch::Tensor delta = lowRank ? source.b.to(dtype).matmul(source.a.to(dtype)) * source.scale : source.dense.to(dtype);
        const torch::Tensor cosines = intruderCosines(w, w + delta, options.intruderTopK).to(torch::kCPU, torch::kDouble).contiguous();
        u.intruderCosines.assign(cosines.data_ptr<double>(), cosines.data_ptr<double>() + cosines.numel());
        for (const double c : u.intruderCosines) u.intruderCount += c < options.intruderEpsilon ? 1 : 0;
        u.intrudersFloat64 = dtype == torch::kDouble;
    }
    return u;
}

// The adapted layers of a PEFT adapter over the base.
std::vector<LayerSource> loraSources(CausalLMImpl& net, const fs::path& dir, const std::string& spec, std::vector<std::string>& notes)
{
    const fs::path weightsPath = dir / "adapter_model.safetensors";
    if (fs::exists(weightsPath)) checkAdapterFitsBase(weightsPath, net, spec);
    // PEFT may store a layer's whole weight beside its adapter (the output
    // head, "<module>.base_layer.weight"); loading the adapter puts it in
    // place, and then that difference is part of the update.
    std::map<std::string, torch::Tensor> before;
    if (fs::exists(weightsPath)) {
        const SafetensorsFile file(weightsPath);
        for (auto& [name, linear] : net.linearLayers()) {
            std::vector<std::string> spellings = {name};
            if (name == net.headName()) spellings.insert(spellings.end(), {"lm_head", "embed_out"});
            for (const auto& spelling : spellings)
                if (file.contains(kAnalysisPeftPrefix + spelling + ".base_layer.weight"))
                    before[name] = linear->weight.detach().clone();
        }
    }
    loadAdapter(net, dir);
    std::vector<LayerSource> out;
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->hasLora()) continue;
        LayerSource s;
        s.module = name;
        s.b = linear->loraB()->weight.detach();
        s.a = linear->loraA()->weight.detach();
        s.scale = linear->lora().scaling();
        const auto replaced = before.find(name);
        if (replaced != before.end()) {
            s.base = replaced->second;
            if (!torch::equal(replaced->second, linear->weight)) {
                const auto dtype = torch::kDouble;
                s.dense = (linear->weight.detach().to(dtype) - replaced->second.to(dtype)) + s.b.to(dtype).matmul(s.a.to(dtype)) * s.scale;
                notes.push_back(name + ": the adapter also replaces the layer's weight; its update is that change plus scale * B A");
            }
        } else {
            s.base = linear->weight.detach();
        }
        out.push_back(std::move(s));
    }
    return out;
}

// Linear layers of a full checkpoint against the base, checked from the
// files' headers before any weight is read.
std::vector<std::pair<std::string, std::string>> fullKeys(CausalLMImpl& net, const CheckpointWeights& weights, const fs::path& dir,
                                                          const std::string& spec, std::vector<std::string>& notes)
{
    std::string tunedArchitecture;
    if (fs::exists(dir / "config.json")) tunedArchitecture = architectureName(loadModelConfig(dir).architecture);
    const std::string baseArchitecture = architectureName(net.config().architecture);
    const std::string other = !tunedArchitecture.empty() && tunedArchitecture != baseArchitecture
                                  ? "; the checkpoint is a " + tunedArchitecture + " model" : "";
    std::vector<std::pair<std::string, std::string>> out; // module, checkpoint key
    for (auto& [name, linear] : net.linearLayers()) {
        if (!linear->ownsWeight()) {
            notes.push_back(name + ": shares its weight with the input embedding; not analysed");
            continue;
        }
        const std::string key = checkpointKey(weights, name + ".weight", net.headName());
        if (!weights.contains(key))
            throw fileError(dir.string(), "has no tensor '" + name + ".weight', which the base model " + baseDescription(net, spec) +
                                              " has" + other);
        const StTensorEntry& entry = weights.entry(key);
        if (c10::IntArrayRef(entry.shape) != linear->weight.sizes())
            throw fileError(weights.fileOf(key), "tensor '" + key + "' has shape " + bracketShape(entry.shape) + " but " + name +
                                                     ".weight of the base model " + baseDescription(net, spec) + " is " +
                                                     weightShape(*linear) + other);
        out.emplace_back(name, key);
    }
    return out;
}

} // namespace

UpdateAnalysis analyzeUpdate(const AnalysisInput& input, const AnalysisOptions& options, const AnalysisCallback& progress)
{
    checkAnalysisOptions(options);
    if (input.baseModel.empty()) throw Error("the analysis needs the base model the run started from");
    const fs::path dir = input.checkpoint;
    UpdateAnalysis result;
    result.checkpoint = input.checkpoint;
    result.baseModel = input.baseModel;
    result.options = options;
    result.kind = checkpointKindOf(dir);

    LoadOptions load;
    load.device = resolveDevice(input.device);
    load.dtype = baseLoadDType(input.baseModel);
    load.seed = input.seed;
    result.device = load.device.str();
    LoadedModel model = loadModel(input.baseModel, load);
    CausalLMImpl& net = *model.net;
    torch::NoGradGuard noGrad;

    std::vector<LayerSource> sources;
    std::vector<std::pair<std::string, std::string>> keys;
    std::unique_ptr<CheckpointWeights> weights;
    if (result.kind == UpdateKind::Lora) {
        sources = loraSources(net, dir, input.baseModel, result.notes);
    } else {
        weights = std::make_unique<CheckpointWeights>(dir);
        keys = fullKeys(net, *weights, dir, input.baseModel, result.notes);
    }
    const std::size_t total = result.kind == UpdateKind::Lora ? sources.size() : keys.size();
    std::map<std::string, LinearImpl*> linears;
    for (auto& [name, linear] : net.linearLayers()) linears[name] = linear.get();
    for (std::size_t i = 0; i < total; ++i) {
        const std::string& module = result.kind == UpdateKind::Lora ? sources[i].module : keys[i].first;
        if (progress && !progress({i, total, module})) {
            result.complete = false;
            break;
        }
        if (result.kind == UpdateKind::Lora) {
            result.layers.push_back(analyseLayer(sources[i], options));
            continue;
        }
        // One trained weight at a time; the difference in the analysis dtype.
        LayerSource s;
        s.module = module;
        s.base = linears.at(module)->weight.detach();
        const auto dtype = analysisDType(s.base.numel(), options.float64MaxElements);
        s.dense = weights->load(keys[i].second).to(s.base.device()).to(dtype) - s.base.to(dtype);
        result.layers.push_back(analyseLayer(s, options));
    }
    if (result.complete && progress) progress({total, total, ""});
    result.kinds = summarizeByKind(result.layers);
    return result;
}

} // namespace loralab
