// Token offsets for the byte-level BPE tokenizer (BpeTokenizer::
// encodeWithOffsets): the same walk as encode(), carrying for every byte of
// the text being encoded the span of the caller's text it came from. The
// result follows the reference's offset mapping: a token that holds part of
// a character spans the whole character, and a character NFC composed spans
// the first character it was composed from. Offsets are bytes; the reference
// counts characters, which the same spans give once converted.
#include "engine/tokenizer/bpe_tokenizer.h"

#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"

namespace loralab {
namespace {

bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t charLength(std::string_view text, std::size_t pos)
{
    std::size_t next = pos;
    decodeUtf8(text, next);
    return next - pos;
}

// A byte-fallback token, "<0x41>": one byte of the text.
bool isByteToken(const std::string& token)
{
    return token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>';
}

// Where each byte of nfc(part) came from, `part` starting at byte `base` of
// the caller's text. The text is cut into runs of a starter and the marks
// after it (runs that compose across their boundary, as Hangul syllables
// do, are joined); a run NFC leaves alone maps byte for byte. In a run it
// changes, the k-th character comes from the run's k-th character (the last
// one for any beyond): the reference aligns a composed character with the
// first character it was made from, and what was absorbed into it belongs
// to no token. (A run whose marks NFC reorders can be one character off.)
std::vector<TokenSpan> nfcOrigin(std::string_view part, std::size_t base, const std::string& normalized)
{
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    std::size_t pos = 0;
    while (pos < part.size()) {
        const std::size_t start = pos;
        const bool ascii = static_cast<unsigned char>(part[pos]) < 0x80;
        decodeUtf8(part, pos);
        while (pos < part.size()) {
            std::size_t next = pos;
            if (combiningClass(decodeUtf8(part, next)) == 0) break;
            pos = next;
        }
        // Nothing composes with an ASCII character that follows it.
        if (!runs.empty() && !ascii) {
            auto& last = runs.back();
            const std::string_view before = part.substr(last.first, last.second - last.first);
            const std::string_view current = part.substr(start, pos - start);
            if (nfc(part.substr(last.first, pos - last.first)) != nfc(before) + nfc(current)) {
                last.second = pos;
                continue;
            }
        }
        runs.emplace_back(start, pos);
    }
    std::vector<TokenSpan> origin;
    origin.reserve(normalized.size());
    std::string rebuilt;
    for (const auto& [begin, end] : runs) {
        const std::string_view run = part.substr(begin, end - begin);
        const std::string composed = nfc(run);
        rebuilt += composed;
        if (composed == run) {
            for (std::size_t i = begin; i < end; ++i) origin.push_back({base + i, base + i + 1});
            continue;
        }
        std::vector<TokenSpan> sources; // the run's characters
        for (std::size_t at = begin; at < end;) {
            const std::size_t length = charLength(part, at);
            sources.push_back({base + at, base + at + length});
            at += length;
        }
        std::size_t k = 0;
        for (std::size_t at = 0; at < composed.size(); ++k) {
            const std::size_t length = charLength(composed, at);
            origin.insert(origin.end(), length, sources[std::min(k, sources.size() - 1)]);
            at += length;
        }
    }
    if (rebuilt != normalized) // never seen; the whole stretch is then the honest answer
        origin.assign(normalized.size(), TokenSpan{base, base + part.size()});
    return origin;
}

} // namespace

EncodedText BpeTokenizer::encodeWithOffsets(std::string_view text) const
{
    if (const std::size_t bad = findInvalidUtf8(text); bad != std::string_view::npos)
        throw fileError(m_source, "cannot give token offsets for text that is not valid UTF-8 (" + invalidUtf8At(text, bad) + ")");
    EncodedText out;
    out.ids.reserve(text.size() / 3);
    out.offsets.reserve(text.size() / 3);
    std::vector<TokenSpan> origin(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) origin[i] = {i, i + 1};
    try {
        for (const Segment& raw : findAddedTokens(text, m_rawAdded)) {
            if (raw.id >= 0) {
                out.ids.push_back(raw.id);
                out.offsets.push_back({raw.begin, raw.end});
                continue;
            }
            const std::string_view part = text.substr(raw.begin, raw.end - raw.begin);
            const OffsetTrack track{origin.data() + raw.begin, &out.offsets};
            const std::string normalized = m_nfc ? nfc(part) : std::string();
            if (!m_nfc || normalized == part) {
                encodeNormalized(part, out.ids, &track);
                continue;
            }
            const std::vector<TokenSpan> composed = nfcOrigin(part, raw.begin, normalized);
            const OffsetTrack normalizedTrack{composed.data(), &out.offsets};
            encodeNormalized(normalized, out.ids, &normalizedTrack);
        }
    } catch (const Error& e) {
        throw fileError(m_source, e.what());
    }
    for (TokenSpan& span : out.offsets) {
        while (span.begin > 0 && span.begin < text.size() && isContinuation(text[span.begin])) --span.begin;
        while (span.end < text.size() && isContinuation(text[span.end])) ++span.end;
    }
    return out;
}

void BpeTokenizer::wordSpans(std::string_view word, const std::vector<std::int64_t>& ids, std::size_t first,
                             const OffsetTrack& track) const
{
    std::size_t pos = 0;
    for (std::size_t k = first; k < ids.size(); ++k) {
        const std::string& token = m_idToText[static_cast<std::size_t>(ids[k])];
        std::size_t length = 0;
        if (!token.empty() && word.compare(pos, token.size(), token) == 0) {
            length = token.size();
        } else if (isByteToken(token)) {
            length = 1;
        } else if (pos < word.size()) {
            // An unknown character (or with fuse_unk, a run of them): up to
            // where the next token's text starts.
            length = charLength(word, pos);
            const std::string* next = k + 1 < ids.size() ? &m_idToText[static_cast<std::size_t>(ids[k + 1])] : nullptr;
            while (pos + length < word.size() &&
                   (!next || next->empty() || word.compare(pos + length, next->size(), *next) != 0))
                length += charLength(word, pos + length);
        }
        length = std::min(length, word.size() - pos);
        if (length == 0) {
            const std::size_t at = word.empty() ? 0 : track.origin[pos == 0 ? 0 : pos - 1].end;
            track.spans->push_back({at, at});
        } else {
            track.spans->push_back({track.origin[pos].begin, track.origin[pos + length - 1].end});
        }
        pos += length;
    }
}

} // namespace loralab
