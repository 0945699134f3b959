// Conversations to ids and assistant masks: see chat_render.h.
#include "engine/data/chat/chat_render.h"

#include "engine/util/error.h"

#include <algorithm>

namespace loralab {
namespace {

using Span = std::pair<std::size_t, std::size_t>;

// Two sentinels that differ in their first byte (U+E000 and U+F000, private
// use: no tokenizer or template gives them a meaning).
const std::string kSentinelA = "\xEE\x80\x80";
const std::string kSentinelB = "\xEF\x80\x80";

std::string describe(const ChatTemplate& chatTemplate)
{
    return chatTemplate.sourceName().empty() ? "the chat template" : chatTemplate.sourceName();
}

Error probeError(const ChatTemplate& chatTemplate, std::size_t message, const std::string& why)
{
    return Error(describe(chatTemplate) + ": cannot find the assistant's text of message " + std::to_string(message) +
                 " (counted from 0) without {% generation %} markers: " + why +
                 "; mark the assistant's text with {% generation %} ... {% endgeneration %} in the template");
}

Conversation firstMessages(const Conversation& conversation, std::size_t count)
{
    return Conversation(conversation.begin(), conversation.begin() + static_cast<std::ptrdiff_t>(count));
}

std::size_t commonPrefix(const std::string& a, const std::string& b)
{
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

bool startsWith(const std::string& text, const std::string& prefix)
{
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

std::string strip(const std::string& s)
{
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// What the template writes after message `index`'s content. The
// conversation is rendered twice, a different sentinel appended to that
// content each time: the two texts part where the sentinel is and must agree
// after it (a template that drops the end of the content, or writes it
// twice, fails one of the two).
std::string textAfterContent(const ChatTemplate& chatTemplate, const Conversation& conversation, std::size_t index,
                             bool addGenerationPrompt)
{
    Conversation a = conversation;
    Conversation b = conversation;
    a[index].content += kSentinelA;
    b[index].content += kSentinelB;
    const std::string withA = chatTemplate.render(a, addGenerationPrompt);
    const std::string withB = chatTemplate.render(b, addGenerationPrompt);
    const std::size_t at = commonPrefix(withA, withB);
    if (withA.compare(at, kSentinelA.size(), kSentinelA) != 0 || withB.compare(at, kSentinelB.size(), kSentinelB) != 0)
        throw probeError(chatTemplate, index, "the template does not write the message's content as it is");
    std::string rest = withA.substr(at + kSentinelA.size());
    if (rest != withB.substr(at + kSentinelB.size()))
        throw probeError(chatTemplate, index, "the template writes the message's content more than once");
    return rest;
}

std::vector<std::size_t> assistantMessages(const Conversation& conversation, std::size_t firstMessage)
{
    std::vector<std::size_t> indices;
    for (std::size_t i = firstMessage; i < conversation.size(); ++i)
        if (conversation[i].role == "assistant") indices.push_back(i);
    return indices;
}

// Where the text for message `index` starts: after the conversation before
// it, rendered with the generation prompt, which should begin `full`. A
// generation prompt the whole conversation does not write as it is (one
// that opens a thinking block, say) is accepted up to where the two part
// when the message's own content (or its stripped form) starts right there
// and the message before lies wholly before it; a template that writes
// earlier turns differently (a system prompt moved before the last
// question) is refused.
std::size_t turnStart(const ChatTemplate& chatTemplate, const Conversation& conversation, std::size_t index,
                      const std::string& full, bool addGenerationPrompt)
{
    std::string prompt;
    try {
        prompt = chatTemplate.render(firstMessages(conversation, index), true);
    } catch (const Error& e) {
        throw probeError(chatTemplate, index, std::string("the conversation before it does not render (") + e.what() + ")");
    }
    if (startsWith(full, prompt)) return prompt.size();
    std::size_t shared = commonPrefix(full, prompt);
    while (shared > 0 && shared < full.size() && (static_cast<unsigned char>(full[shared]) & 0xC0) == 0x80) --shared;
    const std::string& content = conversation[index].content;
    const std::string stripped = strip(content);
    const bool contentFollows = !stripped.empty() && (full.compare(shared, content.size(), content) == 0 ||
                                                      full.compare(shared, stripped.size(), stripped) == 0);
    bool previousBefore = false;
    if (index > 0 && contentFollows) {
        try {
            const std::string after = textAfterContent(chatTemplate, conversation, index - 1, addGenerationPrompt);
            previousBefore = after.size() <= full.size() && full.compare(full.size() - after.size(), after.size(), after) == 0 &&
                             full.size() - after.size() <= shared;
        } catch (const Error&) {
            previousBefore = false;
        }
    }
    if (!previousBefore)
        throw probeError(chatTemplate, index,
                         "the conversation before it, with the generation prompt, is not how the whole conversation begins");
    return shared;
}

// An assistant turn found by rendering: [begin, end), its content ending at
// contentEnd. `exact` is false when what closes the turn as the last
// message (say "<|end|>\n" and the conversation's final EOS) is only partly
// what follows it here; `end` then ends where the two part and is moved
// back to a token boundary once the text is tokenized.
struct ProbedTurn {
    std::size_t begin = 0;
    std::size_t contentEnd = 0;
    std::size_t end = 0;
    bool exact = true;
};

std::vector<ProbedTurn> probedTurns(const ChatTemplate& chatTemplate, const Conversation& conversation,
                                    const std::string& full, std::size_t firstMessage, bool addGenerationPrompt)
{
    std::vector<ProbedTurn> turns;
    for (const std::size_t index : assistantMessages(conversation, firstMessage)) {
        ProbedTurn turn;
        turn.begin = turnStart(chatTemplate, conversation, index, full, addGenerationPrompt);
        const std::string after = textAfterContent(chatTemplate, conversation, index, addGenerationPrompt);
        if (after.size() > full.size() || full.compare(full.size() - after.size(), after.size(), after) != 0)
            throw probeError(chatTemplate, index, "the text after its content changes with the content");
        turn.contentEnd = full.size() - after.size();
        if (turn.contentEnd < turn.begin) throw probeError(chatTemplate, index, "its content ends before its turn begins");
        // What closes the turn: what the template writes after the content
        // when this message ends the conversation.
        const std::string closing = index + 1 == conversation.size() && !addGenerationPrompt
                                        ? after
                                        : textAfterContent(chatTemplate, firstMessages(conversation, index + 1), index, false);
        const std::size_t shared = commonPrefix(closing, after);
        turn.exact = shared == closing.size();
        turn.end = turn.contentEnd + shared;
        turns.push_back(turn);
    }
    return turns;
}

// A turn whose closing matched only in part ends at the last token that
// ends within it (and starts after the content), so the mask never takes in
// a piece of the next turn's first token.
Span snappedSpan(const ProbedTurn& turn, const std::vector<TokenSpan>& offsets)
{
    if (turn.exact) return {turn.begin, turn.end};
    std::size_t end = turn.contentEnd;
    for (const TokenSpan& token : offsets)
        if (token.begin >= turn.contentEnd && token.end <= turn.end && token.end > end) end = token.end;
    return {turn.begin, end};
}

std::vector<Span> probedSpans(const ChatTemplate& chatTemplate, const Conversation& conversation, const std::string& full,
                              std::size_t firstMessage)
{
    std::vector<Span> spans;
    for (const ProbedTurn& turn : probedTurns(chatTemplate, conversation, full, firstMessage, false))
        spans.emplace_back(turn.begin, turn.end);
    return spans;
}

// The Human/Assistant layout, a prompt and an answer at a time (see the header).
RenderedDialogue humanAssistantForTraining(const Tokenizer& tokenizer, const Conversation& conversation,
                                           std::size_t firstMessage, bool addGenerationPrompt)
{
    RenderedDialogue out;
    out.text = renderHumanAssistant(conversation, addGenerationPrompt).text;
    std::string pending;
    const auto add = [&](const std::vector<std::int64_t>& ids, std::uint8_t mask) {
        out.ids.insert(out.ids.end(), ids.begin(), ids.end());
        out.assistantMask.insert(out.assistantMask.end(), ids.size(), mask);
    };
    for (std::size_t i = 0; i < conversation.size(); ++i) {
        const ChatMessage& message = conversation[i];
        if (message.role == "assistant" && i >= firstMessage) {
            add(tokenizer.encode(pending + "\n\nAssistant:"), 0);
            pending.clear();
            std::vector<std::int64_t> answer = tokenizer.encode(strip(message.content));
            if (tokenizer.eosId() >= 0) answer.push_back(tokenizer.eosId());
            add(answer, 1);
        } else {
            pending += renderHumanAssistant({message}, false).text;
        }
    }
    if (addGenerationPrompt) pending += "\n\nAssistant:";
    if (!pending.empty()) add(tokenizer.encode(pending), 0);
    return out;
}

RenderedDialogue renderFrom(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer, const Conversation& conversation,
                            std::size_t firstMessage, bool addGenerationPrompt)
{
    if (conversation.empty()) throw Error("cannot render an empty conversation");
    if (!chatTemplate.isJinja()) return humanAssistantForTraining(tokenizer, conversation, firstMessage, addGenerationPrompt);
    RenderedDialogue out;
    const RenderedChat rendered = chatTemplate.renderWithSpans(conversation, addGenerationPrompt);
    std::vector<Span> spans;
    std::vector<ProbedTurn> turns;
    if (!chatTemplate.hasGenerationMarkers()) {
        turns = probedTurns(chatTemplate, conversation, rendered.text, firstMessage, addGenerationPrompt);
    } else if (firstMessage == 0) {
        spans = rendered.generationSpans;
    } else {
        // The marked spans from the first assistant message wanted on.
        const std::vector<std::size_t> wanted = assistantMessages(conversation, firstMessage);
        if (!wanted.empty()) {
            const std::size_t from = turnStart(chatTemplate, conversation, wanted.front(), rendered.text, addGenerationPrompt);
            for (const Span& span : rendered.generationSpans)
                if (span.first >= from) spans.push_back(span);
        }
    }
    EncodedText encoded = tokenizer.encodeWithOffsets(rendered.text);
    for (const ProbedTurn& turn : turns) spans.push_back(snappedSpan(turn, encoded.offsets));
    out.assistantMask = maskFromSpans(rendered.text, encoded.offsets, spans);
    out.ids = std::move(encoded.ids);
    out.text = rendered.text;
    return out;
}

} // namespace

std::vector<Span> assistantSpans(const ChatTemplate& chatTemplate, const Conversation& conversation, std::size_t firstMessage)
{
    const RenderedChat rendered = chatTemplate.renderWithSpans(conversation, false);
    if (!chatTemplate.isJinja()) {
        std::vector<Span> spans;
        const std::vector<std::size_t> wanted = assistantMessages(conversation, firstMessage);
        for (std::size_t i = 0, k = 0; i < conversation.size(); ++i)
            if (conversation[i].role == "assistant") {
                if (std::find(wanted.begin(), wanted.end(), i) != wanted.end()) spans.push_back(rendered.generationSpans[k]);
                ++k;
            }
        return spans;
    }
    if (chatTemplate.hasGenerationMarkers() && firstMessage == 0) return rendered.generationSpans;
    if (!chatTemplate.hasGenerationMarkers()) return probedSpans(chatTemplate, conversation, rendered.text, firstMessage);
    std::vector<Span> spans;
    const std::vector<std::size_t> wanted = assistantMessages(conversation, firstMessage);
    if (wanted.empty()) return spans;
    const std::size_t from = turnStart(chatTemplate, conversation, wanted.front(), rendered.text, false);
    for (const Span& span : rendered.generationSpans)
        if (span.first >= from) spans.push_back(span);
    return spans;
}

std::vector<std::uint8_t> maskFromSpans(const std::string& text, const std::vector<TokenSpan>& offsets,
                                        const std::vector<Span>& spans)
{
    std::vector<std::uint8_t> mask(offsets.size(), 0);
    const auto tokenAt = [&](std::size_t byte) -> std::ptrdiff_t {
        for (std::size_t t = 0; t < offsets.size(); ++t)
            if (byte >= offsets[t].begin && byte < offsets[t].end) return static_cast<std::ptrdiff_t>(t);
        return -1;
    };
    for (const auto& [begin, end] : spans) {
        const std::ptrdiff_t first = begin < text.size() ? tokenAt(begin) : -1;
        if (first < 0) break; // transformers stops at a span no token starts
        // The token holding the span's last character; for an empty span,
        // the character before it. A span can reach past the text (a
        // {% generation %} inside a {% set %} block that is never written):
        // no token holds its end, and the marking runs to the end, as in
        // transformers.
        std::ptrdiff_t last = -1;
        if (end > 0 && end <= text.size()) {
            std::size_t lastChar = end - 1;
            while (lastChar > 0 && (static_cast<unsigned char>(text[lastChar]) & 0xC0) == 0x80) --lastChar;
            last = tokenAt(lastChar);
        }
        const std::ptrdiff_t stop = last > 0 ? last + 1 : static_cast<std::ptrdiff_t>(mask.size());
        for (std::ptrdiff_t t = first; t < stop; ++t) mask[static_cast<std::size_t>(t)] = 1;
    }
    return mask;
}

RenderedDialogue renderForTraining(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                   const Conversation& conversation, const ChatRenderOptions& options)
{
    std::size_t firstMessage = 0;
    if (options.turns == AssistantTurns::Last) {
        const std::vector<std::size_t> all = assistantMessages(conversation, 0);
        firstMessage = all.empty() ? conversation.size() : all.back();
    }
    return renderFrom(chatTemplate, tokenizer, conversation, firstMessage, options.addGenerationPrompt);
}

RenderedDialogue renderForTraining(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                   const Conversation& conversation, AssistantTurns which)
{
    ChatRenderOptions options;
    options.turns = which;
    return renderForTraining(chatTemplate, tokenizer, conversation, options);
}

RenderedDialogue renderPrompt(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer, const Conversation& conversation)
{
    if (conversation.empty()) throw Error("cannot render an empty conversation");
    RenderedDialogue out;
    out.text = chatTemplate.render(conversation, true);
    out.ids = tokenizer.encode(out.text);
    out.assistantMask.assign(out.ids.size(), 0);
    return out;
}

RenderedPreference renderPreference(const ChatTemplate& chatTemplate, const Tokenizer& tokenizer,
                                    const PreferenceConversation& pair)
{
    RenderedPreference out;
    out.chosen = renderFrom(chatTemplate, tokenizer, withCompletion(pair.prompt, pair.chosen), pair.prompt.size(), false);
    out.rejected = renderFrom(chatTemplate, tokenizer, withCompletion(pair.prompt, pair.rejected), pair.prompt.size(), false);
    return out;
}

} // namespace loralab
