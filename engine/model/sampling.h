// Settings for sampling text from a model; shared by generation, the runner
// and the window (no LibTorch here).
#pragma once

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

} // namespace loralab
