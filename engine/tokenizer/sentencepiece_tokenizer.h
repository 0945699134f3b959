// Sentencepiece tokenizers (tokenizer.model, the Llama family), through
// libsentencepiece so that ids match the Python `sentencepiece` package
// exactly. libsentencepiece is reached through LoRA Lab's shim library (see
// spm_shim.h for why); this wrapper adds error reporting and range checks.
#pragma once

#include "engine/tokenizer/tokenizer.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct LoralabSpm;

namespace loralab {

class SentencePieceTokenizer final : public Tokenizer {
public:
    // Throws Error "<path>: <problem>" for a missing or unreadable model.
    // Special ids start as the model's own bos/eos/pad ids.
    explicit SentencePieceTokenizer(const std::filesystem::path& modelFile);
    ~SentencePieceTokenizer() override;

    std::vector<std::int64_t> encode(std::string_view text) const override;
    // Not available yet: an Error that says so (chat templates need offsets).
    EncodedText encodeWithOffsets(std::string_view text) const override;
    // Ids outside the vocabulary are skipped.
    std::string decode(const std::vector<std::int64_t>& ids) const override;
    std::string tokenText(std::int64_t id) const override;
    std::int64_t tokenId(std::string_view text) const override;
    std::int64_t vocabSize() const override;

    std::int64_t unkId() const;

    // Whether long text is encoded in pieces cut at spaces (see encode),
    // decided when the model loads.
    bool cutsLongText() const { return m_cutsAtSpaces; }
    // Text longer than this many bytes is encoded in pieces; tests lower it to
    // compare pieces with a whole encoding, and 0 encodes every text whole.
    void setPieceBytes(std::size_t bytes) { m_pieceBytes = bytes; }

private:
    std::vector<std::int64_t> encodeWhole(std::string_view text) const;
    bool joinsAcrossSpaces() const;

    std::string m_path; // for messages
    LoralabSpm* m_model = nullptr;
    bool m_cutsAtSpaces = false;
    std::size_t m_pieceBytes = 16 * 1024; // smaller pieces encode no faster, larger ones slower (cache)
};

// Trains a sentencepiece model with libsentencepiece's trainer; `options` are
// its flags without the leading dashes ({"input", "corpus.txt"}, ...).
void trainSentencePiece(const std::vector<std::pair<std::string, std::string>>& options);

} // namespace loralab
