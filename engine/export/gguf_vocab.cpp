// Tokenizers as GGUF metadata; see gguf_vocab.h. The token lists follow
// llama.cpp's convert_hf_to_gguf.py (its public source): BPE ids missing from
// the tokenizer become "[PAD<i>]" user-defined tokens, sentencepiece ones
// "[PAD<i>]" unused tokens with score -10000; added special tokens are
// control tokens.
#include "engine/export/gguf_vocab.h"

#include "engine/export/protobuf_wire.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

namespace loralab {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The pre-tokenizer regexes llama.cpp knows by name (llama-vocab.cpp).
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string padToken(std::int64_t id) { return "[PAD" + std::to_string(id) + "]"; }

void checkSameToken(const Tokenizer& tokenizer, std::int64_t id, const std::string& text, const std::string& file)
{
    if (id < tokenizer.vocabSize() && tokenizer.tokenText(id) != text)
        throw fileError(file, "token " + std::to_string(id) + " is '" + text + "' here but '" + tokenizer.tokenText(id) +
                                  "' in the tokenizer being exported; give the folder it was loaded from");
}

// llama.cpp's name for the pre-tokenizer of a tokenizer.json, or an Error.
std::string preTokenizerName(const Json& j, const std::string& file)
{
    const Json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : Json();
    std::vector<Json> steps;
    if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers"))
        for (const auto& s : pre["pretokenizers"]) steps.push_back(s);
    else if (pre.is_object())
        steps.push_back(pre);
    const auto isByteLevel = [](const Json& s, bool useRegex) {
        return s.value("type", "") == "ByteLevel" && s.value("use_regex", true) == useRegex && !s.value("add_prefix_space", false);
    };
    const auto splitPattern = [](const Json& s) -> std::string {
        if (s.value("type", "") != "Split" || s.value("invert", false) || s.value("behavior", "") != "Isolated") return {};
        const auto& p = s.contains("pattern") ? s["pattern"] : Json();
        return p.is_object() && p.contains("Regex") && p["Regex"].is_string() ? p["Regex"].get<std::string>() : std::string();
    };
    if (steps.size() == 1 && isByteLevel(steps[0], true)) return "gpt-2";
    if (steps.size() == 2 && isByteLevel(steps[1], false)) {
        const std::string pattern = splitPattern(steps[0]);
        if (pattern == kQwen2Split) return "qwen2";
        if (pattern == kLlama3Split) return "llama-bpe";
    }
    throw fileError(file, "pre_tokenizer " + pre.dump() +
                              " has no llama.cpp equivalent (tokenizer.ggml.pre); GGUF export knows GPT-2's byte-level "
                              "pre-tokenizer and the Qwen2 and Llama 3 splits");
}

void readBpe(GgufVocab& v, const Tokenizer& tokenizer, const fs::path& path, std::int64_t modelVocab)
{
    const std::string file = path.string();
    Json j;
    try {
        j = Json::parse(readTextFile(path));
    } catch (const Json::exception& e) {
        throw fileError(file, std::string("is not valid JSON: ") + e.what());
    }
    const Json& model = j.contains("model") ? j["model"] : Json();
    if (!model.is_object() || model.value("type", "") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object())
        throw fileError(file, "model is not a BPE model with a vocab; GGUF export writes byte-level BPE and sentencepiece tokenizers");
    if (model.value("byte_fallback", false))
        throw fileError(file, "model.byte_fallback is set; llama.cpp's byte-level BPE tokenizer has no byte fallback");
    if (j.contains("normalizer") && !j["normalizer"].is_null() && j["normalizer"].value("type", "") != "NFC")
        throw fileError(file, "normalizer " + j["normalizer"].dump() + " has no llama.cpp equivalent (only NFC or none)");
    v.model = "gpt2";
    v.pre = preTokenizerName(j, file);

    std::vector<std::string> texts;
    std::vector<std::int32_t> types;
    const auto place = [&](std::int64_t id, const std::string& text, GgufTokenType type, const char* where) {
        if (id < 0 || id >= modelVocab)
            throw fileError(file, std::string(where) + " '" + text + "' has id " + std::to_string(id) + ", outside the model's " +
                                      std::to_string(modelVocab) + "-row embedding");
        if (static_cast<std::int64_t>(texts.size()) <= id) {
            texts.resize(static_cast<std::size_t>(id) + 1);
            types.resize(static_cast<std::size_t>(id) + 1, 0);
        }
        texts[static_cast<std::size_t>(id)] = text;
        types[static_cast<std::size_t>(id)] = static_cast<std::int32_t>(type);
    };
    for (const auto& [text, id] : model["vocab"].items()) place(id.get<std::int64_t>(), text, GgufTokenType::Normal, "vocab token");
    if (j.contains("added_tokens"))
        for (const auto& t : j["added_tokens"])
            place(t.value("id", std::int64_t{-1}), t.value("content", std::string()),
                  t.value("special", false) ? GgufTokenType::Control : GgufTokenType::UserDefined, "added token");
    v.tokens.resize(static_cast<std::size_t>(modelVocab));
    v.tokenTypes.assign(static_cast<std::size_t>(modelVocab), static_cast<std::int32_t>(GgufTokenType::Unused));
    for (std::int64_t id = 0; id < modelVocab; ++id) {
        const auto i = static_cast<std::size_t>(id);
        if (i < types.size() && types[i] != 0) {
            v.tokens[i] = texts[i];
            v.tokenTypes[i] = types[i];
            checkSameToken(tokenizer, id, texts[i], file);
        } else {
            v.tokens[i] = padToken(id);
        }
    }
    if (model.contains("merges"))
        for (const auto& m : model["merges"]) {
            if (m.is_string())
                v.merges.push_back(m.get<std::string>());
            else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
                v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
            else
                throw fileError(file, "model.merges holds " + m.dump() + ", neither \"a b\" nor [\"a\", \"b\"]");
        }
    if (model.contains("unk_token") && model["unk_token"].is_string()) v.unkId = tokenizer.tokenId(model["unk_token"].get<std::string>());
}

// sentencepiece_model.proto: ModelProto { repeated SentencePiece pieces = 1;
// TrainerSpec trainer_spec = 2; NormalizerSpec normalizer_spec = 3; }
void readSentencePiece(GgufVocab& v, const Tokenizer& tokenizer, const fs::path& path, std::int64_t modelVocab)
{
    const std::string file = path.string();
    const std::string bytes = readTextFile(path);
    ProtoReader proto(bytes, file);
    std::int64_t modelType = 1; // TrainerSpec.model_type defaults to UNIGRAM
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
    while (proto.next()) {
        if (proto.field() == 1) {
            ProtoReader piece(proto.bytes(), file);
            std::string text;
            float score = 0.0f;
            std::int32_t type = static_cast<std::int32_t>(GgufTokenType::Normal);
            while (piece.next()) {
                if (piece.field() == 1) text = std::string(piece.bytes());
                else if (piece.field() == 2) score = piece.fixed32Float();
                else if (piece.field() == 3) type = static_cast<std::int32_t>(piece.varint());
                else piece.skip();
            }
            if (type < 1 || type > 6) throw fileError(file, "piece " + std::to_string(pieces.size()) + " has unknown type " + std::to_string(type));
            pieces.push_back(text);
            scores.push_back(score);
            types.push_back(type);
        } else if (proto.field() == 2) {
            ProtoReader trainer(proto.bytes(), file);
            while (trainer.next()) {
                if (trainer.field() == 3) modelType = static_cast<std::int64_t>(trainer.varint());
                else trainer.skip();
            }
        } else if (proto.field() == 3) {
            ProtoReader normalizer(proto.bytes(), file);
            while (normalizer.next()) {
                if (normalizer.field() == 3) v.addSpacePrefix = normalizer.varint() != 0 ? 1 : 0;
                else normalizer.skip();
            }
        } else {
            proto.skip();
        }
    }
    if (pieces.empty()) throw fileError(file, "holds no pieces (not a sentencepiece model)");
    if (modelType != 2)
        throw fileError(file, "is a sentencepiece model of type " + std::to_string(modelType) +
                                  " (1 unigram, 3 word, 4 char); llama.cpp's \"llama\" tokenizer reads BPE models (type 2)");
    if (static_cast<std::int64_t>(pieces.size()) > modelVocab)
        throw fileError(file, "has " + std::to_string(pieces.size()) + " pieces, more than the model's " + std::to_string(modelVocab) +
                                  "-row embedding");
    if (v.addSpacePrefix < 0) v.addSpacePrefix = 1; // NormalizerSpec.add_dummy_prefix defaults to true
    v.model = "llama";
    v.pre = "default";
    v.tokens.resize(static_cast<std::size_t>(modelVocab));
    v.scores.assign(static_cast<std::size_t>(modelVocab), -10000.0f);
    v.tokenTypes.assign(static_cast<std::size_t>(modelVocab), static_cast<std::int32_t>(GgufTokenType::Unused));
    for (std::int64_t id = 0; id < modelVocab; ++id) {
        const auto i = static_cast<std::size_t>(id);
        if (i >= pieces.size()) {
            v.tokens[i] = padToken(id);
            continue;
        }
        v.tokens[i] = pieces[i];
        v.scores[i] = scores[i];
        v.tokenTypes[i] = types[i];
        checkSameToken(tokenizer, id, pieces[i], file);
        if (types[i] == static_cast<std::int32_t>(GgufTokenType::Unknown) && v.unkId < 0) v.unkId = id;
    }
}

void readTokenizerConfig(GgufVocab& v, const fs::path& path)
{
    if (!fs::exists(path)) return;
    Json j;
    try {
        j = Json::parse(readTextFile(path));
    } catch (const Json::exception& e) {
        throw fileError(path.string(), std::string("is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw fileError(path.string(), "is not a JSON object");
    if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) v.addBos = j["add_bos_token"].get<bool>() ? 1 : 0;
    if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) v.addEos = j["add_eos_token"].get<bool>() ? 1 : 0;
    if (j.contains("chat_template") && j["chat_template"].is_string()) v.chatTemplate = j["chat_template"].get<std::string>();
}

} // namespace

GgufVocab ggufVocab(const Tokenizer& tokenizer, const fs::path& tokenizerDir, std::int64_t modelVocab, std::int64_t fallbackBos,
                    std::int64_t fallbackEos)
{
    if (tokenizerDir.empty()) throw Error("GGUF export needs the folder of the model's tokenizer files");
    if (tokenizer.vocabSize() > modelVocab)
        throw fileError(tokenizerDir.string(), "the tokenizer has " + std::to_string(tokenizer.vocabSize()) +
                                                   " tokens, more than the model's " + std::to_string(modelVocab) + "-row embedding");
    GgufVocab v;
    if (fs::exists(tokenizerDir / "tokenizer.json"))
        readBpe(v, tokenizer, tokenizerDir / "tokenizer.json", modelVocab);
    else if (fs::exists(tokenizerDir / "tokenizer.model"))
        readSentencePiece(v, tokenizer, tokenizerDir / "tokenizer.model", modelVocab);
    else
        throw fileError(tokenizerDir.string(), "has neither tokenizer.json nor tokenizer.model");
    readTokenizerConfig(v, tokenizerDir / "tokenizer_config.json");
    const auto inRange = [&](std::int64_t id) { return id >= 0 && id < modelVocab ? id : -1; };
    v.bosId = inRange(tokenizer.bosId() >= 0 ? tokenizer.bosId() : fallbackBos);
    v.eosId = inRange(tokenizer.eosId() >= 0 ? tokenizer.eosId() : fallbackEos);
    v.padId = inRange(tokenizer.padId());
    v.unkId = inRange(v.unkId);
    return v;
}

void addVocabMetadata(GgufWriter& writer, const GgufVocab& v)
{
    writer.addString("tokenizer.ggml.model", v.model);
    writer.addString("tokenizer.ggml.pre", v.pre);
    writer.addStringArray("tokenizer.ggml.tokens", v.tokens);
    if (!v.scores.empty()) writer.addFloat32Array("tokenizer.ggml.scores", v.scores);
    writer.addInt32Array("tokenizer.ggml.token_type", v.tokenTypes);
    if (!v.merges.empty()) writer.addStringArray("tokenizer.ggml.merges", v.merges);
    const auto id = [&](const char* key, std::int64_t value) {
        if (value >= 0) writer.addUint32(key, static_cast<std::uint32_t>(value));
    };
    id("tokenizer.ggml.bos_token_id", v.bosId);
    id("tokenizer.ggml.eos_token_id", v.eosId);
    id("tokenizer.ggml.unknown_token_id", v.unkId);
    id("tokenizer.ggml.padding_token_id", v.padId);
    // LoRA Lab tokenizes without BOS or EOS unless tokenizer_config.json says
    // otherwise, so llama.cpp is told the same rather than left to its default.
    writer.addBool("tokenizer.ggml.add_bos_token", v.addBos == 1);
    writer.addBool("tokenizer.ggml.add_eos_token", v.addEos == 1);
    if (v.addSpacePrefix >= 0) writer.addBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix == 1);
    if (!v.chatTemplate.empty()) writer.addString("tokenizer.chat_template", v.chatTemplate);
}

} // namespace loralab
