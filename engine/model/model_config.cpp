// config.json parsing and the shape presets; see model_config.h.
#include "engine/model/model_config.h"

#include "engine/util/error.h"
#include "engine/util/json_file.h"
#include "engine/util/files.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace loralab {
namespace {

using Json = nlohmann::json;

const char* kSupported = "gpt_neox (Pythia), qwen2 (Qwen1.5, Qwen2), llama (Llama, TinyLlama, SmolLM)";

template <typename T>
T get(const Json& j, const char* key, T fallback, const std::string& path)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const Json::exception&) {
        throw fileError(path, std::string("config key '") + key + "' has the wrong type");
    }
}

std::int64_t require(const Json& j, const char* key, const std::string& path)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        throw fileError(path, std::string("config key '") + key + "' is missing or not an integer");
    const auto v = it->get<std::int64_t>();
    if (v <= 0) throw fileError(path, std::string("config key '") + key + "' must be positive");
    return v;
}

std::int64_t tokenId(const Json& j, const char* key)
{
    const auto it = j.find(key);
    if (it == j.end()) return -1;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<std::int64_t>();
    return -1;
}

void checkRopeScaling(const Json& j, const std::string& path)
{
    const auto it = j.find("rope_scaling");
    if (it == j.end() || it->is_null()) return;
    const std::string type = it->is_object() ? it->value("rope_type", it->value("type", "")) : "";
    if (type != "default")
        throw fileError(path, "rope_scaling of type '" + type + "' is not supported (only unscaled rotary embeddings)");
}

} // namespace

const char* architectureName(Architecture arch)
{
    switch (arch) {
    case Architecture::GptNeoX: return "gpt_neox";
    case Architecture::Qwen2: return "qwen2";
    case Architecture::Llama: return "llama";
    }
    return "?";
}

std::int64_t ModelConfig::rotaryDims() const
{
    return static_cast<std::int64_t>(static_cast<double>(headDim) * rotaryFraction);
}

std::int64_t ModelConfig::parameterCount() const
{
    const std::int64_t H = hiddenSize, q = numHeads * headDim, kv = numKvHeads * headDim;
    std::int64_t layer = H * q + 2 * H * kv + q * H;                       // q, k, v, o
    layer += (qkvBias ? q + 2 * kv : 0) + (outputProjBias ? H : 0);
    const bool gated = architecture != Architecture::GptNeoX;              // SwiGLU: gate, up, down
    layer += (gated ? 3 : 2) * H * intermediateSize + (mlpBias ? intermediateSize + H : 0);
    layer += architecture == Architecture::GptNeoX ? 4 * H : 2 * H;        // two norms (LayerNorm has a bias)
    const std::int64_t finalNorm = architecture == Architecture::GptNeoX ? 2 * H : H;
    return vocabSize * H * (tieWordEmbeddings ? 1 : 2) + numLayers * layer + finalNorm;
}

namespace {

// Sizes past these describe no model LoRA Lab could hold (the largest released
// models stay one to two orders of magnitude below each); a config.json that
// exceeds one is refused before anything is built from it.
void checkBounds(const ModelConfig& c, const std::string& path)
{
    const std::pair<const char*, std::pair<std::int64_t, std::int64_t>> limits[] = {
        {"vocab_size", {c.vocabSize, kMaxVocabSize}},    {"hidden_size", {c.hiddenSize, 1 << 16}},
        {"intermediate_size", {c.intermediateSize, 1 << 20}}, {"num_hidden_layers", {c.numLayers, 1024}},
        {"num_attention_heads", {c.numHeads, 1024}},     {"head_dim", {c.headDim, 4096}},
        {"max_position_embeddings", {c.maxPositions, 1 << 24}},
    };
    for (const auto& [key, value] : limits)
        if (value.first > value.second)
            throw fileError(path, std::string("config key '") + key + "' is " + std::to_string(value.first) +
                                      ", more than LoRA Lab accepts (" + std::to_string(value.second) + ")");
}

} // namespace

ModelConfig parseModelConfig(const std::string& text, const std::string& path)
{
    const Json j = parseJsonObject<Json>(text, path);
    const std::string type = get<std::string>(j, "model_type", "", path);

    ModelConfig c;
    if (type == "gpt_neox") {
        c.architecture = Architecture::GptNeoX;
    } else if (type == "qwen2") {
        c.architecture = Architecture::Qwen2;
    } else if (type == "llama") {
        c.architecture = Architecture::Llama;
    } else {
        throw fileError(path, "model_type '" + type + "' is not supported; supported architectures: " + kSupported);
    }

    c.vocabSize = require(j, "vocab_size", path);
    c.hiddenSize = require(j, "hidden_size", path);
    c.intermediateSize = require(j, "intermediate_size", path);
    c.numLayers = require(j, "num_hidden_layers", path);
    c.numHeads = require(j, "num_attention_heads", path);
    c.numKvHeads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                       ? require(j, "num_key_value_heads", path)
                       : c.numHeads;
    c.headDim = j.contains("head_dim") && !j["head_dim"].is_null() ? require(j, "head_dim", path) : c.hiddenSize / c.numHeads;
    if (!j.contains("head_dim") && c.hiddenSize % c.numHeads != 0)
        throw fileError(path, "hidden_size is not a multiple of num_attention_heads");
    if (c.numHeads % c.numKvHeads != 0)
        throw fileError(path, "num_attention_heads is not a multiple of num_key_value_heads");
    c.maxPositions = get<std::int64_t>(j, "max_position_embeddings", 2048, path);
    if (c.maxPositions <= 0) throw fileError(path, "config key 'max_position_embeddings' must be positive");
    checkBounds(c, path);
    c.hiddenAct = get<std::string>(j, "hidden_act", c.architecture == Architecture::GptNeoX ? "gelu" : "silu", path);
    c.tieWordEmbeddings = get<bool>(j, "tie_word_embeddings", false, path);
    c.bosTokenId = tokenId(j, "bos_token_id");
    c.eosTokenId = tokenId(j, "eos_token_id");
    c.torchDtype = get<std::string>(j, "torch_dtype", get<std::string>(j, "dtype", "float32", path), path);
    checkRopeScaling(j, path);

    if (c.architecture == Architecture::GptNeoX) {
        // The Hub's older Pythia configs use rotary_pct / rotary_emb_base; newer ones
        // partial_rotary_factor / rope_theta (possibly inside rope_parameters).
        c.rotaryFraction = get<double>(j, "partial_rotary_factor", get<double>(j, "rotary_pct", 1.0, path), path);
        c.ropeTheta = get<double>(j, "rope_theta", get<double>(j, "rotary_emb_base", 10000.0, path), path);
        c.normEps = get<double>(j, "layer_norm_eps", 1e-5, path);
        c.parallelResidual = get<bool>(j, "use_parallel_residual", true, path);
        c.qkvBias = c.outputProjBias = get<bool>(j, "attention_bias", true, path);
        c.mlpBias = true;
    } else {
        c.rotaryFraction = 1.0;
        c.ropeTheta = get<double>(j, "rope_theta", 10000.0, path);
        c.normEps = get<double>(j, "rms_norm_eps", 1e-6, path);
        c.parallelResidual = false;
        if (c.architecture == Architecture::Qwen2) {
            c.qkvBias = true;
            c.outputProjBias = false;
            c.mlpBias = false;
            if (get<bool>(j, "use_sliding_window", false, path))
                throw fileError(path, "use_sliding_window is true; sliding-window attention is not supported");
        } else {
            c.qkvBias = c.outputProjBias = get<bool>(j, "attention_bias", false, path);
            c.mlpBias = get<bool>(j, "mlp_bias", false, path);
        }
    }
    if (const auto rp = j.find("rope_parameters"); rp != j.end() && rp->is_object()) {
        c.ropeTheta = rp->value("rope_theta", c.ropeTheta);
        c.rotaryFraction = rp->value("partial_rotary_factor", c.rotaryFraction);
    }
    if (c.rotaryFraction <= 0.0 || c.rotaryFraction > 1.0 || c.rotaryDims() % 2 != 0) {
        const char* key = j.contains("partial_rotary_factor") || j.contains("rope_parameters") ? "partial_rotary_factor"
                          : j.contains("rotary_pct")                                           ? "rotary_pct"
                                                                                               : "the rotary fraction";
        std::ostringstream value;
        value << c.rotaryFraction;
        throw fileError(path, std::string(key) + " " + value.str() + " must be in (0, 1] and give an even number of rotary "
                                                                     "dimensions of the head's " +
                                  std::to_string(c.headDim) + " (it gives " + std::to_string(c.rotaryDims()) + ")");
    }
    const std::string act = c.hiddenAct;
    if (act != "gelu" && act != "gelu_new" && act != "gelu_fast" && act != "gelu_pytorch_tanh" && act != "silu" &&
        act != "relu")
        throw fileError(path, "hidden_act '" + act + "' is not supported (gelu, gelu_new, gelu_fast, silu, relu)");
    c.nameOrPath = path;
    return c;
}

ModelConfig loadModelConfig(const std::filesystem::path& modelDir)
{
    const auto path = modelDir / "config.json";
    ModelConfig c = parseModelConfig(readTextFile(path), path.string());
    c.nameOrPath = modelDir.string();
    return c;
}

std::string modelConfigToJson(const ModelConfig& c)
{
    nlohmann::ordered_json j;
    const bool neox = c.architecture == Architecture::GptNeoX;
    j["architectures"] = {neox ? "GPTNeoXForCausalLM" : c.architecture == Architecture::Qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
    j["model_type"] = architectureName(c.architecture);
    j["vocab_size"] = c.vocabSize;
    j["hidden_size"] = c.hiddenSize;
    j["intermediate_size"] = c.intermediateSize;
    j["num_hidden_layers"] = c.numLayers;
    j["num_attention_heads"] = c.numHeads;
    j["max_position_embeddings"] = c.maxPositions;
    j["hidden_act"] = c.hiddenAct;
    j["tie_word_embeddings"] = c.tieWordEmbeddings;
    if (c.bosTokenId >= 0) j["bos_token_id"] = c.bosTokenId;
    if (c.eosTokenId >= 0) j["eos_token_id"] = c.eosTokenId;
    j["torch_dtype"] = c.torchDtype;
    if (neox) {
        j["rotary_pct"] = c.rotaryFraction;
        j["rotary_emb_base"] = c.ropeTheta;
        j["partial_rotary_factor"] = c.rotaryFraction;
        j["rope_theta"] = c.ropeTheta;
        j["layer_norm_eps"] = c.normEps;
        j["use_parallel_residual"] = c.parallelResidual;
        j["attention_bias"] = c.qkvBias;
    } else {
        j["num_key_value_heads"] = c.numKvHeads;
        j["head_dim"] = c.headDim;
        j["rope_theta"] = c.ropeTheta;
        j["rms_norm_eps"] = c.normEps;
        if (c.architecture == Architecture::Llama) {
            j["attention_bias"] = c.qkvBias;
            j["mlp_bias"] = c.mlpBias;
        } else {
            j["use_sliding_window"] = false;
        }
    }
    return j.dump(2) + "\n";
}

namespace {

ModelConfig pythia(std::int64_t hidden, std::int64_t layers, std::int64_t heads)
{
    ModelConfig c;
    c.architecture = Architecture::GptNeoX;
    c.vocabSize = 50304;
    c.hiddenSize = hidden;
    c.intermediateSize = 4 * hidden;
    c.numLayers = layers;
    c.numHeads = c.numKvHeads = heads;
    c.headDim = hidden / heads;
    c.maxPositions = 2048;
    c.rotaryFraction = 0.25;
    c.ropeTheta = 10000.0;
    c.normEps = 1e-5;
    c.hiddenAct = "gelu";
    c.parallelResidual = true;
    c.bosTokenId = 0;
    c.eosTokenId = 0;
    c.torchDtype = "float16";
    return c;
}

struct Preset {
    const char* name;
    ModelConfig (*make)();
};

const Preset kPresets[] = {
    {"pythia-70m", [] { return pythia(512, 6, 8); }},
    {"pythia-160m", [] { return pythia(768, 12, 12); }},
    {"pythia-410m", [] { return pythia(1024, 24, 16); }},
    {"pythia-1.4b", [] { return pythia(2048, 24, 16); }},
    {"qwen1.5-0.5b",
     [] {
         ModelConfig c;
         c.architecture = Architecture::Qwen2;
         c.vocabSize = 151936;
         c.hiddenSize = 1024;
         c.intermediateSize = 2816;
         c.numLayers = 24;
         c.numHeads = c.numKvHeads = 16;
         c.headDim = 64;
         c.maxPositions = 32768;
         c.ropeTheta = 1000000.0;
         c.normEps = 1e-6;
         c.hiddenAct = "silu";
         c.parallelResidual = false;
         c.qkvBias = true;
         c.outputProjBias = false;
         c.mlpBias = false;
         c.tieWordEmbeddings = true;
         c.bosTokenId = 151643;
         c.eosTokenId = 151643;
         c.torchDtype = "bfloat16";
         return c;
     }},
};

constexpr const char* kPresetPrefix = "preset:";

} // namespace

bool isPresetName(const std::string& name) { return name.rfind(kPresetPrefix, 0) == 0; }

ModelConfig presetConfig(const std::string& name)
{
    const std::string bare = isPresetName(name) ? name.substr(std::string(kPresetPrefix).size()) : name;
    for (const auto& p : kPresets) {
        if (bare == p.name) {
            ModelConfig c = p.make();
            c.nameOrPath = std::string(kPresetPrefix) + p.name;
            return c;
        }
    }
    std::string known;
    for (const auto& n : presetNames()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown preset '" + name + "'; presets: " + known);
}

std::vector<std::string> presetNames()
{
    std::vector<std::string> out;
    for (const auto& p : kPresets) out.push_back(std::string(kPresetPrefix) + p.name);
    return out;
}

} // namespace loralab
