// Settings for sampling text from a model; shared by generation, the runner
// and the window (no LibTorch here).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

struct SamplingOptions {
    std::int64_t maxNewTokens = 64;
    double temperature = 0.0; // 0: greedy
    double topP = 1.0;
    std::int64_t topK = 0; // 0: no limit
    double repetitionPenalty = 1.0;
    std::uint64_t seed = 0;
    bool stopAtEos = true;
    std::vector<std::string> stopStrings;
};

// The dialogue stop rule, one for every place that samples: a prompt that ends
// a dialogue turn ("... Assistant:") is answered up to where the next
// "\n\nHuman:" turn would begin.
inline bool isDialoguePrompt(const std::string& prompt) { return prompt.find("Assistant:") != std::string::npos; }
inline void stopAtNextTurn(SamplingOptions& options) { options.stopStrings = {"\n\nHuman:"}; }

// What is wrong with `o`, one message per setting ("temperature nan: must be a
// finite number >= 0"); empty when generation can use it.
inline std::vector<std::string> samplingProblems(const SamplingOptions& o)
{
    std::vector<std::string> out;
    const auto bad = [&](const std::string& name, double value, const char* rule) {
        out.push_back(name + " " + std::to_string(value) + ": " + rule);
    };
    if (o.maxNewTokens < 0) bad("max_new_tokens", static_cast<double>(o.maxNewTokens), "must be 0 or more");
    if (!std::isfinite(o.temperature) || o.temperature < 0) bad("temperature", o.temperature, "must be a finite number >= 0 (0: greedy)");
    if (!std::isfinite(o.topP) || o.topP <= 0 || o.topP > 1) bad("top_p", o.topP, "must be in (0, 1]");
    if (o.topK < 0) bad("top_k", static_cast<double>(o.topK), "must be 0 (no limit) or more");
    if (!std::isfinite(o.repetitionPenalty) || o.repetitionPenalty <= 0)
        bad("repetition_penalty", o.repetitionPenalty, "must be a finite number > 0 (1: none)");
    return out;
}

} // namespace loralab
