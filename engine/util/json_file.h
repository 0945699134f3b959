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

template <typename JsonT = nlohmann::json>
JsonT parseJsonObject(const std::string& text, const std::string& path)
{
    JsonT j;
    try {
        j = JsonT::parse(text);
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
