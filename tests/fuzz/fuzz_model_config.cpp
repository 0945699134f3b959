// Fuzzes config.json parsing.
#include "engine/model/model_config.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto c = loralab::parseModelConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz/config.json");
        // An accepted config must be internally consistent.
        if (c.numHeads % c.numKvHeads != 0 || c.headDim <= 0 || c.rotaryDims() % 2 != 0) __builtin_trap();
        (void)loralab::parseModelConfig(loralab::modelConfigToJson(c), "roundtrip");
    } catch (const loralab::Error&) {
    }
    return 0;
}
