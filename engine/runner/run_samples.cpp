// Samples and checkpoint weights; see run_samples.h.
#include "engine/runner/run_samples.h"

#include "engine/io/safetensors.h"
#include "engine/runner/runner.h"
#include "engine/util/error.h"

#include <cctype>

namespace loralab {

SamplingOptions samplingOptionsFor(const RunConfig& config, bool dialogue)
{
    SamplingOptions s;
    s.maxNewTokens = config.sampleMaxNewTokens;
    s.temperature = config.sampleTemperature;
    s.topP = config.sampleTopP;
    s.topK = config.sampleTopK;
    s.repetitionPenalty = config.sampleRepetitionPenalty;
    s.seed = config.seed;
    if (dialogue) s.stopStrings = {"\n\nHuman:"};
    return s;
}

std::vector<std::string> answerPrompts(CausalLMImpl& net, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const SamplingOptions& options, const std::atomic<bool>* cancel)
{
    std::vector<std::string> out;
    for (const auto& prompt : prompts) {
        if (cancel && cancel->load()) break;
        std::vector<std::int64_t> ids = tokenizer.encode(prompt);
        if (ids.empty()) ids.push_back(tokenizer.bosId() >= 0 ? tokenizer.bosId() : 0);
        const auto maxPrompt = std::max<std::int64_t>(1, net.config().maxPositions - options.maxNewTokens);
        if (static_cast<std::int64_t>(ids.size()) > maxPrompt) ids.erase(ids.begin(), ids.end() - maxPrompt);
        std::string text = generate(net, &tokenizer, ids, options).text;
        const auto first = text.find_first_not_of(" \t\n");
        out.push_back(first == std::string::npos ? "" : text.substr(first));
    }
    return out;
}

bool answersMatch(const std::string& output, const std::string& target)
{
    const auto normalise = [](const std::string& s) {
        std::string out;
        for (const char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        const auto last = out.find_last_not_of(" \t\r\n.!?");
        const auto first = out.find_first_not_of(" \t\r\n");
        return first == std::string::npos || last == std::string::npos ? std::string() : out.substr(first, last - first + 1);
    };
    return !normalise(target).empty() && normalise(output) == normalise(target);
}

double exactMatchRate(const std::vector<SampleRecord>& samples, bool tuned)
{
    if (samples.empty()) return -1.0;
    std::size_t hits = 0;
    for (const auto& s : samples) hits += answersMatch(tuned ? s.tunedOutput : s.baseOutput, s.target);
    return static_cast<double>(hits) / static_cast<double>(samples.size());
}

} // namespace loralab
