// A merged model as GGUF; see gguf_export.h. Names, hyperparameter keys and
// tensor layouts follow llama.cpp's public gguf-py constants (MODEL_ARCH,
// TENSOR_NAMES, Keys) and what its convert_hf_to_gguf.py does to each
// architecture's checkpoint.
#include "engine/export/gguf_export.h"

#include "engine/export/gguf_vocab.h"
#include "engine/export/gguf_writer.h"
#include "engine/lora/lora.h"
#include "engine/model/causal_lm.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

#include <cctype>
#include <map>

namespace loralab {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kGgmlQuantVersion = 2; // general.quantization_version (ggml's GGML_QNT_VERSION)
// general.file_type (llama.cpp's LlamaFileType): MOSTLY_F16, MOSTLY_Q8_0
constexpr std::uint32_t kFileTypeF16 = 1;
constexpr std::uint32_t kFileTypeQ8_0 = 7;

// How a checkpoint tensor's rows are reordered on the way into the file.
enum class Layout { AsIs, NeoXQkv, PermuteHeads, PermuteKvHeads };

struct Target {
    std::string name; // the GGUF tensor name, e.g. "blk.0.attn_q.weight"
    Layout layout = Layout::AsIs;
};

const char* ggufArchitecture(Architecture arch)
{
    switch (arch) {
    case Architecture::GptNeoX: return "gptneox";
    case Architecture::Qwen2: return "qwen2";
    case Architecture::Llama: return "llama";
    }
    return "?";
}

bool endsWith(const std::string& s, const std::string& tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// What llama.cpp's graph for the architecture cannot run is refused before
// anything is written.
void checkExpressible(const ModelConfig& c)
{
    const std::string arch = ggufArchitecture(c.architecture);
    const auto refuse = [&](const std::string& why) { throw Error("cannot export this " + arch + " model as GGUF: " + why); };
    if (c.architecture == Architecture::GptNeoX) {
        if (c.hiddenAct.rfind("gelu", 0) != 0) refuse("llama.cpp's gptneox runs GELU, not " + c.hiddenAct);
        if (c.numKvHeads != c.numHeads) refuse("llama.cpp's gptneox has no grouped-query attention");
        if (c.numHeads * c.headDim != c.hiddenSize) refuse("heads x head size must equal the hidden size for the fused qkv");
        return;
    }
    if (c.hiddenAct != "silu") refuse("llama.cpp's " + arch + " runs SiLU (SwiGLU), not " + c.hiddenAct);
    if (c.architecture == Architecture::Qwen2 && (c.outputProjBias || c.mlpBias))
        refuse("llama.cpp's qwen2 has biases on q/k/v only, and this model has them on the " +
               std::string(c.outputProjBias ? "attention output" : "MLP") + " too");
    if (c.architecture == Architecture::Llama && c.rotaryDims() != c.headDim)
        refuse("a partial rotary embedding has no layout in llama.cpp's llama (its q/k permutation covers whole heads)");
}

Target targetOf(const std::string& hf, const ModelConfig& c)
{
    const bool neox = c.architecture == Architecture::GptNeoX;
    const auto fail = [&]() -> Target {
        throw Error("model parameter '" + hf + "' has no GGUF tensor in llama.cpp's " + ggufArchitecture(c.architecture));
    };
    const std::string suffix = endsWith(hf, ".weight") ? ".weight" : endsWith(hf, ".bias") ? ".bias" : "";
    if (suffix.empty()) return fail();
    const std::string base = hf.substr(0, hf.size() - suffix.size());
    static const std::map<std::string, std::string> neoxTop = {
        {"gpt_neox.embed_in", "token_embd"}, {"gpt_neox.final_layer_norm", "output_norm"}, {"embed_out", "output"}};
    static const std::map<std::string, std::string> llamaTop = {
        {"model.embed_tokens", "token_embd"}, {"model.norm", "output_norm"}, {"lm_head", "output"}};
    const auto& top = neox ? neoxTop : llamaTop;
    if (const auto it = top.find(base); it != top.end()) return {it->second + suffix, Layout::AsIs};

    const std::string prefix = neox ? "gpt_neox.layers." : "model.layers.";
    if (base.compare(0, prefix.size(), prefix) != 0) return fail();
    std::size_t end = prefix.size();
    while (end < base.size() && std::isdigit(static_cast<unsigned char>(base[end]))) ++end;
    if (end == prefix.size() || end >= base.size() || base[end] != '.') return fail();
    const std::string block = "blk." + base.substr(prefix.size(), end - prefix.size()) + ".";
    const std::string rest = base.substr(end + 1);
    static const std::map<std::string, Target> neoxBlock = {
        {"input_layernorm", {"attn_norm", Layout::AsIs}},
        {"post_attention_layernorm", {"ffn_norm", Layout::AsIs}},
        {"attention.query_key_value", {"attn_qkv", Layout::NeoXQkv}},
        {"attention.dense", {"attn_output", Layout::AsIs}},
        {"mlp.dense_h_to_4h", {"ffn_up", Layout::AsIs}},
        {"mlp.dense_4h_to_h", {"ffn_down", Layout::AsIs}}};
    static const std::map<std::string, Target> llamaBlock = {
        {"input_layernorm", {"attn_norm", Layout::AsIs}},
        {"post_attention_layernorm", {"ffn_norm", Layout::AsIs}},
        {"self_attn.q_proj", {"attn_q", Layout::PermuteHeads}},
        {"self_attn.k_proj", {"attn_k", Layout::PermuteKvHeads}},
        {"self_attn.v_proj", {"attn_v", Layout::AsIs}},
        {"self_attn.o_proj", {"attn_output", Layout::AsIs}},
        {"mlp.gate_proj", {"ffn_gate", Layout::AsIs}},
        {"mlp.up_proj", {"ffn_up", Layout::AsIs}},
        {"mlp.down_proj", {"ffn_down", Layout::AsIs}}};
    const auto& blocks = neox ? neoxBlock : llamaBlock;
    const auto it = blocks.find(rest);
    if (it == blocks.end()) return fail();
    Target t = it->second;
    t.name = block + t.name + suffix;
    // Only Llama's rotary runs on interleaved pairs in llama.cpp; Qwen2's is
    // NeoX-style like Hugging Face's, so its rows stay as they are.
    if (c.architecture == Architecture::Qwen2) t.layout = Layout::AsIs;
    return t;
}

// Rows [heads * headDim, ...] grouped per head as two halves (Hugging Face's
// rotate_half) become interleaved pairs: view [heads, 2, headDim/2, ...],
// swap the middle two axes.
torch::Tensor permuteHeads(const torch::Tensor& w, std::int64_t heads)
{
    std::vector<std::int64_t> shape = {heads, 2, w.size(0) / heads / 2};
    for (std::int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
    return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

// GPT-NeoX's fused rows [heads, 3 (q k v), headDim, ...] become
// [3, heads, headDim, ...]: all queries, then all keys, then all values.
torch::Tensor regroupNeoXQkv(const torch::Tensor& w, std::int64_t heads, std::int64_t headDim)
{
    std::vector<std::int64_t> shape = {heads, 3, headDim};
    for (std::int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
    return w.reshape(shape).transpose(0, 1).reshape(w.sizes());
}

torch::Tensor laidOut(const torch::Tensor& w, Layout layout, const ModelConfig& c)
{
    switch (layout) {
    case Layout::AsIs: return w;
    case Layout::NeoXQkv: return regroupNeoXQkv(w, c.numHeads, c.headDim);
    case Layout::PermuteHeads: return permuteHeads(w, c.numHeads);
    case Layout::PermuteKvHeads: return permuteHeads(w, c.numKvHeads);
    }
    return w;
}

// Norms, biases and other 1-D tensors stay F32; weights take the file's type.
GgmlType storageType(const std::string& name, const std::vector<std::int64_t>& shape, GgufType type)
{
    if (shape.size() <= 1 || !endsWith(name, ".weight") || endsWith(name, "_norm.weight")) return GgmlType::F32;
    if (type == GgufType::Q8_0 && shape.back() % kQ8BlockSize == 0) return GgmlType::Q8_0;
    return GgmlType::F16;
}

GgufWriter::TensorValues valuesOf(torch::Tensor w, Layout layout, const ModelConfig& c)
{
    return [w = std::move(w), layout, c]() {
        const torch::Tensor t = laidOut(w.to(torch::kFloat32), layout, c).contiguous();
        const float* data = t.data_ptr<float>();
        return std::vector<float>(data, data + t.numel());
    };
}

// Biases llama.cpp's graph reads that this model does not have: zeros add nothing.
std::vector<std::pair<std::string, std::int64_t>> requiredBiases(const ModelConfig& c, std::int64_t layer)
{
    const std::string blk = "blk." + std::to_string(layer) + ".";
    std::vector<std::pair<std::string, std::int64_t>> out;
    if (c.architecture == Architecture::GptNeoX) {
        if (!c.qkvBias) out.emplace_back(blk + "attn_qkv.bias", 3 * c.hiddenSize);
        if (!c.outputProjBias) out.emplace_back(blk + "attn_output.bias", c.hiddenSize);
        if (!c.mlpBias) {
            out.emplace_back(blk + "ffn_up.bias", c.intermediateSize);
            out.emplace_back(blk + "ffn_down.bias", c.hiddenSize);
        }
    } else if (c.architecture == Architecture::Qwen2 && !c.qkvBias) {
        out.emplace_back(blk + "attn_q.bias", c.numHeads * c.headDim);
        out.emplace_back(blk + "attn_k.bias", c.numKvHeads * c.headDim);
        out.emplace_back(blk + "attn_v.bias", c.numKvHeads * c.headDim);
    }
    return out;
}

void addHyperparameters(GgufWriter& w, const ModelConfig& c)
{
    const std::string a = ggufArchitecture(c.architecture);
    const auto u32 = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
    w.addUint32(a + ".vocab_size", u32(c.vocabSize));
    w.addUint32(a + ".context_length", u32(c.maxPositions));
    w.addUint32(a + ".embedding_length", u32(c.hiddenSize));
    w.addUint32(a + ".block_count", u32(c.numLayers));
    w.addUint32(a + ".feed_forward_length", u32(c.intermediateSize));
    w.addUint32(a + ".attention.head_count", u32(c.numHeads));
    w.addUint32(a + ".rope.dimension_count", u32(c.rotaryDims()));
    w.addFloat32(a + ".rope.freq_base", static_cast<float>(c.ropeTheta));
    if (c.architecture == Architecture::GptNeoX) {
        w.addBool(a + ".use_parallel_residual", c.parallelResidual);
        w.addFloat32(a + ".attention.layer_norm_epsilon", static_cast<float>(c.normEps));
        return;
    }
    w.addUint32(a + ".attention.head_count_kv", u32(c.numKvHeads));
    w.addFloat32(a + ".attention.layer_norm_rms_epsilon", static_cast<float>(c.normEps));
    w.addUint32(a + ".attention.key_length", u32(c.headDim));
    w.addUint32(a + ".attention.value_length", u32(c.headDim));
}

std::string modelName(const ModelConfig& c)
{
    std::string path = c.nameOrPath;
    while (!path.empty() && path.back() == '/') path.pop_back();
    const std::string name = fs::path(path).filename().string();
    return name.empty() ? std::string("model") : name;
}

} // namespace


void exportGguf(CausalLMImpl& net, const Tokenizer& tokenizer, const fs::path& tokenizerDir, const fs::path& out, GgufType type)
{
    if (out.empty()) throw Error("GGUF export needs an output file");
    if (fs::is_directory(out)) throw fileError(out.string(), "is a folder; give the name of the .gguf file to write");
    const ModelConfig& c = net.config();
    checkExpressible(c);
    const GgufVocab vocab = ggufVocab(tokenizer, tokenizerDir, c.vocabSize, c.bosTokenId, c.eosTokenId);

    GgufWriter writer;
    writer.addString("general.architecture", ggufArchitecture(c.architecture));
    writer.addString("general.type", "model");
    writer.addString("general.name", modelName(c));
    writer.addUint32("general.file_type", type == GgufType::F16 ? kFileTypeF16 : kFileTypeQ8_0);
    writer.addUint32("general.quantization_version", kGgmlQuantVersion);
    addHyperparameters(writer, c);
    addVocabMetadata(writer, vocab);

    const auto weights = mergedWeights(net);
    const auto add = [&](const std::string& name, const torch::Tensor& w, Layout layout) {
        const std::vector<std::int64_t> shape = w.sizes().vec();
        writer.addTensor(name, shape, storageType(name, shape, type), valuesOf(w, layout, c));
    };
    std::int64_t layer = -1;
    const auto zeroBiasesUpTo = [&](std::int64_t next) {
        for (; layer < next; ++layer)
            if (layer >= 0)
                for (const auto& [name, size] : requiredBiases(c, layer)) add(name, torch::zeros({size}), Layout::AsIs);
    };
    const torch::Tensor* embedding = nullptr;
    bool hasOutput = false;
    for (const auto& [hf, w] : weights) {
        const Target t = targetOf(hf, c);
        if (t.name.rfind("blk.", 0) == 0) zeroBiasesUpTo(std::stoll(t.name.substr(4)));
        else if (t.name.rfind("output", 0) == 0) zeroBiasesUpTo(c.numLayers);
        if (t.name == "token_embd.weight") embedding = &w;
        if (t.name == "output.weight") hasOutput = true;
        add(t.name, w, t.layout);
    }
    zeroBiasesUpTo(c.numLayers);
    // A tied head is the embedding: llama.cpp's llama and qwen2 reuse
    // token_embd when output is absent; its gptneox reads output itself.
    if (!hasOutput && c.architecture == Architecture::GptNeoX && embedding) add("output.weight", *embedding, Layout::AsIs);
    writer.write(out);
}

} // namespace loralab
