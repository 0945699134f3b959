// From a conversation to training tokens: the model's chat template renders
// it, the model's tokenizer encodes the text (special tokens such as
// "<|im_start|>" written in it become their ids), and a mask marks the
// assistant's tokens, the ones the loss is taken on.
//
// Which tokens are the assistant's:
//  - A template with {% generation %} ... {% endgeneration %} blocks marks
//    them itself; ids and mask then equal transformers'
//    apply_chat_template(..., tokenize=True, return_dict=True,
//    return_assistant_tokens_mask=True), quirks included: a token is marked
//    from the one holding a block's first character to the one holding its
//    last, and a block whose first character no token holds ends the marking.
//  - A template without them is probed by rendering. An assistant message's
//    text starts where the conversation before it, rendered with the
//    generation prompt, ends (that text must begin the whole rendering, or,
//    for a prompt that opens a thinking block the history does not write,
//    part from it just where the message's content starts); its
//    content ends where a private-use character appended to the content
//    shows up (two different ones, so a template that trims or rewrites the
//    content is seen through, and one that writes it twice is refused); and
//    the turn closes with what the template writes after the content when
//    the message is the conversation's last ("<|im_end|>\n" in ChatML; of a
//    closing such as "<|end|>\n" + a final EOS, the part that also follows
//    an earlier turn, cut back to whole tokens). So a
//    turn is everything the template writes for the assistant after its
//    generation prompt, which is what a marked template marks when its
//    block runs from the content to the end of the turn. A template the
//    probes cannot read this way is an Error that names the message and
//    suggests the markers.
//  - The Human/Assistant layout (models without a template) tokenizes each
//    prompt and answer on its own, the way LoRA Lab's HH data always was:
//    tokens("...\n\nAssistant:") + tokens(answer, stripped) + EOS, the answer
//    and EOS marked.
#pragma once

#include "engine/config/choices.h"
#include "engine/data/chat/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

enum class AssistantTurns {
    All,  // every assistant message is trained on
    Last, // only the last assistant message; earlier ones are context
};

template <>
struct ChoiceList<AssistantTurns> {
    static constexpr const char* what = "assistant_turns";
    static constexpr std::array<std::pair<AssistantTurns, const char*>, 2> items = {
        {{AssistantTurns::All, "all"}, {AssistantTurns::Last, "last"}}};
};

struct RenderedDialogue {
    std::string text;                        // what the template wrote
    std::vector<std::int64_t> ids;           // [tokens]
    std::vector<std::uint8_t> assistantMask; // [tokens], 1 where the token is the assistant's
};

// Byte ranges of `render(conversation, false)` holding the assistant's text
// (see above), for the assistant messages at index `firstMessage` or later;
// a probed turn whose closing matched only in part is not yet cut back to
// whole tokens here (renderForTraining does that).
std::vector<std::pair<std::size_t, std::size_t>> assistantSpans(const ChatTemplate& chatTemplate,
                                                               const Conversation& conversation,
                                                               std::size_t firstMessage = 0);

struct ChatRenderOptions {
    AssistantTurns turns = AssistantTurns::All;
    // End with the assistant's header, as transformers' add_generation_prompt
    // (the header is never marked).
    bool addGenerationPrompt = false;
};

RenderedDialogue renderForTraining(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                   const Conversation& conversation, AssistantTurns which = AssistantTurns::All);
RenderedDialogue renderForTraining(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                   const Conversation& conversation, const ChatRenderOptions& options);

// A prompt to generate from (ending with the user's turn): rendered with
// the generation prompt; the mask is all 0.
RenderedDialogue renderPrompt(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer, const Conversation& conversation);

// Both sides of a preference pair, prompt + chosen and prompt + rejected,
// with the mask on the completion's assistant tokens only.
struct RenderedPreference {
    RenderedDialogue chosen;
    RenderedDialogue rejected;
};
RenderedPreference renderPreference(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                    const PreferenceConversation& pair);

// The mask transformers builds from character spans: for each span in
// order, the token holding its first byte through the token holding its
// last character; a span whose first byte no token holds ends the marking,
// and one that ends in the first token runs to the end (both as transformers
// does). `offsets` come from Tokenizer::encodeWithOffsets of `text`.
std::vector<std::uint8_t> maskFromSpans(const std::string& text, const std::vector<TokenSpan>& offsets,
                                        const std::vector<std::pair<std::size_t, std::size_t>>& spans);

} // namespace loralab
