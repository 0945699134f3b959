// A JSON document read from a user's file: a parse error or a top level that
// is not an object becomes an Error naming the file. Text that is not UTF-8
// (a file saved as Latin-1 or UTF-16) is reported as such, with the first bad
// byte, rather than as a JSON syntax error somewhere inside it.
#pragma once

#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace loralab {

// "is not valid UTF-8 (byte 0xff at offset 12, line 2); save it as UTF-8",
// or "" when `text` is valid UTF-8.
inline std::string utf8Problem(std::string_view text)
{
    const std::size_t bad = findInvalidUtf8(text);
    if (bad == std::string_view::npos) return "";
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    return "is not valid UTF-8 (" + invalidUtf8At(text, bad) + ", line " + std::to_string(line) + "); save it as UTF-8";
}

// How deep a user's JSON may nest (objects and arrays). Every file LoRA Lab
// reads nests a few levels; printing or copying a value nested a hundred
// thousand deep would overflow the stack.
constexpr int kMaxJsonDepth = 64;

// Parses `text` as JSON, refusing nesting deeper than kMaxJsonDepth with an
// Error naming `what`. nlohmann's own exceptions (syntax) pass through.
template <typename JsonT = nlohmann::json>
JsonT parseBoundedJson(const std::string& text, const std::string& what)
{
    bool tooDeep = false;
    const typename JsonT::parser_callback_t bound = [&](int depth, typename JsonT::parse_event_t, JsonT&) {
        if (depth > kMaxJsonDepth) tooDeep = true;
        return !tooDeep; // discard what lies deeper: nothing deep is built
    };
    JsonT j = JsonT::parse(text, bound);
    if (tooDeep) throw fileError(what, "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels of arrays and objects");
    return j;
}

// A JSON value for a message: compact, and cut to about `chars` characters.
template <typename JsonT>
std::string jsonPreview(const JsonT& value, std::size_t chars = 80)
{
    std::string text = value.dump();
    if (text.size() > chars) text = text.substr(0, chars) + "...";
    return text;
}

template <typename JsonT = nlohmann::json>
JsonT parseJsonObject(const std::string& text, const std::string& path)
{
    JsonT j;
    try {
        j = parseBoundedJson<JsonT>(text, path);
    } catch (const typename JsonT::exception& e) {
        // nlohmann rejects every ill-formed UTF-8 byte, so the check only
        // runs for a file that failed to parse anyway.
        const std::string utf8 = utf8Problem(text);
        if (!utf8.empty()) throw fileError(path, utf8);
        throw fileError(path, std::string("is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw fileError(path, "is not a JSON object");
    return j;
}

} // namespace loralab
