// Fuzzes the chat-template parser and interpreter, and rendering for
// training: the input is a template, optionally followed by "\x01" and the
// texts of a system, user and assistant message separated by "\x02". Any
// template must either be refused with an Error or render within the limits;
// rendered for training, the ids must be the text's ids and the mask as long.
#include "engine/data/chat/chat_render.h"
#include "engine/data/chat/chat_template.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto tokenizer = loralab::BpeTokenizer::fromFile(LORALAB_TEST_DATA "/chat/model/tokenizer.json");
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const std::size_t split = bytes.find('\x01');
    const std::string source = bytes.substr(0, split);
    std::string texts[3] = {"Be brief.", "Hi there", "Hello! 😀"};
    if (split != std::string::npos) {
        std::size_t start = split + 1;
        for (auto& text : texts) {
            const std::size_t end = bytes.find('\x02', start);
            text = loralab::toValidUtf8(bytes.substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    const loralab::Conversation conversation = {{"system", texts[0]}, {"user", texts[1]}, {"assistant", texts[2]}};
    try {
        loralab::ChatTemplate chat = loralab::ChatTemplate::fromString(source, "fuzz.jinja");
        loralab::jinja::RenderLimits limits;
        limits.maxOutputBytes = 1 << 16;
        limits.maxSteps = 1 << 14;
        limits.maxCallDepth = 16;
        chat.setLimits(limits);
        chat.setVariable("bos_token", "<s>");
        chat.setVariable("eos_token", "<|im_end|>");
        const std::string text = chat.render(conversation, true);
        if (text.size() > limits.maxOutputBytes) __builtin_trap();
        const loralab::RenderedDialogue out = loralab::renderForTraining(chat, *tokenizer, conversation);
        if (out.ids.size() != out.assistantMask.size()) __builtin_trap();
        if (out.ids != tokenizer->encode(out.text)) __builtin_trap();
    } catch (const loralab::Error&) {
    }
    return 0;
}
