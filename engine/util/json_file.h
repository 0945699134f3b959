// A JSON document read from a user's file: a parse error or a top level that
// is not an object becomes an Error naming the file.
#pragma once

#include "engine/util/error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace loralab {

template <typename JsonT = nlohmann::json>
JsonT parseJsonObject(const std::string& text, const std::string& path)
{
    JsonT j;
    try {
        j = JsonT::parse(text);
    } catch (const typename JsonT::exception& e) {
        throw fileError(path, std::string("is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw fileError(path, "is not a JSON object");
    return j;
}

} // namespace loralab
