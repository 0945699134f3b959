// Fuzzes run configuration parsing and validation.
#include "engine/config/run_config.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto c = loralab::parseRunConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz/run.json");
        (void)loralab::validateRunConfig(c);
        (void)loralab::parseRunConfig(loralab::runConfigToJson(c), "roundtrip");
    } catch (const loralab::Error&) {
    }
    return 0;
}
