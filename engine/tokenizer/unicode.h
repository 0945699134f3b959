// Unicode text helpers for the tokenizers: UTF-8 decoding and repair, NFC
// normalization (utf8proc), character classes, and a Unicode-aware regex
// (PCRE2) used to split text before BPE. Everything here works on UTF-8 bytes
// in std::string / std::string_view; nothing in this header pulls in the C
// libraries behind it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace loralab {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at `pos` and advances `pos` past it. An ill-formed
// sequence yields kReplacementChar and advances past its maximal subpart (the
// longest prefix of a well-formed sequence, or one byte), which is how
// Python's errors="replace" and Rust's from_utf8_lossy count replacements.
char32_t decodeUtf8(std::string_view text, std::size_t& pos);

void appendUtf8(std::string& out, char32_t codePoint);

bool isValidUtf8(std::string_view text);

// The offset of the lead byte of the first ill-formed sequence (as Python's
// UnicodeDecodeError counts its position), or std::string_view::npos when
// `text` is valid UTF-8.
std::size_t findInvalidUtf8(std::string_view text);

// "byte 0xff at offset 12" for an offset findInvalidUtf8 returned, the way
// file errors point at the first bad byte.
std::string invalidUtf8At(std::string_view text, std::size_t offset);

// `text` with every ill-formed sequence replaced by U+FFFD.
std::string toValidUtf8(std::string_view text);

// Canonical composition (NFC). `text` must be valid UTF-8.
std::string nfc(std::string_view text);

// Unicode White_Space.
bool isWhitespace(char32_t codePoint);
// Letters (L*) and numbers (N*). Rust's char::is_alphanumeric, which the
// Hugging Face single_word rule uses, also counts a few combining marks; the
// difference only shows for added tokens next to such marks.
bool isAlphanumeric(char32_t codePoint);
// Python's str.isspace(): White_Space and the separators U+001C..U+001F.
bool isPythonSpace(char32_t codePoint);
// Python's str.isprintable() for one character: false for control, format,
// surrogate, private-use and unassigned characters and for separators other
// than the space (repr() escapes those).
bool isPrintable(char32_t codePoint);
// Unicode's simple (one-to-one) case mappings. Python's str.upper() and
// lower() also apply the few one-to-many mappings (U+00DF to "SS", the Latin
// ligatures, U+0130 to "i" + U+0307); those characters keep their case here.
char32_t toUpperCase(char32_t codePoint);
char32_t toLowerCase(char32_t codePoint);
char32_t toTitleCase(char32_t codePoint);
// Canonical combining class: 0 for a starter, else the class a combining mark
// is reordered by in normalization.
int combiningClass(char32_t codePoint);

// How a regex split treats the matched text, as in tokenizer.json's Split:
// dropped, a piece of its own, or joined to the piece before or after it;
// Contiguous joins adjacent matches into one piece.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A compiled Unicode regex (PCRE2 with UTF and UCP, JIT when available).
// Matching is const and safe from several threads at once.
class UnicodeRegex {
public:
    // Throws Error with PCRE2's message when the pattern does not compile;
    // callers add the name of the file the pattern came from. `literal`
    // matches the pattern text as it is.
    explicit UnicodeRegex(const std::string& pattern, bool literal = false);
    ~UnicodeRegex();
    UnicodeRegex(const UnicodeRegex&) = delete;
    UnicodeRegex& operator=(const UnicodeRegex&) = delete;

    // Cuts `subject` (valid UTF-8) at the matches and hands the non-empty
    // pieces to `emit` in order, treating matches as `behavior` says; with
    // `invert`, the pattern matches the text between pieces instead. Empty
    // matches are stepped over, as the Hugging Face splitter does, so a
    // pattern that can match nothing never loops. Throws Error when PCRE2
    // gives up (its backtracking limit on a pathological pattern).
    void split(std::string_view subject, SplitBehavior behavior, bool invert,
               const std::function<void(std::string_view)>& emit) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace loralab
