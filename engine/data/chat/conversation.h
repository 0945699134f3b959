// Conversations as chat datasets write them, read into one shape: a list of
// messages with a role ("system", "user", "assistant") and text. Readers for
// OpenAI-style {"messages": [...]}, ShareGPT {"conversations": [{"from",
// "value"}]}, Alpaca {"instruction", "input", "output"} and preference pairs
// {"prompt": [...], "chosen": [...], "rejected": [...]} (prompt optional
// when chosen and rejected carry the whole conversation). A record of the
// wrong shape is an Error naming the field ("messages[2].content is not a
// string"), never a crash.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace loralab {

struct ChatMessage {
    std::string role; // "system", "user", "assistant" (other roles pass through to the template)
    std::string content;
};

using Conversation = std::vector<ChatMessage>;

// One preference example: the shared prompt (ending with the user's turn)
// and the two continuations (usually one assistant message each).
struct PreferenceConversation {
    Conversation prompt;
    Conversation chosen;
    Conversation rejected;
};

enum class ConversationFormat {
    Auto,     // recognised by its keys
    Messages, // {"messages": [{"role", "content"}, ...]}
    ShareGpt, // {"conversations": [{"from": "human" | "gpt" | "system", "value"}, ...]}
    Alpaca,   // {"instruction", "input" (optional), "output", "system" (optional)}
};

// The format a JSON record is in, by its keys; Auto when none fits.
ConversationFormat conversationFormatOf(const nlohmann::json& record);

// Reads one record; `format` Auto picks it from the keys. Throws Error with
// the field at fault; a conversation with no message is an error too.
Conversation conversationFromJson(const nlohmann::json& record, ConversationFormat format = ConversationFormat::Auto);

// {"prompt": [...], "chosen": [...], "rejected": [...]} with message lists
// (ShareGPT-style messages are read too); without "prompt", chosen and
// rejected are whole conversations and their common first messages become
// the prompt. The prompt must end before an assistant turn.
PreferenceConversation preferenceFromJson(const nlohmann::json& record);

// prompt + chosen / prompt + rejected.
Conversation withCompletion(const Conversation& prompt, const Conversation& completion);

// The index of the last assistant message; conversation.size() when there is none.
std::size_t lastAnswerIndex(const Conversation& conversation);
// The messages before the last assistant message (all of them when there is none).
Conversation beforeLastAnswer(const Conversation& conversation);

} // namespace loralab
