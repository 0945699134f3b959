// Fuzzes adapter_config.json parsing.
#include "engine/lora/adapter_config.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto c = loralab::parseAdapterConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz/adapter_config.json");
        (void)loralab::rankFor(c, "model.layers.0.self_attn.q_proj");
        (void)loralab::parseAdapterConfig(loralab::adapterConfigToJson(c), "roundtrip");
    } catch (const loralab::Error&) {
    }
    return 0;
}
