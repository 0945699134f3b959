// Text generation with the key/value cache: greedy decoding or sampling with
// temperature, top-k, top-p and a repetition penalty, stopping at EOS, at a
// stop string (e.g. the next "\n\nHuman:") or after max new tokens. Random
// draws use the given seed only, so a sample is reproducible on any device.
#pragma once

#include "engine/model/causal_lm.h"
#include "engine/model/sampling.h"
#include "engine/tokenizer/tokenizer.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

struct GenerationResult {
    std::vector<std::int64_t> ids; // new tokens only
    std::string text;              // their text, cut before a stop string
    std::string stopReason;        // "eos", "stop_string", "max_tokens", "cancelled"
};

// Receives text as it becomes complete UTF-8; returning false stops generation.
using TextCallback = std::function<bool(const std::string& piece)>;

// `tokenizer` may be null (ids only; no stop strings, no text).
GenerationResult generate(CausalLMImpl& net, const Tokenizer* tokenizer, const std::vector<std::int64_t>& promptIds,
                          const SamplingOptions& options, const TextCallback& onText = {});

// Picks the next token from one row of logits; exposed for tests.
std::int64_t pickToken(std::vector<double> logits, const std::vector<std::int64_t>& history, const SamplingOptions& options,
                       std::uint64_t& rngState);

} // namespace loralab
