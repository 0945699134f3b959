// Sentencepiece tokenizers: see sentencepiece_tokenizer.h.
#include "engine/tokenizer/sentencepiece_tokenizer.h"

#include "engine/tokenizer/spm_shim.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace loralab {
namespace {

// The shim's functions, resolved once.
struct Shim {
    decltype(&loralab_spm_abi) abi = nullptr;
    decltype(&loralab_spm_load) load = nullptr;
    decltype(&loralab_spm_free) free = nullptr;
    decltype(&loralab_spm_encode) encode = nullptr;
    decltype(&loralab_spm_decode) decode = nullptr;
    decltype(&loralab_spm_piece) piece = nullptr;
    decltype(&loralab_spm_piece_to_id) pieceToId = nullptr;
    decltype(&loralab_spm_size) size = nullptr;
    decltype(&loralab_spm_special) special = nullptr;
    decltype(&loralab_spm_release) release = nullptr;
    decltype(&loralab_spm_train) train = nullptr;
};

std::vector<std::filesystem::path> shimCandidates()
{
    std::vector<std::filesystem::path> out;
    if (const char* env = std::getenv("LORALAB_SPM_SHIM"); env && *env) out.emplace_back(env);
    std::error_code ec;
    const auto exeDir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    if (!ec) {
        out.push_back(exeDir / ".." / "lib" / "loralab" / "libloralab_spm.so");
        out.push_back(exeDir / "libloralab_spm.so");
    }
#ifdef LORALAB_SPM_SHIM_BUILD_PATH
    out.emplace_back(LORALAB_SPM_SHIM_BUILD_PATH);
#endif
    return out;
}

template <typename F>
void resolve(void* handle, const char* name, F& out)
{
    out = reinterpret_cast<F>(::dlsym(handle, name));
    if (!out) throw Error(std::string("the sentencepiece shim lacks ") + name);
}

const Shim& shim()
{
    static std::once_flag once;
    static Shim loaded;
    static std::string failure;
    std::call_once(once, [] {
        std::string tried;
        void* handle = nullptr;
        for (const auto& path : shimCandidates()) {
            if (!std::filesystem::exists(path)) continue;
            handle = ::dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (handle) break;
            tried += std::string(" ") + path.string() + " (" + ::dlerror() + ")";
        }
        if (!handle) {
            failure = "cannot load LoRA Lab's sentencepiece library libloralab_spm.so" +
                      (tried.empty() ? std::string(" (not found; set LORALAB_SPM_SHIM)") : ":" + tried);
            return;
        }
        try {
            resolve(handle, "loralab_spm_abi", loaded.abi);
            resolve(handle, "loralab_spm_load", loaded.load);
            resolve(handle, "loralab_spm_free", loaded.free);
            resolve(handle, "loralab_spm_encode", loaded.encode);
            resolve(handle, "loralab_spm_decode", loaded.decode);
            resolve(handle, "loralab_spm_piece", loaded.piece);
            resolve(handle, "loralab_spm_piece_to_id", loaded.pieceToId);
            resolve(handle, "loralab_spm_size", loaded.size);
            resolve(handle, "loralab_spm_special", loaded.special);
            resolve(handle, "loralab_spm_release", loaded.release);
            resolve(handle, "loralab_spm_train", loaded.train);
            if (loaded.abi() != LORALAB_SPM_ABI) throw Error("libloralab_spm.so is from a different LoRA Lab version");
        } catch (const Error& e) {
            failure = e.what();
            loaded = Shim{};
        }
    });
    if (!loaded.load) throw Error(failure);
    return loaded;
}

} // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::filesystem::path& modelFile) : m_path(modelFile.string())
{
    // Reading the bytes ourselves gives the same "file not found" wording as
    // every other loader; sentencepiece then only judges the contents.
    const std::string bytes = readTextFile(modelFile);
    if (bytes.empty()) throw fileError(m_path, "is empty, not a sentencepiece model");
    char error[512] = {0};
    m_model = shim().load(bytes.data(), bytes.size(), error, sizeof error);
    if (!m_model) throw fileError(m_path, std::string("is not a valid sentencepiece model (") + error + ")");
    if (vocabSize() <= 0) throw fileError(m_path, "is a sentencepiece model with no pieces");
    setSpecialIds(shim().special(m_model, 0), shim().special(m_model, 1), shim().special(m_model, 2));
    m_cutsAtSpaces = !joinsAcrossSpaces();
}

// Whether cutting text at a space between two ASCII letters or digits could
// change its ids. sentencepiece turns the space into "▁" and, with its dummy
// prefix, "X Y" becomes "▁X▁Y": the cut gives the same ids when no piece
// (user-defined symbols included) holds a character followed by "▁", so that
// no merge or Viterbi path can cross the cut, and when the text after the cut
// gets back its "▁" as a dummy prefix. The first is read from the vocabulary;
// the second, with the normalizer's handling of spaces, is tried on probes.
bool SentencePieceTokenizer::joinsAcrossSpaces() const
{
    static const std::string kSpace = "\xe2\x96\x81"; // U+2581, sentencepiece's space
    const auto isSpaceAt = [](const std::string& piece, std::size_t i) {
        return piece[i] == ' ' || piece.compare(i, kSpace.size(), kSpace) == 0;
    };
    for (std::int64_t id = 0; id < vocabSize(); ++id) {
        const std::string piece = tokenText(id);
        for (std::size_t i = 1; i < piece.size(); ++i) {
            if (!isSpaceAt(piece, i)) continue;
            const bool afterSpace = piece[i - 1] == ' ' || (i >= kSpace.size() && isSpaceAt(piece, i - kSpace.size()));
            if (!afterSpace) return true;
        }
    }
    for (const auto& [left, right] : {std::pair<const char*, const char*>{"a", "b"}, {"Hello", "world"}, {"Z", "9"}, {"x1", "y2"}}) {
        std::vector<std::int64_t> pieces = encodeWhole(left);
        const std::vector<std::int64_t> rest = encodeWhole(right);
        pieces.insert(pieces.end(), rest.begin(), rest.end());
        if (pieces != encodeWhole(std::string(left) + " " + right)) return true;
    }
    return false;
}

SentencePieceTokenizer::~SentencePieceTokenizer()
{
    if (m_model) shim().free(m_model);
}

namespace {

bool isAsciiAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The first space at or after `from` with an ASCII letter or digit on each
// side, or npos.
std::size_t findCut(std::string_view text, std::size_t from)
{
    for (std::size_t p = text.find(' ', from); p != std::string_view::npos && p + 1 < text.size(); p = text.find(' ', p + 1))
        if (p > 0 && isAsciiAlnum(text[p - 1]) && isAsciiAlnum(text[p + 1])) return p;
    return std::string_view::npos;
}

} // namespace

// sentencepiece keeps a symbol and a queue entry for every character of its
// input, and a 50 MB line took minutes and gigabytes; pieces of m_pieceBytes
// cost time and memory in proportion to the text. Where the model allows it
// (joinsAcrossSpaces), long text is cut at spaces, each cut space becoming
// the dummy prefix of the text after it, which gives the same ids.
EncodedText SentencePieceTokenizer::encodeWithOffsets(std::string_view) const
{
    throw fileError(m_path, "sentencepiece tokenizers (tokenizer.model) do not give token offsets in LoRA Lab yet, "
                            "which a chat template needs to find the assistant's tokens; use the model's tokenizer.json, "
                            "or train without its chat template (the Human/Assistant layout)");
}

std::vector<std::int64_t> SentencePieceTokenizer::encode(std::string_view text) const
{
    if (!m_cutsAtSpaces || m_pieceBytes == 0 || text.size() <= m_pieceBytes) return encodeWhole(text);
    std::vector<std::int64_t> out;
    std::size_t begin = 0;
    while (text.size() - begin > m_pieceBytes) {
        const std::size_t cut = findCut(text, begin + m_pieceBytes);
        if (cut == std::string_view::npos) break; // no space to cut at: the rest goes whole
        const std::vector<std::int64_t> ids = encodeWhole(text.substr(begin, cut - begin));
        out.insert(out.end(), ids.begin(), ids.end());
        begin = cut + 1;
    }
    const std::vector<std::int64_t> ids = encodeWhole(text.substr(begin));
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
}

std::vector<std::int64_t> SentencePieceTokenizer::encodeWhole(std::string_view text) const
{
    std::int64_t* ids = nullptr;
    std::size_t count = 0;
    char error[512] = {0};
    if (shim().encode(m_model, text.data(), text.size(), &ids, &count, error, sizeof error) != 0)
        throw fileError(m_path, std::string("cannot encode text (") + error + ")");
    std::vector<std::int64_t> out(ids, ids + count);
    shim().release(ids);
    return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids) const
{
    std::vector<std::int64_t> valid;
    valid.reserve(ids.size());
    const std::int64_t size = vocabSize();
    for (const std::int64_t id : ids)
        if (id >= 0 && id < size) valid.push_back(id);
    std::size_t length = 0;
    char* text = shim().decode(m_model, valid.data(), valid.size(), &length);
    if (!text) throw fileError(m_path, "cannot decode ids (out of memory)");
    std::string out(text, length);
    shim().release(text);
    return out;
}

std::string SentencePieceTokenizer::tokenText(std::int64_t id) const
{
    if (id < 0 || id >= vocabSize()) return {};
    char* piece = shim().piece(m_model, id);
    std::string out = piece ? piece : "";
    shim().release(piece);
    return out;
}

std::int64_t SentencePieceTokenizer::tokenId(std::string_view text) const
{
    // PieceToId answers the unk id for unknown pieces; only the unk piece
    // itself should get that answer.
    const std::int64_t id = shim().pieceToId(m_model, text.data(), text.size());
    if (id < 0 || id >= vocabSize()) return -1;
    return tokenText(id) == text ? id : -1;
}

std::int64_t SentencePieceTokenizer::vocabSize() const { return shim().size(m_model); }

std::int64_t SentencePieceTokenizer::unkId() const { return shim().special(m_model, 3); }

void trainSentencePiece(const std::vector<std::pair<std::string, std::string>>& options)
{
    std::string records;
    for (const auto& [key, value] : options) records += (records.empty() ? "" : "\x1f") + key + "=" + value;
    char error[1024] = {0};
    if (shim().train(records.c_str(), error, sizeof error) != 0)
        throw Error(std::string("sentencepiece training failed: ") + error);
}

} // namespace loralab
