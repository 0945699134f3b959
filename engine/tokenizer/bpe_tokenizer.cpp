// Byte-level BPE from tokenizer.json: see bpe_tokenizer.h. The first half
// reads and checks the file (BpeLoader); the second half encodes and decodes.
#include "engine/tokenizer/bpe_tokenizer.h"

#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <queue>

namespace loralab {

using Json = nlohmann::json;

namespace {

// Ids beyond this are refused: no vocabulary comes near it, and a corrupt
// file must not make the loader allocate gigabytes for its id table.
constexpr std::int64_t kMaxTokenId = std::int64_t{1} << 24;
// Nested Sequence normalizers / pre-tokenizers / decoders; real files use one level.
constexpr int kMaxNesting = 8;
// Words whose merges are remembered. Natural text repeats a few tens of
// thousands of words; past this the cache starts over rather than grow.
constexpr std::size_t kCacheCapacity = 1 << 16;
constexpr std::size_t kMaxCachedWordBytes = 256;

// The pattern the ByteLevel pre-tokenizer splits with when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2's reversible byte-to-character map: printable Latin-1 bytes stand for
// themselves and the other 68 bytes take the code points from U+0100 on, so
// any byte string becomes printable text that BPE can merge.
class ByteLevelMap {
public:
    ByteLevelMap()
    {
        m_charToByte.fill(-1);
        int next = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
            appendUtf8(m_byteText[b], cp);
            m_charToByte[cp] = static_cast<std::int16_t>(b);
        }
    }
    void append(std::string& out, std::string_view bytes) const
    {
        for (const char c : bytes) out += m_byteText[static_cast<unsigned char>(c)];
    }
    // The byte a character stands for; -1 for characters outside the map.
    int byteOf(char32_t cp) const { return cp < m_charToByte.size() ? m_charToByte[cp] : -1; }

private:
    std::array<std::string, 256> m_byteText;
    std::array<std::int16_t, 256 + 68> m_charToByte;
};

const ByteLevelMap& byteLevelMap()
{
    static const ByteLevelMap map;
    return map;
}

std::shared_ptr<const UnicodeRegex> gpt2Regex()
{
    static const auto regex = std::make_shared<const UnicodeRegex>(kGpt2Pattern);
    return regex;
}

// A token for an error message: quoted, and cut short if a corrupt file holds
// something huge.
std::string inQuotes(std::string_view text)
{
    constexpr std::size_t kMax = 60;
    if (text.size() <= kMax) return "\"" + std::string(text) + "\"";
    return "\"" + toValidUtf8(text.substr(0, kMax)) + "...\"";
}

std::string indexed(const std::string& where, std::size_t i) { return where + "[" + std::to_string(i) + "]"; }

// Start of the character that ends just before `pos`, not before `floor`.
std::size_t previousCharStart(std::string_view text, std::size_t pos, std::size_t floor)
{
    if (pos <= floor) return pos;
    std::size_t start = pos - 1;
    while (start > floor && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return start;
}

// One merge as the file writes it: "left right" (older files) or [left, right].
struct MergeText {
    std::string left; // the whole "left right" when `joined`
    std::string right;
    bool joined = false;
};

// model.vocab and model.merges: hundreds of thousands of entries in a real
// vocabulary. Kept in a JSON tree they cost a map node or a small heap array
// each, which made loading several times slower, so the parse callback below
// takes them out of the tree as they are read.
struct BigParts {
    std::vector<std::pair<std::string, std::int64_t>> vocab;
    std::vector<MergeText> merges;
    // Something the callback does not expect (a non-integer id, a duplicate
    // section...): the file is parsed again as a plain tree, whose checks
    // give the precise error.
    bool irregular = false;
};

struct BigPartsCollector {
    using Event = Json::parse_event_t;

    explicit BigPartsCollector(BigParts& collected) : parts(collected) {}

    BigParts& parts;
    std::string topKey;   // the current key of the top-level object
    std::string modelKey; // the current key inside "model"
    std::string vocabKey; // the key of the vocabulary entry being read
    Event sectionStart = Event::value; // how the current value inside "model" began
    int vocabSections = 0;
    int mergeSections = 0;

    // Depths as nlohmann counts them: keys of the top-level object are at 1,
    // keys of "model" at 2, entries of model.vocab and model.merges at 3.
    // Returning false leaves a value out of the tree.
    bool operator()(int depth, Event event, Json& parsed)
    {
        if (event == Event::key && depth == 1) {
            topKey = parsed.get<std::string>();
            modelKey.clear();
            return true;
        }
        if (topKey != "model" || depth < 2) return true;
        if (event == Event::key && depth == 2) {
            modelKey = parsed.get<std::string>();
            return true;
        }
        if (depth == 2 && (event == Event::object_start || event == Event::array_start)) {
            sectionStart = event;
            if (modelKey == "vocab" && ++vocabSections > 1) parts.irregular = true;
            if (modelKey == "merges" && ++mergeSections > 1) parts.irregular = true;
            return true;
        }
        if (depth != 3) return true;
        if (modelKey == "vocab" && sectionStart == Event::object_start) return vocabEntry(event, parsed);
        if (modelKey == "merges" && sectionStart == Event::array_start) return mergeEntry(event, parsed);
        return true;
    }

    bool vocabEntry(Event event, Json& parsed)
    {
        if (event == Event::key) {
            vocabKey = parsed.get<std::string>();
        } else if (event == Event::value && parsed.is_number_integer() &&
                   (!parsed.is_number_unsigned() || parsed.get<std::uint64_t>() <= INT64_MAX)) {
            parts.vocab.emplace_back(std::move(vocabKey), parsed.get<std::int64_t>());
        } else {
            parts.irregular = true;
        }
        return false;
    }

    bool mergeEntry(Event event, Json& parsed)
    {
        if (event == Event::value && parsed.is_string()) {
            parts.merges.push_back({parsed.get<std::string>(), std::string(), true});
        } else if (event == Event::array_start) {
            return true; // [left, right]: judged whole at its end
        } else if (event == Event::array_end && parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_string()) {
            parts.merges.push_back({parsed[0].get<std::string>(), parsed[1].get<std::string>(), false});
        } else {
            parts.irregular = true;
        }
        return false;
    }
};

} // namespace

// ---------------------------------------------------------------------------
// Loading

class BpeLoader {
public:
    explicit BpeLoader(BpeTokenizer& tokenizer) : m_tok(tokenizer) {}

    // `parts` holds what the parse took out of model.vocab and model.merges;
    // whatever `root` still holds there is read too.
    void load(const Json& root, BigParts& parts)
    {
        if (!root.is_object()) throw problem("the top level is not a JSON object");
        loadNormalizer(field(root, "normalizer"), "normalizer", 0);
        const Json* model = field(root, "model");
        if (!model) throw problem("has no \"model\" section");
        loadModel(*model, parts);
        loadAddedTokens(field(root, "added_tokens"));
        loadPreTokenizer(field(root, "pre_tokenizer"), "pre_tokenizer", 0);
        m_tok.m_decoder = BpeTokenizer::Decoder::JoinWithSpace;
        loadDecoder(field(root, "decoder"), "decoder", 0);
        // post_processor only adds BOS/EOS-style tokens, which encode() never
        // does; truncation and padding are the caller's business.
        buildIdTable();
    }

private:
    Error problem(const std::string& what) const { return fileError(m_tok.m_source, what); }
    Error unsupported(const std::string& where, const std::string& type, const std::string& supported) const
    {
        return problem(where + " type " + inQuotes(type) + " is not supported (LoRA Lab reads " + supported + ")");
    }

    // A member that is present and not null, else nullptr.
    static const Json* field(const Json& object, const char* key)
    {
        const auto it = object.find(key);
        return it == object.end() || it->is_null() ? nullptr : &*it;
    }
    const Json& object(const Json* value, const std::string& where) const
    {
        if (!value) throw problem(where + " is missing");
        if (!value->is_object()) throw problem(where + " is not an object (found " + value->type_name() + ")");
        return *value;
    }
    const Json& array(const Json* value, const std::string& where) const
    {
        if (!value) throw problem(where + " is missing");
        if (!value->is_array()) throw problem(where + " is not a list (found " + value->type_name() + ")");
        return *value;
    }
    std::string string(const Json* value, const std::string& where) const
    {
        if (!value) throw problem(where + " is missing");
        if (!value->is_string()) throw problem(where + " is not a string (found " + value->type_name() + ")");
        return value->get<std::string>();
    }
    bool flag(const Json& object, const char* key, bool fallback, const std::string& where) const
    {
        const Json* value = field(object, key);
        if (!value) return fallback;
        if (!value->is_boolean()) throw problem(where + "." + key + " is not true or false");
        return value->get<bool>();
    }
    std::int32_t tokenId(const Json& value, const std::string& where) const
    {
        if (!value.is_number_integer()) throw problem(where + " is not an integer token id");
        const bool negative = value.is_number_unsigned() ? false : value.get<std::int64_t>() < 0;
        if (negative || value.get<std::uint64_t>() >= static_cast<std::uint64_t>(kMaxTokenId))
            throw problem(where + " is not a valid token id (0 to " + std::to_string(kMaxTokenId - 1) + ")");
        return static_cast<std::int32_t>(value.get<std::int64_t>());
    }
    std::string typeOf(const Json& object, const std::string& where) const
    {
        return string(field(object, "type"), where + ".type");
    }

    void loadModel(const Json& modelValue, BigParts& parts)
    {
        const Json& model = object(&modelValue, "model");
        if (const Json* type = field(model, "type")) {
            const std::string name = string(type, "model.type");
            if (name != "BPE") throw unsupported("model", name, "BPE tokenizers");
        } else if (!field(model, "merges")) {
            throw problem("model has no \"type\" and no \"merges\"; only BPE tokenizers are supported");
        }
        for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
            const Json* value = field(model, key);
            if (value && !(value->is_string() && value->get<std::string>().empty()))
                throw problem(std::string("model.") + key + " is not supported (byte-level BPE does not use it)");
        }
        // model.dropout is ignored on purpose: BPE dropout is a training-time
        // augmentation, and LoRA Lab wants the same ids for the same text.

        const Json& vocab = object(field(model, "vocab"), "model.vocab");
        for (const auto& [text, id] : vocab.items()) {
            if (!id.is_number_integer()) throw problem("model.vocab[" + inQuotes(text) + "] is not an integer token id");
            parts.vocab.emplace_back(text, id.get<std::int64_t>());
        }
        m_tok.m_vocab.reserve(parts.vocab.size());
        for (auto& [text, id] : parts.vocab) {
            if (id < 0 || id >= kMaxTokenId)
                throw problem("model.vocab[" + inQuotes(text) + "] is not a valid token id (0 to " +
                              std::to_string(kMaxTokenId - 1) + ")");
            m_tok.m_vocab[std::move(text)] = static_cast<std::int32_t>(id);
        }

        if (const Json* merges = field(model, "merges")) {
            const Json& list = array(merges, "model.merges");
            for (std::size_t i = 0; i < list.size(); ++i) {
                const Json& entry = list[i];
                if (entry.is_string())
                    parts.merges.push_back({entry.get<std::string>(), std::string(), true});
                else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string())
                    parts.merges.push_back({entry[0].get<std::string>(), entry[1].get<std::string>(), false});
                else
                    throw problem(indexed("model.merges", parts.merges.size()) +
                                  " is neither \"left right\" nor [left, right]");
            }
            loadMerges(parts.merges);
        }

        if (const Json* unk = field(model, "unk_token")) {
            // An unk token missing from the vocabulary is as good as none.
            const auto it = m_tok.m_vocab.find(string(unk, "model.unk_token"));
            if (it != m_tok.m_vocab.end()) m_tok.m_unkId = it->second;
        }
        m_tok.m_fuseUnk = flag(model, "fuse_unk", false, "model");
        m_tok.m_byteFallback = flag(model, "byte_fallback", false, "model");
        m_tok.m_ignoreMerges = flag(model, "ignore_merges", false, "model");
    }

    std::int32_t vocabId(const std::string& text, std::size_t mergeIndex, const char* role) const
    {
        const auto it = m_tok.m_vocab.find(text);
        if (it == m_tok.m_vocab.end())
            throw problem(indexed("model.merges", mergeIndex) + ": " + role + " " + inQuotes(text) +
                          " is not in the vocabulary");
        return it->second;
    }

    void loadMerges(std::vector<MergeText>& merges)
    {
        m_tok.m_merges.reserve(merges.size());
        for (std::size_t i = 0; i < merges.size(); ++i) {
            MergeText& merge = merges[i];
            if (merge.joined) {
                // The older form "left right": tokens never contain a space
                // (byte-level BPE writes it as "Ġ"), so exactly one is expected.
                const std::size_t space = merge.left.find(' ');
                if (space == std::string::npos || merge.left.find(' ', space + 1) != std::string::npos)
                    throw problem(indexed("model.merges", i) + " " + inQuotes(merge.left) +
                                  " is not two tokens separated by one space");
                merge.right = merge.left.substr(space + 1);
                merge.left.resize(space);
            }
            const std::int32_t leftId = vocabId(merge.left, i, "token");
            const std::int32_t rightId = vocabId(merge.right, i, "token");
            const std::int32_t mergedId = vocabId(merge.left + merge.right, i, "merged token");
            const std::uint64_t key = (static_cast<std::uint64_t>(leftId) << 32) | static_cast<std::uint32_t>(rightId);
            // A pair listed twice keeps its last rank, as the reference's map does.
            m_tok.m_merges[key] = {static_cast<std::int32_t>(i), mergedId};
        }
    }

    void loadAddedTokens(const Json* value)
    {
        if (!value) return;
        const Json& list = array(value, "added_tokens");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string where = indexed("added_tokens", i);
            const Json& entry = object(&list[i], where);
            BpeTokenizer::AddedToken token;
            token.id = tokenId(entry.contains("id") ? entry["id"] : Json(), where + ".id");
            token.content = string(field(entry, "content"), where + ".content");
            if (token.content.empty()) throw problem(where + ".content is empty");
            if (!isValidUtf8(token.content)) throw problem(where + ".content is not valid UTF-8");
            token.lstrip = flag(entry, "lstrip", false, where);
            token.rstrip = flag(entry, "rstrip", false, where);
            token.singleWord = flag(entry, "single_word", false, where);
            const bool special = flag(entry, "special", false, where);
            const bool normalized = flag(entry, "normalized", !special, where);
            m_added.push_back(token);
            if (normalized) {
                // Matched against normalized text, so it is normalized too.
                if (m_tok.m_nfc) token.content = nfc(token.content);
                m_tok.m_normalizedAdded.tokens.push_back(std::move(token));
            } else {
                m_tok.m_rawAdded.tokens.push_back(std::move(token));
            }
        }
        indexAddedTokens(m_tok.m_rawAdded);
        indexAddedTokens(m_tok.m_normalizedAdded);
    }

    static void indexAddedTokens(BpeTokenizer::AddedTokenSet& set)
    {
        for (std::uint32_t i = 0; i < set.tokens.size(); ++i)
            set.byFirstByte[static_cast<unsigned char>(set.tokens[i].content[0])].push_back(i);
        for (auto& candidates : set.byFirstByte)
            std::stable_sort(candidates.begin(), candidates.end(), [&](std::uint32_t a, std::uint32_t b) {
                return set.tokens[a].content.size() > set.tokens[b].content.size();
            });
    }

    void loadNormalizer(const Json* value, const std::string& where, int depth)
    {
        if (!value) return;
        if (depth > kMaxNesting) throw problem(where + " is nested too deeply");
        const std::string type = typeOf(object(value, where), where);
        if (type == "NFC") {
            m_tok.m_nfc = true;
        } else if (type == "Sequence") {
            const Json& list = array(field(*value, "normalizers"), where + ".normalizers");
            for (std::size_t i = 0; i < list.size(); ++i)
                loadNormalizer(&list[i], indexed(where + ".normalizers", i), depth + 1);
        } else {
            throw unsupported(where, type, "NFC, or none");
        }
    }

    void loadPreTokenizer(const Json* value, const std::string& where, int depth)
    {
        if (!value) return;
        if (depth > kMaxNesting) throw problem(where + " is nested too deeply");
        const Json& config = object(value, where);
        const std::string type = typeOf(config, where);
        BpeTokenizer::PreTokenizerStep step;
        if (type == "ByteLevel") {
            step.kind = BpeTokenizer::PreTokenizerStep::Kind::ByteLevel;
            step.addPrefixSpace = flag(config, "add_prefix_space", true, where);
            if (flag(config, "use_regex", true, where)) step.regex = gpt2Regex();
        } else if (type == "Split") {
            step.kind = BpeTokenizer::PreTokenizerStep::Kind::Split;
            step.regex = splitPattern(object(field(config, "pattern"), where + ".pattern"), where + ".pattern");
            step.behavior = splitBehavior(string(field(config, "behavior"), where + ".behavior"), where);
            step.invert = flag(config, "invert", false, where);
        } else if (type == "Sequence") {
            const Json& list = array(field(config, "pretokenizers"), where + ".pretokenizers");
            for (std::size_t i = 0; i < list.size(); ++i)
                loadPreTokenizer(&list[i], indexed(where + ".pretokenizers", i), depth + 1);
            return;
        } else {
            throw unsupported(where, type, "ByteLevel, Split and Sequence");
        }
        m_tok.m_preTokenizer.push_back(std::move(step));
    }

    std::shared_ptr<const UnicodeRegex> splitPattern(const Json& pattern, const std::string& where) const
    {
        const Json* regex = field(pattern, "Regex");
        const Json* literal = field(pattern, "String");
        if (!regex && !literal) throw problem(where + " has neither \"Regex\" nor \"String\"");
        try {
            if (regex) return std::make_shared<const UnicodeRegex>(string(regex, where + ".Regex"));
            return std::make_shared<const UnicodeRegex>(string(literal, where + ".String"), true);
        } catch (const Error& e) {
            throw problem(where + ": " + e.what());
        }
    }

    SplitBehavior splitBehavior(const std::string& name, const std::string& where) const
    {
        using B = SplitBehavior;
        if (name == "Isolated") return B::Isolated;
        if (name == "Removed") return B::Removed;
        if (name == "MergedWithPrevious") return B::MergedWithPrevious;
        if (name == "MergedWithNext") return B::MergedWithNext;
        if (name == "Contiguous") return B::Contiguous;
        throw problem(where + ".behavior " + inQuotes(name) + " is not a known Split behavior");
    }

    void loadDecoder(const Json* value, const std::string& where, int depth)
    {
        if (!value) return;
        if (depth > kMaxNesting) throw problem(where + " is nested too deeply");
        const Json& config = object(value, where);
        const std::string type = typeOf(config, where);
        if (type == "ByteLevel") {
            m_tok.m_decoder = BpeTokenizer::Decoder::ByteLevel;
        } else if (type == "Sequence") {
            // Only a sequence of ByteLevel decoders means the same as one.
            const Json& list = array(field(config, "decoders"), where + ".decoders");
            if (list.empty()) throw problem(where + ".decoders is empty");
            for (std::size_t i = 0; i < list.size(); ++i) loadDecoder(&list[i], indexed(where + ".decoders", i), depth + 1);
        } else {
            throw unsupported(where, type, "ByteLevel");
        }
    }

    void buildIdTable()
    {
        std::int64_t maxId = -1;
        for (const auto& entry : m_tok.m_vocab) maxId = std::max<std::int64_t>(maxId, entry.second);
        for (const auto& token : m_added) maxId = std::max<std::int64_t>(maxId, token.id);
        const std::size_t count = m_tok.m_vocab.size() + m_added.size();
        // Real vocabularies are dense; a handful of large ids in a small file
        // is corruption, and would cost a huge table.
        if (maxId >= static_cast<std::int64_t>(4 * count + 1024))
            throw problem("token ids are too sparse (largest id " + std::to_string(maxId) + " for " +
                          std::to_string(count) + " tokens)");
        m_tok.m_idToText.assign(static_cast<std::size_t>(maxId + 1), std::string());
        m_tok.m_isAdded.assign(static_cast<std::size_t>(maxId + 1), false);
        std::vector<bool> taken(static_cast<std::size_t>(maxId + 1), false);
        for (const auto& [text, id] : m_tok.m_vocab) {
            // Two tokens of one id would decode ambiguously and encode one of them never.
            if (taken[static_cast<std::size_t>(id)])
                throw problem("model.vocab gives id " + std::to_string(id) + " to both " + inQuotes(m_tok.m_idToText[id]) +
                              " and " + inQuotes(text));
            taken[static_cast<std::size_t>(id)] = true;
            m_tok.m_idToText[id] = text;
        }
        for (const auto& token : m_added) {
            m_tok.m_idToText[token.id] = token.content;
            m_tok.m_isAdded[token.id] = true;
            m_tok.m_addedIds[token.content] = token.id;
        }
    }

    BpeTokenizer& m_tok;
    std::vector<BpeTokenizer::AddedToken> m_added; // as written, before normalization
};

std::unique_ptr<BpeTokenizer> BpeTokenizer::fromFile(const std::filesystem::path& path)
{
    // Mapped rather than read: a real vocabulary file is ~11 MB, and copying
    // it through a stream costs a noticeable part of the load time.
    const MappedFile file(path);
    const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    return fromJson(text, path.string());
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::fromJson(std::string_view jsonText, const std::string& sourceName)
{
    std::unique_ptr<BpeTokenizer> tokenizer(new BpeTokenizer());
    tokenizer->m_source = sourceName;
    Json root;
    BigParts parts;
    try {
        root = Json::parse(jsonText.begin(), jsonText.end(), BigPartsCollector(parts));
        if (parts.irregular) {
            parts = BigParts();
            root = Json::parse(jsonText.begin(), jsonText.end());
        }
    } catch (const Json::exception& e) {
        const std::string utf8 = utf8Problem(jsonText);
        if (!utf8.empty()) throw fileError(sourceName, utf8);
        std::string why = e.what();
        const std::size_t tag = why.find("] "); // drop "[json.exception.parse_error.101] "
        if (tag != std::string::npos) why = why.substr(tag + 2);
        throw fileError(sourceName, "is not valid JSON (" + why + ")");
    }
    try {
        BpeLoader(*tokenizer).load(root, parts);
    } catch (const Json::exception& e) {
        // The loader checks every type it reads; this is the backstop.
        throw fileError(sourceName, std::string("has an unexpected structure (") + e.what() + ")");
    }
    return tokenizer;
}

BpeTokenizer::~BpeTokenizer() = default;

// ---------------------------------------------------------------------------
// Encoding

std::vector<BpeTokenizer::Segment> BpeTokenizer::findAddedTokens(std::string_view text,
                                                                 const AddedTokenSet& set) const
{
    std::vector<Segment> segments;
    std::size_t plainStart = 0; // start of the text not yet assigned to a segment
    std::size_t pos = 0;
    while (pos < text.size() && !set.tokens.empty()) {
        const AddedToken* found = nullptr;
        for (const std::uint32_t index : set.byFirstByte[static_cast<unsigned char>(text[pos])]) {
            const AddedToken& token = set.tokens[index];
            if (text.compare(pos, token.content.size(), token.content) == 0) {
                found = &token;
                break;
            }
        }
        if (!found) {
            ++pos;
            continue;
        }
        std::size_t begin = pos;
        std::size_t end = pos + found->content.size();
        if (found->singleWord) {
            std::size_t before = previousCharStart(text, begin, 0);
            const bool wordBefore = begin > 0 && isAlphanumeric(decodeUtf8(text, before));
            std::size_t after = end;
            const bool wordAfter = after < text.size() && isAlphanumeric(decodeUtf8(text, after));
            if (wordBefore || wordAfter) {
                pos = end; // the reference resumes its search after a rejected match
                continue;
            }
        }
        if (found->lstrip) {
            while (begin > plainStart) {
                const std::size_t start = previousCharStart(text, begin, plainStart);
                std::size_t next = start;
                if (!isWhitespace(decodeUtf8(text, next))) break;
                begin = start;
            }
        }
        if (found->rstrip) {
            while (end < text.size()) {
                std::size_t next = end;
                if (!isWhitespace(decodeUtf8(text, next))) break;
                end = next;
            }
        }
        if (begin > plainStart) segments.push_back({plainStart, begin, -1});
        segments.push_back({begin, end, found->id});
        plainStart = pos = end;
    }
    if (plainStart < text.size()) segments.push_back({plainStart, text.size(), -1});
    return segments;
}

std::vector<std::int64_t> BpeTokenizer::encode(std::string_view text) const
{
    std::string repaired;
    if (!isValidUtf8(text)) {
        repaired = toValidUtf8(text);
        text = repaired;
    }
    std::vector<std::int64_t> ids;
    ids.reserve(text.size() / 3);
    try {
        for (const Segment& raw : findAddedTokens(text, m_rawAdded)) {
            if (raw.id >= 0) {
                ids.push_back(raw.id);
                continue;
            }
            const std::string_view part = text.substr(raw.begin, raw.end - raw.begin);
            if (m_nfc)
                encodeNormalized(nfc(part), ids);
            else
                encodeNormalized(part, ids);
        }
    } catch (const Error& e) {
        // A regex from the file can still fail on some text (PCRE2's match
        // limits); say which tokenizer it was.
        throw fileError(m_source, e.what());
    }
    return ids;
}

void BpeTokenizer::encodeNormalized(std::string_view text, std::vector<std::int64_t>& ids) const
{
    for (const Segment& segment : findAddedTokens(text, m_normalizedAdded)) {
        if (segment.id >= 0) {
            ids.push_back(segment.id);
            continue;
        }
        encodePieces(text.substr(segment.begin, segment.end - segment.begin), 0, ids);
    }
}

void BpeTokenizer::encodePieces(std::string_view text, std::size_t stepIndex, std::vector<std::int64_t>& ids) const
{
    if (stepIndex == m_preTokenizer.size()) {
        encodeWord(text, ids);
        return;
    }
    const PreTokenizerStep& step = m_preTokenizer[stepIndex];
    if (step.kind == PreTokenizerStep::Kind::Split) {
        step.regex->split(text, step.behavior, step.invert,
                          [&](std::string_view piece) { encodePieces(piece, stepIndex + 1, ids); });
        return;
    }
    std::string spaced;
    if (step.addPrefixSpace && (text.empty() || text[0] != ' ')) {
        spaced = " ";
        spaced += text;
        text = spaced;
    }
    std::string mapped; // reused: each piece is finished before the next is cut
    const auto toByteLevel = [&](std::string_view piece) {
        mapped.clear();
        byteLevelMap().append(mapped, piece);
        encodePieces(mapped, stepIndex + 1, ids);
    };
    if (step.regex)
        step.regex->split(text, SplitBehavior::Isolated, false, toByteLevel);
    else
        toByteLevel(text);
}

void BpeTokenizer::encodeWord(std::string_view wordView, std::vector<std::int64_t>& ids) const
{
    if (wordView.empty()) return;
    const std::string word(wordView); // the maps want a std::string key
    if (m_ignoreMerges) {
        const auto it = m_vocab.find(word);
        if (it != m_vocab.end()) {
            ids.push_back(it->second);
            return;
        }
    }
    {
        std::lock_guard<std::mutex> lock(m_cacheMutex);
        const auto it = m_cache.find(word);
        if (it != m_cache.end()) {
            ids.insert(ids.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<std::int32_t> merged = mergeWord(wordView);
    ids.insert(ids.end(), merged.begin(), merged.end());
    if (word.size() > kMaxCachedWordBytes) return;
    std::lock_guard<std::mutex> lock(m_cacheMutex);
    if (m_cache.size() >= kCacheCapacity) m_cache.clear();
    m_cache.emplace(word, std::move(merged));
}

std::vector<std::int32_t> BpeTokenizer::initialSymbols(std::string_view word) const
{
    std::vector<std::int32_t> ids;
    ids.reserve(word.size());
    bool previousUnknown = false;
    std::size_t pos = 0;
    std::string character;
    while (pos < word.size()) {
        const std::size_t start = pos;
        decodeUtf8(word, pos);
        character.assign(word.substr(start, pos - start));
        const auto it = m_vocab.find(character);
        if (it != m_vocab.end()) {
            ids.push_back(it->second);
            previousUnknown = false;
            continue;
        }
        if (m_byteFallback) {
            std::vector<std::int32_t> bytes;
            for (const char c : character) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(c));
                const auto byteIt = m_vocab.find(name);
                if (byteIt == m_vocab.end()) break;
                bytes.push_back(byteIt->second);
            }
            if (bytes.size() == character.size()) {
                ids.insert(ids.end(), bytes.begin(), bytes.end());
                previousUnknown = false;
                continue;
            }
        }
        if (m_unkId >= 0 && !(m_fuseUnk && previousUnknown)) {
            ids.push_back(m_unkId);
            previousUnknown = true;
        }
        // Without an unk token the reference drops the character; so do we.
    }
    return ids;
}

std::vector<std::int32_t> BpeTokenizer::mergeWord(std::string_view word) const
{
    std::vector<std::int32_t> ids = initialSymbols(word);
    const auto n = static_cast<std::int32_t>(ids.size());
    if (n < 2) return ids;

    // The symbols form a linked list; merging joins a symbol with its right
    // neighbour, which leaves the list.
    std::vector<std::int32_t> prev(n);
    std::vector<std::int32_t> next(n);
    std::vector<char> alive(n, 1);
    for (std::int32_t i = 0; i < n; ++i) {
        prev[i] = i - 1;
        next[i] = i + 1 < n ? i + 1 : -1;
    }
    const auto findMerge = [&](std::int32_t left, std::int32_t right) -> const Merge* {
        const auto it =
            m_merges.find((static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint32_t>(right));
        return it == m_merges.end() ? nullptr : &it->second;
    };

    // Candidate merges, lowest rank first and leftmost among equal ranks.
    // Entries go stale when a neighbour merges first; they are checked on pop.
    struct Candidate {
        std::int32_t rank;
        std::int32_t pos;
        std::int32_t id;
    };
    const auto later = [](const Candidate& a, const Candidate& b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
    for (std::int32_t i = 0; i + 1 < n; ++i)
        if (const Merge* m = findMerge(ids[i], ids[i + 1])) queue.push({m->rank, i, m->id});

    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        const std::int32_t right = next[top.pos];
        if (!alive[top.pos] || right < 0) continue;
        const Merge* current = findMerge(ids[top.pos], ids[right]);
        if (!current || current->id != top.id) continue; // stale

        ids[top.pos] = top.id;
        alive[right] = 0;
        next[top.pos] = next[right];
        if (next[right] >= 0) prev[next[right]] = top.pos;

        if (prev[top.pos] >= 0)
            if (const Merge* m = findMerge(ids[prev[top.pos]], ids[top.pos]))
                queue.push({m->rank, prev[top.pos], m->id});
        if (next[top.pos] >= 0)
            if (const Merge* m = findMerge(ids[top.pos], ids[next[top.pos]])) queue.push({m->rank, top.pos, m->id});
    }

    std::vector<std::int32_t> result;
    for (std::int32_t i = 0; i >= 0; i = next[i]) result.push_back(ids[i]);
    return result;
}

// ---------------------------------------------------------------------------
// Decoding and lookups

std::string BpeTokenizer::decode(const std::vector<std::int64_t>& ids) const
{
    std::string bytes;
    bool first = true;
    for (const std::int64_t id : ids) {
        if (id < 0 || id >= vocabSize() || m_idToText[id].empty()) continue;
        const std::string& text = m_idToText[id];
        if (m_decoder == Decoder::JoinWithSpace) {
            if (!first) bytes.push_back(' ');
            bytes += text;
        } else if (m_isAdded[id]) {
            bytes += text;
        } else {
            // Map each character back to its byte; a token with a character
            // outside the map is taken as it is, as the reference does.
            const std::size_t mark = bytes.size();
            std::size_t pos = 0;
            while (pos < text.size()) {
                const int byte = byteLevelMap().byteOf(decodeUtf8(text, pos));
                if (byte < 0) {
                    bytes.resize(mark);
                    bytes += text;
                    break;
                }
                bytes.push_back(static_cast<char>(byte));
            }
        }
        first = false;
    }
    return isValidUtf8(bytes) ? bytes : toValidUtf8(bytes);
}

std::string BpeTokenizer::tokenText(std::int64_t id) const
{
    return id >= 0 && id < vocabSize() ? m_idToText[id] : std::string();
}

std::int64_t BpeTokenizer::tokenId(std::string_view text) const
{
    const std::string key(text);
    if (const auto it = m_addedIds.find(key); it != m_addedIds.end()) return it->second;
    if (const auto it = m_vocab.find(key); it != m_vocab.end()) return it->second;
    return -1;
}

} // namespace loralab
