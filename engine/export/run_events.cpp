// LoRA Lab's records as TensorBoard tags; see run_events.h. Each table below
// is the one place a tag is spelled.
#include "engine/export/run_events.h"

#include "engine/util/files.h"

#include "engine/config/run_config.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

namespace loralab {
namespace {

template <typename R>
struct TagOf {
    const char* tag;
    std::function<double(const R&)> value;
};

const std::vector<TagOf<StepRecord>>& stepTags()
{
    using R = StepRecord;
    static const std::vector<TagOf<R>> tags = {
        {"train/loss", [](const R& r) { return r.loss; }},
        {"train/learning_rate", [](const R& r) { return r.learningRate; }},
        {"train/grad_norm", [](const R& r) { return r.gradNorm; }},
        {"train/epoch", [](const R& r) { return r.epoch; }},
        {"train/tokens", [](const R& r) { return static_cast<double>(r.tokens); }},
        {"train/tokens_per_second", [](const R& r) { return r.tokensPerSecond; }},
        {"time/forward_ms", [](const R& r) { return r.forwardMs; }},
        {"time/backward_ms", [](const R& r) { return r.backwardMs; }},
        {"time/optimizer_ms", [](const R& r) { return r.optimizerMs; }},
        {"time/step_ms", [](const R& r) { return r.stepMs; }},
        {"time/elapsed_seconds", [](const R& r) { return r.elapsedSeconds; }},
        {"time/eta_seconds", [](const R& r) { return r.etaSeconds; }},
        {"memory/bytes", [](const R& r) { return static_cast<double>(r.memoryBytes); }},
        {"memory/peak_bytes", [](const R& r) { return static_cast<double>(r.peakMemoryBytes); }},
        {"memory/process_bytes", [](const R& r) { return static_cast<double>(r.processMemoryBytes); }},
        {"memory/measured_weights_bytes", [](const R& r) { return static_cast<double>(r.measured.weightBytes); }},
        {"memory/measured_gradients_bytes", [](const R& r) { return static_cast<double>(r.measured.gradientBytes); }},
        {"memory/measured_optimizer_bytes", [](const R& r) { return static_cast<double>(r.measured.optimizerBytes); }},
        {"memory/measured_activations_bytes", [](const R& r) { return static_cast<double>(r.measured.activationBytes); }},
        {"memory/estimate_weights_bytes", [](const R& r) { return static_cast<double>(r.estimate.weightBytes); }},
        {"memory/estimate_gradients_bytes", [](const R& r) { return static_cast<double>(r.estimate.gradientBytes); }},
        {"memory/estimate_optimizer_bytes", [](const R& r) { return static_cast<double>(r.estimate.optimizerBytes); }},
        {"memory/estimate_activations_bytes", [](const R& r) { return static_cast<double>(r.estimate.activationBytes); }},
        {"memory/estimate_total_bytes", [](const R& r) { return static_cast<double>(r.estimate.total()); }},
    };
    return tags;
}

const std::vector<TagOf<StepRecord>>& dpoStepTags()
{
    using R = StepRecord;
    static const std::vector<TagOf<R>> tags = {
        {"dpo/reward_chosen", [](const R& r) { return r.rewardChosen; }},
        {"dpo/reward_rejected", [](const R& r) { return r.rewardRejected; }},
        {"dpo/reward_margin", [](const R& r) { return r.rewardMargin; }},
        {"dpo/preference_accuracy", [](const R& r) { return r.preferenceAccuracy; }},
    };
    return tags;
}

const std::vector<TagOf<EvalRecord>>& evalTags()
{
    using R = EvalRecord;
    static const std::vector<TagOf<R>> tags = {
        {"eval/loss", [](const R& r) { return r.loss; }},
        {"eval/perplexity", [](const R& r) { return r.perplexity; }},
        {"eval/best", [](const R& r) { return r.bestValue; }},
        {"eval/tokens", [](const R& r) { return static_cast<double>(r.tokens); }},
    };
    return tags;
}

template <typename R>
void addTags(std::vector<TensorBoardScalar>& out, const std::vector<TagOf<R>>& tags, const R& record)
{
    for (const auto& t : tags) out.push_back({t.tag, t.value(record)});
}

// Markdown shows a block indented by four spaces as it is (no markup, no
// joined lines), whatever the text holds.
std::string codeBlock(const std::string& text)
{
    if (text.empty()) return "*(empty)*\n";
    std::string out = "    ";
    for (const char c : text) {
        out.push_back(c);
        if (c == '\n') out += "    ";
    }
    return out + "\n";
}

} // namespace

std::vector<TensorBoardScalar> stepScalars(const StepRecord& record)
{
    std::vector<TensorBoardScalar> out;
    addTags(out, stepTags(), record);
    if (record.worldSize > 1) out.push_back({"time/comm_ms", record.commMs});
    if (record.objective == Objective::Dpo) addTags(out, dpoStepTags(), record);
    return out;
}

std::vector<TensorBoardScalar> evalScalars(const EvalRecord& record)
{
    std::vector<TensorBoardScalar> out;
    addTags(out, evalTags(), record);
    if (record.preferenceAccuracy >= 0) {
        out.push_back({"eval/preference_accuracy", record.preferenceAccuracy});
        out.push_back({"eval/reward_margin", record.rewardMargin});
    }
    return out;
}

std::string configText(const std::string& configJson)
{
    std::string pretty = configJson;
    try {
        pretty = nlohmann::ordered_json::parse(configJson).dump(2);
    } catch (const std::exception&) {
        // Shown as it is: a configuration that does not parse is still worth seeing.
    }
    return codeBlock(pretty);
}

std::string samplesText(const std::vector<SampleRecord>& samples)
{
    std::string out;
    for (const auto& s : samples) {
        out += "### Sample " + std::to_string(s.index) + "\n\n";
        out += "**Prompt**\n\n" + codeBlock(s.prompt) + "\n";
        out += "**Target**\n\n" + codeBlock(s.target) + "\n";
        if (!s.rejected.empty()) out += "**Rejected**\n\n" + codeBlock(s.rejected) + "\n";
        out += "**Base model**\n\n" + codeBlock(s.baseOutput) + "\n";
        out += "**Fine-tuned**\n\n" + codeBlock(s.tunedOutput) + "\n";
    }
    return out;
}

void writeStepEvents(TensorBoardWriter& writer, const StepRecord& record, double wallTime)
{
    writer.addScalars(record.step, stepScalars(record), wallTime);
}

void writeEvalEvents(TensorBoardWriter& writer, const EvalRecord& record, double wallTime)
{
    writer.addScalars(record.step, evalScalars(record), wallTime);
}

void writeConfigEvent(TensorBoardWriter& writer, const RunConfig& config, double wallTime)
{
    writer.addText("config", 0, configText(runConfigToJson(config)), wallTime);
}

void writeSampleEvents(TensorBoardWriter& writer, const std::vector<SampleRecord>& samples, std::int64_t step, double wallTime)
{
    if (!samples.empty()) writer.addText("samples", step, samplesText(samples), wallTime);
}

std::filesystem::path writeRunEvents(const RunRecords& run, const std::filesystem::path& dir, double startTime)
{
    TensorBoardWriter writer(dir, startTime);
    const std::filesystem::path config = std::filesystem::path(run.dir) / "config.json";
    std::error_code ec;
    if (std::filesystem::is_regular_file(config, ec)) writer.addText("config", 0, configText(readTextFile(config)), startTime);
    // Steps and evaluations in step order, an evaluation after its step
    // (metrics.jsonl appends them so).
    std::size_t nextEval = 0;
    double lastWall = startTime;
    std::int64_t lastStep = 0;
    const auto evalsUpTo = [&](std::int64_t step) {
        for (; nextEval < run.evals.size() && run.evals[nextEval].step <= step; ++nextEval)
            writeEvalEvents(writer, run.evals[nextEval], lastWall);
    };
    for (const auto& s : run.steps) {
        evalsUpTo(s.step - 1);
        lastWall = startTime + s.elapsedSeconds;
        lastStep = std::max(lastStep, s.step);
        writeStepEvents(writer, s, lastWall);
        evalsUpTo(s.step);
    }
    evalsUpTo(std::numeric_limits<std::int64_t>::max());
    if (!run.evals.empty()) lastStep = std::max(lastStep, run.evals.back().step);
    writeSampleEvents(writer, run.samples, lastStep, lastWall);
    writer.flush();
    return writer.path();
}

} // namespace loralab
