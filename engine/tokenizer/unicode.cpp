// Unicode text helpers: see unicode.h. utf8proc provides normalization and
// character categories; PCRE2 provides the regexes.
#include "engine/tokenizer/unicode.h"

#include "engine/util/error.h"

#include <pcre2.h>
#include <utf8proc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace loralab {
namespace {

// Bounds of the second byte of a well-formed sequence, which depend on the
// lead byte (Unicode Table 3-7); later bytes are always 0x80..0xBF.
struct LeadInfo {
    int length = 0; // 0: the byte cannot start a sequence
    unsigned char secondMin = 0x80;
    unsigned char secondMax = 0xBF;
};

LeadInfo leadInfo(unsigned char b)
{
    if (b < 0x80) return {1};
    if (b < 0xC2) return {0};
    if (b < 0xE0) return {2};
    if (b == 0xE0) return {3, 0xA0, 0xBF};
    if (b == 0xED) return {3, 0x80, 0x9F}; // excludes surrogates
    if (b < 0xF0) return {3};
    if (b == 0xF0) return {4, 0x90, 0xBF};
    if (b < 0xF4) return {4};
    if (b == 0xF4) return {4, 0x80, 0x8F}; // nothing above U+10FFFF
    return {0};
}

} // namespace

namespace {

// Decodes one code point; `ok` is false for an ill-formed sequence (so that a
// literal U+FFFD in the text can be told apart from a replacement).
char32_t decodeOne(std::string_view text, std::size_t& pos, bool& ok)
{
    ok = true;
    const auto lead = static_cast<unsigned char>(text[pos]);
    const LeadInfo info = leadInfo(lead);
    if (info.length == 1) {
        ++pos;
        return lead;
    }
    ok = false;
    if (info.length == 0) {
        ++pos;
        return kReplacementChar;
    }
    char32_t cp = lead & (0x7F >> info.length);
    std::size_t i = pos + 1;
    for (int k = 1; k < info.length; ++k, ++i) {
        const unsigned char lo = k == 1 ? info.secondMin : 0x80;
        const unsigned char hi = k == 1 ? info.secondMax : 0xBF;
        const auto b = i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
        if (i >= text.size() || b < lo || b > hi) {
            pos = i; // a byte that breaks the sequence starts the next one
            return kReplacementChar;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    pos = i;
    ok = true;
    return cp;
}

} // namespace

char32_t decodeUtf8(std::string_view text, std::size_t& pos)
{
    bool ok = true;
    return decodeOne(text, pos, ok);
}

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::size_t findInvalidUtf8(std::string_view text)
{
    std::size_t pos = 0;
    bool ok = true;
    while (pos < text.size()) {
        if (static_cast<unsigned char>(text[pos]) < 0x80) { // fast path for ASCII runs
            ++pos;
            continue;
        }
        const std::size_t start = pos;
        decodeOne(text, pos, ok);
        if (!ok) return start;
    }
    return std::string_view::npos;
}

bool isValidUtf8(std::string_view text) { return findInvalidUtf8(text) == std::string_view::npos; }

std::string invalidUtf8At(std::string_view text, std::size_t offset)
{
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", offset < text.size() ? static_cast<unsigned char>(text[offset]) : 0u);
    return std::string("byte ") + hex + " at offset " + std::to_string(offset);
}

std::string toValidUtf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    bool ok = true;
    while (pos < text.size()) {
        const std::size_t start = pos;
        decodeOne(text, pos, ok);
        if (ok)
            out.append(text.substr(start, pos - start));
        else
            appendUtf8(out, kReplacementChar);
    }
    return out;
}

std::string nfc(std::string_view text)
{
    bool ascii = true;
    for (const char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii) return std::string(text); // ASCII is its own NFC form

    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                     &mapped, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n < 0) throw Error(std::string("NFC normalization failed: ") + utf8proc_errmsg(n));
    std::string out(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
    std::free(mapped);
    return out;
}

bool isWhitespace(char32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

bool isAlphanumeric(char32_t cp)
{
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

bool isPythonSpace(char32_t cp) { return isWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

bool isPrintable(char32_t cp)
{
    if (cp < 0x80) return cp >= 0x20 && cp < 0x7F;
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return false;
    default:
        return true;
    }
}

char32_t toUpperCase(char32_t cp)
{
    if (cp < 0x80) return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
    return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp)));
}

char32_t toLowerCase(char32_t cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

char32_t toTitleCase(char32_t cp)
{
    if (cp < 0x80) return toUpperCase(cp);
    return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp)));
}

int combiningClass(char32_t cp)
{
    if (cp < 0x300) return 0;
    return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
}

// ---------------------------------------------------------------------------
// UnicodeRegex

namespace {

std::string pcre2Message(int code)
{
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0) return "error " + std::to_string(code);
    return reinterpret_cast<const char*>(buffer);
}

// Match data and a JIT stack for the calling thread. One set serves every
// pattern: only the whole-match offsets are read, so a small ovector suffices
// (PCRE2 returns 0 when a pattern has more groups, and still fills group 0).
struct ThreadMatchState {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* jitStack = nullptr;

    ThreadMatchState()
    {
        data = pcre2_match_data_create(4, nullptr);
        context = pcre2_match_context_create(nullptr);
        // The default 32 KiB JIT stack is too small for long runs of
        // whitespace under `\s+(?!\S)`; 1 MiB covers any realistic text.
        jitStack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
        if (context && jitStack) pcre2_jit_stack_assign(context, nullptr, jitStack);
    }
    ~ThreadMatchState()
    {
        pcre2_jit_stack_free(jitStack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
    ThreadMatchState(const ThreadMatchState&) = delete;
    ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& threadMatchState()
{
    thread_local ThreadMatchState state;
    if (!state.data || !state.context) throw Error("out of memory for regex matching");
    return state;
}

} // namespace

struct UnicodeRegex::Impl {
    pcre2_code* code = nullptr;
    ~Impl() { pcre2_code_free(code); }
};

UnicodeRegex::UnicodeRegex(const std::string& pattern, bool literal) : m_impl(std::make_unique<Impl>())
{
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    // PCRE2 refuses UCP together with LITERAL, and a literal needs no classes.
    const std::uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    m_impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &errorCode,
                                 &errorOffset, nullptr);
    if (!m_impl->code)
        throw Error("regex \"" + pattern + "\" does not compile at offset " + std::to_string(errorOffset) + ": " +
                    pcre2Message(errorCode));
    // Without JIT (unsupported CPU) matching still works, only slower.
    pcre2_jit_compile(m_impl->code, PCRE2_JIT_COMPLETE);
}

UnicodeRegex::~UnicodeRegex() = default;

void UnicodeRegex::split(std::string_view subject, SplitBehavior behavior, bool invert,
                         const std::function<void(std::string_view)>& emit) const
{
    // The subject is cut into parts, each a match or the text between two,
    // and the parts are joined as `behavior` says with at most one held back.
    struct Part {
        std::size_t begin = 0;
        std::size_t end = 0;
        bool isMatch = false;
    };
    Part held;
    bool holding = false;
    bool previousMatch = false;
    const auto flush = [&] {
        if (holding) emit(subject.substr(held.begin, held.end - held.begin));
        holding = false;
    };
    const auto take = [&](Part part) {
        if (part.end <= part.begin) return;
        part.isMatch = part.isMatch != invert;
        switch (behavior) {
        case SplitBehavior::Removed:
            if (!part.isMatch) emit(subject.substr(part.begin, part.end - part.begin));
            break;
        case SplitBehavior::Isolated:
            emit(subject.substr(part.begin, part.end - part.begin));
            break;
        case SplitBehavior::MergedWithPrevious:
            // A match joins the piece before it, unless that was a match too.
            if (part.isMatch && !previousMatch && holding) {
                held.end = part.end;
            } else {
                flush();
                held = part;
                holding = true;
            }
            break;
        case SplitBehavior::MergedWithNext:
            // A match joins the piece after it, unless that is a match too.
            if (holding && !part.isMatch) {
                held.end = part.end;
                flush();
            } else {
                flush();
                if (part.isMatch) {
                    held = part;
                    holding = true;
                } else {
                    emit(subject.substr(part.begin, part.end - part.begin));
                }
            }
            break;
        case SplitBehavior::Contiguous:
            // Adjacent parts of one kind become one piece (two matches, or
            // with `invert` two pieces of text between matches).
            if (part.isMatch == previousMatch && holding) {
                held.end = part.end;
            } else {
                flush();
                held = part;
                holding = true;
            }
            break;
        }
        previousMatch = part.isMatch;
    };

    ThreadMatchState& state = threadMatchState();
    const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
    std::size_t pieceStart = 0; // end of the last match
    std::size_t offset = 0;     // where the next search starts
    while (offset < subject.size()) {
        // The subject was validated once by the caller; PCRE2 would otherwise
        // re-check all of it on every call, which is quadratic over a text.
        const int rc = pcre2_match(m_impl->code, data, subject.size(), offset, PCRE2_NO_UTF_CHECK, state.data,
                                   state.context);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) throw Error("regex matching failed: " + pcre2Message(rc));
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
        const std::size_t begin = ovector[0];
        const std::size_t end = ovector[1];
        if (end > begin) {
            take({pieceStart, begin, false});
            take({begin, end, true});
            pieceStart = offset = end;
        } else {
            // Step over one whole character so the next try starts on a boundary.
            offset = begin + 1;
            while (offset < subject.size() && (static_cast<unsigned char>(subject[offset]) & 0xC0) == 0x80) ++offset;
        }
    }
    take({pieceStart, subject.size(), false});
    flush();
}

} // namespace loralab
