// Fuzzes the dataset readers (gzip detection, JSONL in every shape, text).
#include "engine/data/dataset.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (const auto format : {loralab::DatasetFormat::Auto, loralab::DatasetFormat::HhRlhf, loralab::DatasetFormat::Text,
                              loralab::DatasetFormat::Chat}) {
        try {
            const std::string text = loralab::gunzipIfCompressed(bytes, "fuzz.jsonl.gz");
            const auto d = loralab::parseDataset(text, "fuzz.jsonl", format);
            if (d.examples.empty()) __builtin_trap(); // an empty dataset must be an error
            (void)d.skippedSummary();
        } catch (const loralab::Error&) {
        }
    }
    return 0;
}
