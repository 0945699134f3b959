// Answers of the base and the fine-tuned model to sample prompts.
#pragma once

#include "engine/lora/lora.h"
#include "engine/model/generation.h"
#include "engine/runner/metrics.h"
#include "engine/runner/run_config.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

SamplingOptions samplingOptionsFor(const RunConfig& config, bool dialogue);

// Answers `prompts` with `net` as it is now.
std::vector<std::string> answerPrompts(CausalLMImpl& net, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const SamplingOptions& options, const std::atomic<bool>* cancel = nullptr);

double exactMatchRate(const std::vector<SampleRecord>& samples, bool tuned);

} // namespace loralab
