// Conversation readers: see conversation.h.
#include "engine/data/chat/conversation.h"

#include "engine/util/error.h"

#include <nlohmann/json.hpp>

namespace loralab {
namespace {

using Json = nlohmann::json;

const Json& field(const Json& object, const char* key, const std::string& where)
{
    const auto it = object.find(key);
    if (it == object.end()) throw Error(where + " has no \"" + key + "\"");
    return *it;
}

std::string text(const Json& value, const std::string& where)
{
    if (!value.is_string()) throw Error(where + " is not a string (it is " + std::string(value.type_name()) + ")");
    return value.get<std::string>();
}

std::string indexed(const std::string& where, std::size_t i) { return where + "[" + std::to_string(i) + "]"; }

// A ShareGPT speaker as a role; other names pass through as they are.
std::string shareGptRole(const std::string& from)
{
    if (from == "human" || from == "user") return "user";
    if (from == "gpt" || from == "assistant" || from == "model") return "assistant";
    if (from == "system") return "system";
    return from;
}

Conversation messageList(const Json& list, const std::string& where, bool shareGpt)
{
    if (!list.is_array()) throw Error(where + " is not a list of messages (it is " + std::string(list.type_name()) + ")");
    Conversation conversation;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string at = indexed(where, i);
        const Json& message = list[i];
        if (!message.is_object()) throw Error(at + " is not an object (it is " + std::string(message.type_name()) + ")");
        ChatMessage m;
        const bool sharegptShape = shareGpt || (!message.contains("role") && message.contains("from"));
        if (sharegptShape) {
            m.role = shareGptRole(text(field(message, "from", at), at + ".from"));
            m.content = text(field(message, "value", at), at + ".value");
        } else {
            m.role = text(field(message, "role", at), at + ".role");
            const Json& content = field(message, "content", at);
            if (content.is_array())
                throw Error(at + ".content is a list of parts; LoRA Lab reads text content (a string) only");
            m.content = text(content, at + ".content");
        }
        if (m.role.empty()) throw Error(at + " has an empty role");
        conversation.push_back(std::move(m));
    }
    return conversation;
}

} // namespace

ConversationFormat conversationFormatOf(const Json& record)
{
    if (!record.is_object()) return ConversationFormat::Auto;
    if (record.contains("messages")) return ConversationFormat::Messages;
    if (record.contains("conversations")) return ConversationFormat::ShareGpt;
    if (record.contains("instruction") && record.contains("output")) return ConversationFormat::Alpaca;
    return ConversationFormat::Auto;
}

Conversation conversationFromJson(const Json& record, ConversationFormat format)
{
    if (!record.is_object()) throw Error("the record is not a JSON object (it is " + std::string(record.type_name()) + ")");
    if (format == ConversationFormat::Auto) format = conversationFormatOf(record);
    Conversation conversation;
    switch (format) {
    case ConversationFormat::Messages: conversation = messageList(field(record, "messages", "the record"), "messages", false); break;
    case ConversationFormat::ShareGpt:
        conversation = messageList(field(record, "conversations", "the record"), "conversations", true);
        break;
    case ConversationFormat::Alpaca: {
        std::string prompt = text(field(record, "instruction", "the record"), "instruction");
        if (const auto input = record.find("input"); input != record.end() && !input->is_null()) {
            const std::string extra = text(*input, "input");
            if (!extra.empty()) prompt += "\n\n" + extra;
        }
        if (const auto system = record.find("system"); system != record.end() && !system->is_null())
            conversation.push_back({"system", text(*system, "system")});
        conversation.push_back({"user", prompt});
        conversation.push_back({"assistant", text(field(record, "output", "the record"), "output")});
        break;
    }
    case ConversationFormat::Auto:
        throw Error("the record has none of \"messages\", \"conversations\" or \"instruction\" and \"output\"");
    }
    if (conversation.empty()) throw Error("the conversation has no messages");
    return conversation;
}

PreferenceConversation preferenceFromJson(const Json& record)
{
    if (!record.is_object()) throw Error("the record is not a JSON object (it is " + std::string(record.type_name()) + ")");
    PreferenceConversation pair;
    const auto readList = [&](const char* key) {
        const Json& value = field(record, key, "the record");
        if (value.is_string())
            throw Error(std::string("\"") + key + "\" is a string; a preference pair in messages form has message lists");
        return messageList(value, key, false);
    };
    pair.chosen = readList("chosen");
    pair.rejected = readList("rejected");
    if (record.contains("prompt")) {
        pair.prompt = readList("prompt");
    } else {
        // Whole conversations: the prompt is what they share, up to the
        // first assistant turn where they part.
        std::size_t shared = 0;
        while (shared < pair.chosen.size() && shared < pair.rejected.size() &&
               pair.chosen[shared].role == pair.rejected[shared].role &&
               pair.chosen[shared].content == pair.rejected[shared].content)
            ++shared;
        while (shared > 0 && pair.chosen[shared - 1].role == "assistant") --shared;
        pair.prompt.assign(pair.chosen.begin(), pair.chosen.begin() + static_cast<std::ptrdiff_t>(shared));
        pair.chosen.erase(pair.chosen.begin(), pair.chosen.begin() + static_cast<std::ptrdiff_t>(shared));
        pair.rejected.erase(pair.rejected.begin(), pair.rejected.begin() + static_cast<std::ptrdiff_t>(shared));
    }
    if (pair.prompt.empty()) throw Error("the preference pair has no prompt messages");
    if (pair.prompt.back().role == "assistant") throw Error("prompt ends with an assistant message; it must end before the answer");
    for (const auto* side : {&pair.chosen, &pair.rejected}) {
        const char* name = side == &pair.chosen ? "chosen" : "rejected";
        if (side->empty()) throw Error(std::string("\"") + name + "\" has no message after the prompt");
        bool hasAssistant = false;
        for (const ChatMessage& m : *side) hasAssistant = hasAssistant || m.role == "assistant";
        if (!hasAssistant) throw Error(std::string("\"") + name + "\" has no assistant message");
    }
    return pair;
}

Conversation withCompletion(const Conversation& prompt, const Conversation& completion)
{
    Conversation whole = prompt;
    whole.insert(whole.end(), completion.begin(), completion.end());
    return whole;
}

std::size_t lastAnswerIndex(const Conversation& conversation)
{
    std::size_t last = conversation.size();
    for (std::size_t i = 0; i < conversation.size(); ++i)
        if (conversation[i].role == "assistant") last = i;
    return last;
}

Conversation beforeLastAnswer(const Conversation& conversation)
{
    return Conversation(conversation.begin(), conversation.begin() + static_cast<std::ptrdiff_t>(lastAnswerIndex(conversation)));
}

} // namespace loralab
