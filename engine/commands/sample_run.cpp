// loralab-cli sample: a run's sample prompts answered by the base model and
// by its best (else last) checkpoint; see tools.h.
#include "engine/commands/tools.h"

#include "engine/checkpoint/checkpoint.h"
#include "engine/checkpoint/load_checkpoint.h"
#include "engine/model/model_loader.h"
#include "engine/run/run_samples.h"
#include "engine/run/run_setup.h"
#include "engine/util/error.h"

#include <filesystem>

namespace loralab {
namespace fs = std::filesystem;

std::vector<SampleRecord> sampleRun(const std::string& runDir, std::int64_t count, const RunConfig* overrides,
                                    const std::function<void(const SampleRecord&)>& onSample)
{
    const Checkpoint checkpoint = openCheckpoint(runDir);
    if (!checkpoint.run) throw fileError(runDir, "is not a run directory (no config.json)");
    RunConfig config = *checkpoint.run;
    if (overrides) {
        config.sampleMaxNewTokens = overrides->sampleMaxNewTokens;
        config.sampleTemperature = overrides->sampleTemperature;
        config.sampleTopP = overrides->sampleTopP;
        config.sampleTopK = overrides->sampleTopK;
        config.sampleRepetitionPenalty = overrides->sampleRepetitionPenalty;
        config.seed = overrides->seed;
        config.device = overrides->device;
    }
    PreparedModel prepared = prepareModel(config, resolveDevice(config.device));
    CausalLMImpl& net = *prepared.model.net;
    const Tokenizer& tokenizer = *prepared.model.tokenizer;
    const PreparedData data = prepareData(config, nullptr);
    std::vector<SampleRecord> out = samplePrompts(data, count, config);
    std::vector<std::string> prompts;
    for (const auto& s : out) prompts.push_back(s.prompt);
    const SamplingOptions options = samplingOptionsFor(config, !data.text());
    std::vector<std::string> base;
    {
        const AdaptersOff off(net);
        base = answerPrompts(net, tokenizer, prompts, options);
    }
    loadCheckpointWeights(net, checkpoint);
    const auto tuned = answerPrompts(net, tokenizer, prompts, options);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].baseOutput = base[i];
        out[i].tunedOutput = tuned[i];
        if (onSample) onSample(out[i]);
    }
    return out;
}

} // namespace loralab
