// Choosing and loading a model directory's tokenizer, and reading which of
// its tokens are BOS, EOS and padding: see tokenizer.h.
#include "engine/tokenizer/tokenizer.h"

#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/sentencepiece_tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/json_file.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace loralab {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct SpecialTokens {
    std::optional<std::string> bos;
    std::optional<std::string> eos;
    std::optional<std::string> pad;
};

// A special token entry is either the token text or an object holding it in
// "content" (the AddedToken form newer transformers versions write).
std::optional<std::string> tokenContent(const Json& config, const char* key)
{
    const auto it = config.find(key);
    if (it == config.end()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object()) {
        const auto content = it->find("content");
        if (content != it->end() && content->is_string()) return content->get<std::string>();
    }
    return std::nullopt;
}

// Fills what `tokens` still lacks from one config file, if it exists.
void readSpecialTokens(const fs::path& file, SpecialTokens& tokens)
{
    if (!fs::exists(file)) return;
    const Json config = parseJsonObject<Json>(readTextFile(file), file.string());
    if (!tokens.bos) tokens.bos = tokenContent(config, "bos_token");
    if (!tokens.eos) tokens.eos = tokenContent(config, "eos_token");
    if (!tokens.pad) tokens.pad = tokenContent(config, "pad_token");
}

// The configs name special tokens by text; a name the vocabulary lacks
// leaves the tokenizer's own choice in place.
std::int64_t resolve(const Tokenizer& tokenizer, const std::optional<std::string>& text, std::int64_t fallback)
{
    if (!text) return fallback;
    const std::int64_t id = tokenizer.tokenId(*text);
    return id >= 0 ? id : fallback;
}

} // namespace

EncodedText Tokenizer::encodeWithOffsets(std::string_view) const
{
    throw Error("this tokenizer cannot tell which part of a text each token came from (token offsets)");
}

std::vector<std::string> Tokenizer::tokenTexts(const std::vector<std::int64_t>& ids) const
{
    std::vector<std::string> texts;
    texts.reserve(ids.size());
    for (const std::int64_t id : ids) texts.push_back(tokenText(id));
    return texts;
}

std::unique_ptr<Tokenizer> loadHfTokenizerJson(const fs::path& tokenizerJson)
{
    return BpeTokenizer::fromFile(tokenizerJson);
}

std::unique_ptr<Tokenizer> loadSentencePieceModel(const fs::path& modelFile)
{
    return std::make_unique<SentencePieceTokenizer>(modelFile);
}

std::unique_ptr<Tokenizer> loadTokenizer(const fs::path& modelDir)
{
    std::error_code ec;
    if (!fs::is_directory(modelDir, ec))
        throw fileError(modelDir.string(), fs::exists(modelDir, ec) ? "is not a directory" : "directory not found");

    std::unique_ptr<Tokenizer> tokenizer;
    // tokenizer.json wins when both exist: it is what transformers' fast
    // tokenizers, and so the reference ids, are made from.
    if (fs::exists(modelDir / "tokenizer.json"))
        tokenizer = loadHfTokenizerJson(modelDir / "tokenizer.json");
    else if (fs::exists(modelDir / "tokenizer.model"))
        tokenizer = loadSentencePieceModel(modelDir / "tokenizer.model");
    else
        throw fileError(modelDir.string(), "has neither tokenizer.json nor tokenizer.model");

    SpecialTokens names;
    readSpecialTokens(modelDir / "tokenizer_config.json", names);
    readSpecialTokens(modelDir / "special_tokens_map.json", names);
    tokenizer->setSpecialIds(resolve(*tokenizer, names.bos, tokenizer->bosId()),
                             resolve(*tokenizer, names.eos, tokenizer->eosId()),
                             resolve(*tokenizer, names.pad, tokenizer->padId()));
    return tokenizer;
}

} // namespace loralab
