// Fuzzes tokenizer.json loading, then encodes and decodes with whatever loaded.
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto tokenizer = loralab::BpeTokenizer::fromJson(
            std::string_view(reinterpret_cast<const char*>(data), size), "fuzz/tokenizer.json");
        const auto ids = tokenizer->encode("Hello world! <|endoftext|> 12345 \xc3\xa9\n\n");
        (void)tokenizer->decode(ids);
    } catch (const loralab::Error&) {
    }
    return 0;
}
