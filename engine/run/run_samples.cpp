// Samples; see run_samples.h.
#include "engine/run/run_samples.h"

#include "engine/run/run_setup.h"

namespace loralab {

namespace {

// Where a text is cut into prompt and target: the last space before its
// middle (so no word or UTF-8 character is split), else the middle itself
// moved back to a character boundary.
std::size_t textSplitPoint(const std::string& text)
{
    const std::size_t middle = text.size() / 2;
    const std::size_t space = middle == 0 ? std::string::npos : text.rfind(' ', middle);
    if (space != std::string::npos && space > 0) return space;
    std::size_t at = middle;
    while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
    return at;
}

// A chat example's prompt as its template writes it: the dialogue before the
// last assistant message, ending with the assistant's header.
std::string chatPrompt(const ChatTemplate& chatTemplate, const Conversation& conversation)
{
    return chatTemplate.render(beforeLastAnswer(conversation), /*addGenerationPrompt=*/true);
}

} // namespace

std::vector<SampleRecord> samplePrompts(const PreparedData& data, std::int64_t count, const RunConfig& config)
{
    const auto& examples = data.sampleExamples();
    const std::size_t n = std::min<std::size_t>(examples.size(), static_cast<std::size_t>(std::max<std::int64_t>(0, count)));
    std::vector<SampleRecord> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const Example& e = examples[i];
        SampleRecord& s = out[i];
        s.objective = config.objective;
        s.method = config.method;
        s.index = static_cast<std::int64_t>(i);
        if (data.text()) {
            const std::size_t cut = textSplitPoint(e.target);
            s.prompt = e.target.substr(0, cut);
            s.target = e.target.substr(cut);
        } else {
            s.prompt = e.isChat() && data.chatTemplate ? chatPrompt(*data.chatTemplate, e.conversation) : e.prompt;
            s.target = e.target;
            s.rejected = e.rejected;
        }
    }
    return out;
}

SamplingOptions samplingOptionsFor(const RunConfig& config, bool dialogue)
{
    SamplingOptions s;
    s.maxNewTokens = config.sampleMaxNewTokens;
    s.temperature = config.sampleTemperature;
    s.topP = config.sampleTopP;
    s.topK = config.sampleTopK;
    s.repetitionPenalty = config.sampleRepetitionPenalty;
    s.seed = config.seed;
    if (dialogue) stopAtNextTurn(s);
    return s;
}

std::vector<std::int64_t> encodePrompt(const Tokenizer& tokenizer, const std::string& prompt, std::int64_t keepAtMost)
{
    std::vector<std::int64_t> ids = tokenizer.encode(prompt);
    if (ids.empty()) ids.push_back(tokenizer.startId());
    const auto keep = std::max<std::int64_t>(1, keepAtMost);
    if (static_cast<std::int64_t>(ids.size()) > keep) ids.erase(ids.begin(), ids.end() - keep);
    return ids;
}

std::vector<std::string> answerPrompts(CausalLMImpl& net, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const SamplingOptions& options, const std::atomic<bool>* cancel)
{
    std::vector<std::string> out;
    for (const auto& prompt : prompts) {
        if (cancel && cancel->load()) break;
        const auto ids = encodePrompt(tokenizer, prompt, net.config().maxPositions - options.maxNewTokens);
        std::string text = generate(net, &tokenizer, ids, options).text;
        const auto first = text.find_first_not_of(" \t\n");
        out.push_back(first == std::string::npos ? "" : text.substr(first));
    }
    return out;
}

} // namespace loralab
