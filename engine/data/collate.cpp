// Tokenization and collation; see collate.h.
#include "engine/data/collate.h"

#include "engine/train/loss.h"
#include "engine/util/error.h"

#include <algorithm>
#include <map>

namespace loralab {

std::vector<std::string> dialogueTurns(const std::string& prompt)
{
    static const std::string kHuman = "\n\nHuman:";
    std::vector<std::string> turns;
    std::size_t start = 0;
    for (std::size_t at = prompt.find(kHuman, 1); at != std::string::npos; at = prompt.find(kHuman, at + 1)) {
        turns.push_back(prompt.substr(start, at - start));
        start = at;
    }
    turns.push_back(prompt.substr(start));
    return turns;
}

namespace {

TokenizedExample tokenizeChat(const Tokenizer& tokenizer, const Example& example, const TokenizeOptions& options)
{
    static const ChatTemplate humanAssistant = ChatTemplate::humanAssistant();
    const ChatTemplate& chatTemplate = options.chatTemplate ? *options.chatTemplate : humanAssistant;
    RenderedDialogue rendered = renderForTraining(chatTemplate, tokenizer, example.conversation, options.assistantTurns);
    TokenizedExample out;
    const auto keep = static_cast<std::size_t>(options.maxLen);
    if (rendered.ids.size() > keep) {
        const auto cut = static_cast<std::ptrdiff_t>(rendered.ids.size() - keep);
        // The last answer is the last run of marked tokens; earlier turns may go.
        const auto& mask = rendered.assistantMask;
        auto lastAnswer = std::find(mask.rbegin(), mask.rend(), std::uint8_t{1});
        lastAnswer = std::find(lastAnswer, mask.rend(), std::uint8_t{0});
        out.promptCut = true;
        out.answerCut = cut > mask.rend() - lastAnswer;
        rendered.ids.erase(rendered.ids.begin(), rendered.ids.begin() + cut);
        rendered.assistantMask.erase(rendered.assistantMask.begin(), rendered.assistantMask.begin() + cut);
    }
    out.ids = std::move(rendered.ids);
    out.labels.resize(out.ids.size());
    for (std::size_t i = 0; i < out.ids.size(); ++i) {
        const bool counts = options.trainOnPrompt || rendered.assistantMask[i] != 0;
        out.labels[i] = counts ? out.ids[i] : kIgnoreIndex;
        out.answerTokens += rendered.assistantMask[i] != 0;
    }
    out.promptTokens = static_cast<std::int64_t>(out.ids.size()) - out.answerTokens;
    return out;
}

} // namespace

TokenizedExample tokenizeExample(const Tokenizer& tokenizer, const Example& example, const TokenizeOptions& options)
{
    if (options.maxLen < 2) throw Error("max_len must be at least 2");
    if (example.isChat()) return tokenizeChat(tokenizer, example, options);
    TokenizedExample out;
    std::vector<std::int64_t> answer = tokenizer.encode(example.target);
    if (options.appendEos && tokenizer.eosId() >= 0) answer.push_back(tokenizer.eosId());
    std::vector<std::int64_t> prompt = tokenizer.encode(example.prompt);

    // The answer is what the loss is about: it keeps its place, and the prompt
    // gives way, oldest turns first.
    const std::int64_t minPrompt = prompt.empty() ? 0 : 1;
    if (static_cast<std::int64_t>(answer.size()) > options.maxLen - minPrompt) {
        answer.resize(static_cast<std::size_t>(options.maxLen - minPrompt));
        out.answerCut = true;
    }
    const auto budget = static_cast<std::size_t>(options.maxLen) - answer.size();
    if (prompt.size() > budget) {
        out.promptCut = true;
        std::vector<std::string> turns = dialogueTurns(example.prompt);
        while (turns.size() > 1 && prompt.size() > budget) {
            turns.erase(turns.begin());
            ++out.droppedTurns;
            std::string rest;
            for (const auto& t : turns) rest += t;
            prompt = tokenizer.encode(rest);
        }
        if (prompt.size() > budget) prompt.erase(prompt.begin(), prompt.end() - static_cast<std::ptrdiff_t>(budget));
    }
    out.promptTokens = static_cast<std::int64_t>(prompt.size());
    out.answerTokens = static_cast<std::int64_t>(answer.size());
    out.ids = prompt;
    out.ids.insert(out.ids.end(), answer.begin(), answer.end());
    out.labels.assign(prompt.size(), kIgnoreIndex);
    if (options.trainOnPrompt) out.labels = prompt;
    out.labels.insert(out.labels.end(), answer.begin(), answer.end());
    return out;
}

std::vector<TokenizedExample> tokenizeText(const Tokenizer& tokenizer, const std::vector<Example>& lines,
                                           std::int64_t maxLen, TextMode mode)
{
    if (maxLen < 2) throw Error("max_len must be at least 2");
    std::vector<TokenizedExample> out;
    const auto block = static_cast<std::size_t>(maxLen);
    if (mode == TextMode::Lines) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
            TokenizedExample e;
            e.ids = tokenizer.encode(lines[i].target);
            if (e.ids.size() < 2) continue;
            if (e.ids.size() > block) {
                e.ids.resize(block);
                e.answerCut = true;
            }
            e.labels = e.ids;
            e.answerTokens = static_cast<std::int64_t>(e.ids.size());
            e.source = i;
            out.push_back(std::move(e));
        }
        return out;
    }
    std::vector<std::int64_t> stream;
    // lineStart[i]: the index in `stream` of line i's first token. A line's
    // number per token would cost as much memory as the stream itself.
    std::vector<std::size_t> lineStart;
    lineStart.reserve(lines.size());
    for (const auto& line : lines) {
        lineStart.push_back(stream.size());
        const std::vector<std::int64_t> ids = tokenizer.encode(line.target + "\n");
        stream.insert(stream.end(), ids.begin(), ids.end());
    }
    // Like the usual concatenate-and-chunk recipe, the last partial block is dropped.
    out.reserve(stream.size() / block);
    for (std::size_t start = 0; start + block <= stream.size(); start += block) {
        TokenizedExample e;
        e.ids.assign(stream.begin() + static_cast<std::ptrdiff_t>(start), stream.begin() + static_cast<std::ptrdiff_t>(start + block));
        e.labels = e.ids;
        e.answerTokens = maxLen;
        // The last line that starts at or before this block's first token.
        e.source = static_cast<std::size_t>(std::upper_bound(lineStart.begin(), lineStart.end(), start) - lineStart.begin()) - 1;
        out.push_back(std::move(e));
    }
    if (out.empty() && !stream.empty()) {
        TokenizedExample e; // a corpus shorter than one block still gives one example
        e.ids = stream;
        e.labels = stream;
        e.answerTokens = static_cast<std::int64_t>(stream.size());
        out.push_back(std::move(e));
    }
    return out;
}

std::int64_t labelTokens(const TokenizedExample& example)
{
    std::int64_t n = 0;
    for (std::size_t i = 1; i < example.labels.size(); ++i) n += example.labels[i] != kIgnoreIndex;
    return n;
}

std::vector<TokenizedExample> packExamples(const std::vector<TokenizedExample>& examples, std::int64_t maxLen)
{
    std::vector<std::size_t> order(examples.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return examples[a].ids.size() > examples[b].ids.size(); });
    std::vector<std::vector<std::size_t>> bins;
    std::multimap<std::int64_t, std::size_t> room; // space left -> bin
    for (const std::size_t i : order) {
        const auto length = static_cast<std::int64_t>(examples[i].ids.size());
        if (length == 0) continue;
        const auto fit = room.lower_bound(length);
        if (fit == room.end()) {
            bins.push_back({i});
            room.emplace(std::max<std::int64_t>(0, maxLen - length), bins.size() - 1);
        } else {
            const auto [left, bin] = *fit;
            room.erase(fit);
            bins[bin].push_back(i);
            room.emplace(left - length, bin);
        }
    }
    std::vector<TokenizedExample> out;
    out.reserve(bins.size());
    for (auto& bin : bins) {
        std::sort(bin.begin(), bin.end()); // the data's own order within a sequence
        TokenizedExample packed;
        packed.source = bin.front();
        for (const std::size_t i : bin) {
            const TokenizedExample& e = examples[i];
            packed.ids.insert(packed.ids.end(), e.ids.begin(), e.ids.end());
            packed.labels.insert(packed.labels.end(), e.labels.begin(), e.labels.end());
            packed.labels[packed.labels.size() - e.labels.size()] = kIgnoreIndex;
            packed.promptTokens += e.promptTokens;
            packed.answerTokens += e.answerTokens;
            packed.segments.push_back(static_cast<std::int64_t>(e.ids.size()));
        }
        out.push_back(std::move(packed));
    }
    return out;
}

Batch collate(const std::vector<const TokenizedExample*>& examples, std::int64_t padId, torch::Device device)
{
    if (examples.empty()) throw Error("cannot collate an empty batch");
    std::size_t longest = 0;
    for (const auto* e : examples) longest = std::max(longest, e->ids.size());
    const auto B = static_cast<std::int64_t>(examples.size());
    const auto T = static_cast<std::int64_t>(longest);
    torch::Tensor ids = torch::full({B, T}, padId < 0 ? 0 : padId, torch::kInt64);
    torch::Tensor mask = torch::zeros({B, T}, torch::kInt64);
    torch::Tensor labels = torch::full({B, T}, kIgnoreIndex, torch::kInt64);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    auto labelsA = labels.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < B; ++b) {
        const auto* e = examples[static_cast<std::size_t>(b)];
        for (std::size_t t = 0; t < e->ids.size(); ++t) {
            idsA[b][static_cast<std::int64_t>(t)] = e->ids[t];
            maskA[b][static_cast<std::int64_t>(t)] = 1;
            labelsA[b][static_cast<std::int64_t>(t)] = e->labels[t];
        }
    }
    const bool packed = std::any_of(examples.begin(), examples.end(), [](const TokenizedExample* e) { return !e->segments.empty(); });
    if (packed) {
        // Each token's example, numbered within its row; a padding token is
        // a segment of its own (-1 - t). Tokens see the earlier tokens of
        // their own segment.
        torch::Tensor segment = torch::empty({B, T}, torch::kInt64);
        auto segmentA = segment.accessor<std::int64_t, 2>();
        for (std::int64_t b = 0; b < B; ++b) {
            const auto* e = examples[static_cast<std::size_t>(b)];
            std::vector<std::int64_t> lengths = e->segments;
            if (lengths.empty()) lengths.push_back(static_cast<std::int64_t>(e->ids.size()));
            std::int64_t t = 0;
            for (std::size_t k = 0; k < lengths.size(); ++k)
                for (std::int64_t i = 0; i < lengths[k]; ++i) segmentA[b][t++] = static_cast<std::int64_t>(k);
            for (; t < T; ++t) segmentA[b][t] = -1 - t;
        }
        const torch::Tensor causal = torch::ones({T, T}, torch::kBool).tril();
        const torch::Tensor sees = (segment.unsqueeze(2) == segment.unsqueeze(1)).logical_and(causal).unsqueeze(1);
        return {ids.to(device), sees.to(device), labels.to(device)};
    }
    return {ids.to(device), mask.to(device), labels.to(device)};
}

} // namespace loralab
