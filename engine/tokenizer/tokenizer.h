// Tokenizers for the models LoRA Lab loads: Hugging Face tokenizer.json
// (byte-level BPE as used by GPT-NeoX/Pythia and Qwen) and sentencepiece
// .model files (Llama family). Both give exactly the ids the Python
// `tokenizers` / `sentencepiece` libraries give, with no special tokens added.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loralab {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Token ids for `text`; never adds BOS/EOS. Special tokens written in the
    // text (e.g. "<|endoftext|>") become their ids.
    virtual std::vector<std::int64_t> encode(std::string_view text) const = 0;
    // Text for `ids`, special tokens included, as the reference decoders give it.
    virtual std::string decode(const std::vector<std::int64_t>& ids) const = 0;
    // The vocabulary string of one id (e.g. "Ġworld"), "" when out of range.
    virtual std::string tokenText(std::int64_t id) const = 0;
    // The id of a vocabulary string or added token (e.g. "<|endoftext|>"),
    // -1 when there is none; used to resolve the special tokens a model's
    // tokenizer_config.json names.
    virtual std::int64_t tokenId(std::string_view text) const = 0;
    virtual std::int64_t vocabSize() const = 0;

    // -1 when the tokenizer has none.
    std::int64_t bosId() const { return m_bosId; }
    std::int64_t eosId() const { return m_eosId; }
    std::int64_t padId() const { return m_padId; }
    // What batches pad with: the padding token, else id 0 (padding is masked
    // out of attention and loss either way).
    std::int64_t paddingId() const { return m_padId >= 0 ? m_padId : 0; }
    // What an empty prompt starts from: the start token, else id 0.
    std::int64_t startId() const { return m_bosId >= 0 ? m_bosId : 0; }
    void setSpecialIds(std::int64_t bos, std::int64_t eos, std::int64_t pad)
    {
        m_bosId = bos;
        m_eosId = eos;
        m_padId = pad;
    }

    std::vector<std::string> tokenTexts(const std::vector<std::int64_t>& ids) const;

private:
    std::int64_t m_bosId = -1;
    std::int64_t m_eosId = -1;
    std::int64_t m_padId = -1;
};

// Loads the tokenizer of a Hugging Face model directory: tokenizer.json when
// present, otherwise tokenizer.model (sentencepiece). Special token ids come
// from tokenizer_config.json / special_tokens_map.json when present.
std::unique_ptr<Tokenizer> loadTokenizer(const std::filesystem::path& modelDir);

std::unique_ptr<Tokenizer> loadHfTokenizerJson(const std::filesystem::path& tokenizerJson);
std::unique_ptr<Tokenizer> loadSentencePieceModel(const std::filesystem::path& modelFile);

} // namespace loralab
