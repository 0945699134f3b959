// Byte-level BPE from a Hugging Face tokenizer.json (GPT-NeoX/Pythia, Qwen
// and other GPT-2 style tokenizers). Encoding follows the `tokenizers`
// library step by step: added tokens are cut out of the raw text, the rest is
// normalized (NFC), pre-tokenized (ByteLevel and/or regex Split), and each
// piece is merged by BPE rank. What this class cannot reproduce exactly
// (other models, normalizers or pre-tokenizers) is refused at load time with
// an Error naming the file and the feature, rather than encoded differently.
#pragma once

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace loralab {

class BpeTokenizer final : public Tokenizer {
public:
    // Reads a tokenizer.json; throws Error "<path>: <problem>".
    static std::unique_ptr<BpeTokenizer> fromFile(const std::filesystem::path& path);
    // The same from JSON text already in memory; `sourceName` stands for the
    // file in error messages.
    static std::unique_ptr<BpeTokenizer> fromJson(std::string_view jsonText, const std::string& sourceName);

    ~BpeTokenizer() override;

    // Invalid UTF-8 in `text` is read as U+FFFD, as Python's
    // errors="replace" would read it before the reference tokenizer sees it.
    std::vector<std::int64_t> encode(std::string_view text) const override;
    // Offsets as transformers' tokenizers give them: a token that covers
    // part of a character spans the whole character, and text the NFC
    // normalizer composed maps to the characters it came from. A ByteLevel
    // post-processor's trim_offsets is not applied: transformers' GPT-2 and
    // GPT-NeoX tokenizer classes replace that post-processor, and trimmed
    // offsets would lose the spaces an assistant's text begins with. Text
    // that is not valid UTF-8 is an Error (offsets into repaired text would
    // point at the wrong bytes).
    EncodedText encodeWithOffsets(std::string_view text) const override;
    // Unknown ids are skipped, as the reference decoder skips them; byte
    // sequences that are not valid UTF-8 come out as U+FFFD.
    std::string decode(const std::vector<std::int64_t>& ids) const override;
    std::string tokenText(std::int64_t id) const override;
    std::int64_t tokenId(std::string_view text) const override;
    std::int64_t vocabSize() const override { return static_cast<std::int64_t>(m_idToText.size()); }

private:
    friend class BpeLoader;

    struct PreTokenizerStep {
        enum class Kind { ByteLevel, Split };
        Kind kind = Kind::ByteLevel;
        bool addPrefixSpace = false;               // ByteLevel: put a space before each piece that lacks one
        std::shared_ptr<const UnicodeRegex> regex; // Split; ByteLevel with use_regex (the GPT-2 pattern)
        SplitBehavior behavior = SplitBehavior::Isolated;
        bool invert = false; // Split: the pattern matches what lies between pieces
    };

    struct AddedToken {
        std::string content;
        std::int32_t id = 0;
        bool lstrip = false;     // also takes the whitespace before it
        bool rstrip = false;     // also takes the whitespace after it
        bool singleWord = false; // only when no letter or digit touches it
    };
    // Added tokens indexed by first byte, longest first within a byte, so a
    // scan finds the leftmost-longest match as the reference's Aho-Corasick does.
    struct AddedTokenSet {
        std::vector<AddedToken> tokens;
        std::array<std::vector<std::uint32_t>, 256> byFirstByte;
    };
    // A stretch of text: an added token (id >= 0) or text between them (-1).
    struct Segment {
        std::size_t begin = 0;
        std::size_t end = 0;
        std::int32_t id = -1;
    };
    struct Merge {
        std::int32_t rank = 0; // position in the merges list; lower merges first
        std::int32_t id = 0;   // the token the pair becomes
    };
    enum class Decoder { ByteLevel, JoinWithSpace };

    // For encodeWithOffsets: origin[i] is the span of the caller's text that
    // byte i of the text being encoded came from (a byte the pre-tokenizer
    // maps to two, or a character NFC composed, keeps its source's span);
    // spans receives each token's span. Null in encode().
    struct OffsetTrack {
        const TokenSpan* origin = nullptr;
        std::vector<TokenSpan>* spans = nullptr;
        OffsetTrack at(std::size_t offset) const { return {origin + offset, spans}; }
    };

    BpeTokenizer() = default;

    std::vector<Segment> findAddedTokens(std::string_view text, const AddedTokenSet& set) const;
    void encodeNormalized(std::string_view text, std::vector<std::int64_t>& ids, const OffsetTrack* track) const;
    // Runs the pre-tokenizer from step `step` on and encodes each final piece;
    // pieces go straight down the steps, so no list of a text's pieces is built.
    void encodePieces(std::string_view text, std::size_t step, std::vector<std::int64_t>& ids, const OffsetTrack* track) const;
    void encodeWord(std::string_view word, std::vector<std::int64_t>& ids) const;
    // The spans of the tokens ids[first..] that encodeWord made of `word`.
    void wordSpans(std::string_view word, const std::vector<std::int64_t>& ids, std::size_t first, const OffsetTrack& track) const;
    std::vector<std::int32_t> initialSymbols(std::string_view word) const;
    std::vector<std::int32_t> mergeWord(std::string_view word) const;

    std::string m_source; // the file, for messages

    // The model.
    std::unordered_map<std::string, std::int32_t> m_vocab;
    std::unordered_map<std::uint64_t, Merge> m_merges; // key: left id << 32 | right id
    std::int32_t m_unkId = -1;
    bool m_fuseUnk = false;
    bool m_byteFallback = false;
    bool m_ignoreMerges = false; // a word that is itself in the vocabulary is not merged

    // Every id, model and added tokens: its text, and whether it is added
    // (added tokens decode to their content, not through the byte mapping).
    std::vector<std::string> m_idToText;
    std::vector<bool> m_isAdded;
    std::unordered_map<std::string, std::int32_t> m_addedIds;

    AddedTokenSet m_rawAdded;        // matched in the text as given
    AddedTokenSet m_normalizedAdded; // matched after normalization
    bool m_nfc = false;
    std::vector<PreTokenizerStep> m_preTokenizer;
    Decoder m_decoder = Decoder::ByteLevel;

    // BPE results per word. encode() is const and may run on several threads,
    // so the cache sits behind a mutex; merging itself runs outside it.
    mutable std::mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<std::int32_t>> m_cache;
};

} // namespace loralab
