// Fuzzes the reading of a dataset card's YAML `configs:` and the data_files
// globs: the input is a README; its second half after "\x01" is also taken as
// a pattern matched against a path (the text after "\x02"). A card is either
// read to a JSON list (or null) or refused with an Error; matching ends.
#include "engine/data/dataset_card.h"
#include "engine/util/error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const std::size_t split = bytes.find('\x01');
    try {
        const auto configs = nlohmann::json::parse(loralab::cardConfigsJson(bytes.substr(0, split), "README.md"));
        if (!configs.is_null() && !configs.is_array()) std::abort();
    } catch (const loralab::Error&) {
    }
    if (split != std::string::npos) {
        const std::string rest = bytes.substr(split + 1);
        const std::size_t sep = rest.find('\x02');
        const std::string pattern = rest.substr(0, sep);
        const std::string path = sep == std::string::npos ? pattern : rest.substr(sep + 1);
        (void)loralab::globMatch(pattern, path);
        if (pattern.find_first_of("*?[") == std::string::npos && !loralab::globMatch(pattern, pattern)) std::abort();
    }
    return 0;
}
