// Samples: the prompts a run answers with the base and the fine-tuned model,
// how a prompt is encoded for generation, and the answers themselves. The
// end of a run, `loralab-cli sample` and the window take their prompts from
// here, so a text run's samples are the same everywhere.
#pragma once

#include "engine/model/generation.h"
#include "engine/records/metrics.h"
#include "engine/config/run_config.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

struct PreparedData;
class Tokenizer;

// The first `count` test examples (validation when there is no test split)
// as samples to answer: a dialogue's prompt and target as they are; for text
// data, the first half of each text (cut at a word) as the prompt and the
// rest as the target.
std::vector<SampleRecord> samplePrompts(const PreparedData& data, std::int64_t count, const RunConfig& config);

// The sampling settings of the run's samples; a dialogue stops before the
// next "\n\nHuman:" turn (stopAtNextTurn).
SamplingOptions samplingOptionsFor(const RunConfig& config, bool dialogue);

// The ids generation starts from: never empty (the start token for an empty
// prompt), and of a prompt longer than `keepAtMost` tokens its newest ones.
std::vector<std::int64_t> encodePrompt(const Tokenizer& tokenizer, const std::string& prompt, std::int64_t keepAtMost);

// Answers `prompts` with `net` as it is now, each answer without the leading
// whitespace generation begins with.
std::vector<std::string> answerPrompts(CausalLMImpl& net, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const SamplingOptions& options, const std::atomic<bool>* cancel = nullptr);

} // namespace loralab
