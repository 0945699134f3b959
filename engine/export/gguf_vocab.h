// A tokenizer as GGUF metadata, the way llama.cpp's converter writes it:
//  - byte-level BPE (tokenizer.json): tokenizer.ggml.model "gpt2", tokens,
//    token types, merges, and tokenizer.ggml.pre naming llama.cpp's
//    pre-tokenizer ("gpt-2", "qwen2" or "llama-bpe", recognized from the
//    file's pre_tokenizer);
//  - sentencepiece BPE (tokenizer.model): "llama", pre "default", tokens,
//    scores and token types read from the model file;
//  - bos/eos/unk/pad ids, add_bos/add_eos from tokenizer_config.json (false
//    where it says nothing: LoRA Lab adds neither when it tokenizes), and the
//    chat template when there is one.
// Ids the model has beyond the tokenizer's become unused "[PAD<i>]" tokens,
// so the list is as long as the embedding. What llama.cpp cannot express is an Error
// naming the file and the feature. No LibTorch here.
#pragma once

#include "engine/export/gguf_writer.h"
#include "engine/tokenizer/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

// llama.cpp's token types (llama_token_type), also sentencepiece's piece types.
enum class GgufTokenType : std::int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct GgufVocab {
    std::string model; // tokenizer.ggml.model: "gpt2" or "llama"
    std::string pre;   // tokenizer.ggml.pre
    std::vector<std::string> tokens;
    std::vector<std::int32_t> tokenTypes; // GgufTokenType values
    std::vector<float> scores;            // sentencepiece only
    std::vector<std::string> merges;      // BPE only: "left right"
    std::int64_t bosId = -1; // -1: none
    std::int64_t eosId = -1;
    std::int64_t unkId = -1;
    std::int64_t padId = -1;
    int addBos = -1; // tokenizer_config.json's add_bos_token: 1, 0, or -1 when it says nothing
    int addEos = -1;
    int addSpacePrefix = -1; // sentencepiece's add_dummy_prefix
    std::string chatTemplate;
};

// Reads the tokenizer files of `tokenizerDir` (the ones `tokenizer` was
// loaded from; each token must read the same in both) for a model whose
// embedding has `modelVocab` rows. `fallbackBos` / `fallbackEos` (the model
// config's ids, -1 for none) apply where the tokenizer names none.
GgufVocab ggufVocab(const Tokenizer& tokenizer, const std::filesystem::path& tokenizerDir, std::int64_t modelVocab,
                    std::int64_t fallbackBos, std::int64_t fallbackEos);

void addVocabMetadata(GgufWriter& writer, const GgufVocab& vocab);

} // namespace loralab
