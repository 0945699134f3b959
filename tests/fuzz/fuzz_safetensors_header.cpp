// Fuzzes the safetensors header parser: any bytes must parse or throw loralab::Error.
#include "engine/io/safetensors_format.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const loralab::StHeader h = loralab::parseSafetensorsHeader(data, size, "fuzz.safetensors");
        for (const auto& t : h.tensors)
            if (h.dataOffset + t.end > size) __builtin_trap(); // accepted ranges must lie inside the file
    } catch (const loralab::Error&) {
    }
    return 0;
}
