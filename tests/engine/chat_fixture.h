// The chat-template fixtures (tests/data/chat, made by
// tests/data/make_chat_fixtures.py): templates, dialogues and the references
// transformers gave for them, read into the engine's types.
#pragma once

#include "engine_test.h"
#include "test_paths.h"

#include "engine/data/chat/chat_render.h"
#include "engine/data/chat/chat_template.h"
#include "engine/data/chat/conversation.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loralab::test {

inline std::filesystem::path chatData(const std::string& file) { return dataDir() / "chat" / file; }

inline nlohmann::json chatJson(const std::string& file) { return nlohmann::json::parse(readTextFile(chatData(file))); }

// The conversations of dialogues.json, by name.
inline std::map<std::string, Conversation> chatDialogues()
{
    std::map<std::string, Conversation> out;
    for (const auto& dialogue : chatJson("dialogues.json")) out[dialogue.at("name").get<std::string>()] = conversationFromJson(dialogue);
    return out;
}

// A template of reference.json's "templates", with the variables the
// reference passed to apply_chat_template.
inline ChatTemplate chatTemplateNamed(const nlohmann::json& reference, const std::string& name)
{
    const auto& entry = reference.at("templates").at(name);
    const auto file = chatData("templates/" + entry.at("file").get<std::string>());
    ChatTemplate chat = ChatTemplate::fromString(readTextFile(file), file.string());
    for (const auto& [key, value] : entry.at("variables").items()) chat.setVariable(key, value);
    return chat;
}

inline std::unique_ptr<BpeTokenizer> chatTokenizer() { return BpeTokenizer::fromFile(chatData("model/tokenizer.json")); }

inline std::string maskText(const std::vector<std::uint8_t>& mask)
{
    std::string out;
    for (const auto m : mask) out.push_back(m ? '1' : '0');
    return out;
}

// The reference case for a template, dialogue and generation prompt.
inline const nlohmann::json& chatCase(const nlohmann::json& reference, const std::string& name, const std::string& dialogue,
                                      bool addGenerationPrompt)
{
    for (const auto& c : reference.at("cases"))
        if (c.at("template") == name && c.at("dialogue") == dialogue && c.at("add_generation_prompt") == addGenerationPrompt)
            return c;
    throw std::runtime_error("no reference case " + name + " / " + dialogue);
}

// The real Qwen tokenizer.json (not committed), where LORALAB_QWEN_TOKENIZER
// or the build says; the case skips (SKIP_WITHOUT_QWEN) where it is absent.
inline std::filesystem::path realQwenTokenizer()
{
    const char* env = std::getenv("LORALAB_QWEN_TOKENIZER");
    return env && *env ? env : LORALAB_QWEN_TOKENIZER_PATH;
}

#define SKIP_WITHOUT_QWEN()                                                                        \
    do {                                                                                           \
        const std::filesystem::path ll_qwen = ::loralab::test::realQwenTokenizer();                \
        if (!std::filesystem::exists(ll_qwen))                                                     \
            QSKIP((ll_qwen.string() + " is absent; set LORALAB_QWEN_TOKENIZER to the real Qwen tokenizer.json").c_str()); \
    } while (false)

} // namespace loralab::test
