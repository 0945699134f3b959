// Metrics as JSON; see metrics.h.
#include "engine/runner/metrics.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>

namespace loralab {
namespace {

using Json = nlohmann::ordered_json;

Json estimateJson(const MemoryEstimate& e)
{
    return {{"weights", e.weightBytes}, {"gradients", e.gradientBytes}, {"optimizer", e.optimizerBytes},
            {"activations", e.activationBytes}, {"total", e.total()}};
}

MemoryEstimate estimateFrom(const Json& j)
{
    MemoryEstimate e;
    if (!j.is_object()) return e;
    e.weightBytes = j.value("weights", std::int64_t{0});
    e.gradientBytes = j.value("gradients", std::int64_t{0});
    e.optimizerBytes = j.value("optimizer", std::int64_t{0});
    e.activationBytes = j.value("activations", std::int64_t{0});
    return e;
}

Json parseObject(const std::string& text)
{
    Json j = Json::parse(text);
    if (!j.is_object()) throw Error("record is not a JSON object");
    return j;
}

} // namespace

std::string toJson(const StepRecord& r)
{
    Json j = {{"type", "step"},
              {"run", r.run},
              {"step", r.step},
              {"total_steps", r.totalSteps},
              {"epoch", r.epoch},
              {"loss", r.loss},
              {"learning_rate", r.learningRate},
              {"grad_norm", r.gradNorm},
              {"forward_ms", r.forwardMs},
              {"backward_ms", r.backwardMs},
              {"optimizer_ms", r.optimizerMs},
              {"step_ms", r.stepMs},
              {"tokens", r.tokens},
              {"tokens_per_s", r.tokensPerSecond},
              {"memory_bytes", r.memoryBytes},
              {"peak_memory_bytes", r.peakMemoryBytes},
              {"memory_estimate", estimateJson(r.estimate)},
              {"eta_s", r.etaSeconds}};
    if (r.worldSize > 1) {
        j["world_size"] = r.worldSize;
        j["comm_ms"] = r.commMs;
    }
    if (r.run == "dpo") {
        j["reward_chosen"] = r.rewardChosen;
        j["reward_rejected"] = r.rewardRejected;
        j["reward_margin"] = r.rewardMargin;
        j["preference_accuracy"] = r.preferenceAccuracy;
    }
    return j.dump();
}

std::string toJson(const EvalRecord& r)
{
    Json j = {{"type", "eval"},        {"run", r.run},
              {"step", r.step},        {"epoch", r.epoch},
              {"loss", r.loss},        {"perplexity", r.perplexity},
              {"tokens", r.tokens},    {"improved", r.improved},
              {"best", r.bestValue},   {"evals_since_best", r.evalsSinceBest},
              {"evals_left", r.evalsLeft}};
    if (r.preferenceAccuracy >= 0) {
        j["preference_accuracy"] = r.preferenceAccuracy;
        j["reward_margin"] = r.rewardMargin;
    }
    return j.dump();
}

std::string toJson(const SampleRecord& r)
{
    Json j = {{"run", r.run}, {"index", r.index}, {"prompt", r.prompt}, {"target", r.target}, {"base_output", r.baseOutput}, {"tuned_output", r.tunedOutput}};
    if (!r.rejected.empty()) j["rejected"] = r.rejected;
    return j.dump();
}

std::string toJson(const RunSummary& r)
{
    return Json{{"run", r.run},
                {"run_dir", r.runDir},
                {"model", r.model},
                {"method", r.method},
                {"total_params", r.totalParams},
                {"trainable_params", r.trainableParams},
                {"steps", r.steps},
                {"avg_forward_ms", r.avgForwardMs},
                {"avg_backward_ms", r.avgBackwardMs},
                {"avg_optimizer_ms", r.avgOptimizerMs},
                {"avg_step_ms", r.avgStepMs},
                {"tokens_per_s", r.tokensPerSecond},
                {"peak_memory_bytes", r.peakMemoryBytes},
                {"memory_estimate", estimateJson(r.estimate)},
                {"first_train_loss", r.firstTrainLoss},
                {"final_train_loss", r.finalTrainLoss},
                {"final_val_loss", r.finalValLoss},
                {"best_val_loss", r.bestValLoss},
                {"best_val_accuracy", r.bestValAccuracy},
                {"best_step", r.bestStep},
                {"stop_reason", r.stopReason},
                {"seconds", r.seconds}}
        .dump(2);
}

std::string toJson(const CompareSummary& r)
{
    const auto ratio = [](double a, double b) { return b != 0.0 ? a / b : 0.0; };
    Json j;
    j["group_dir"] = r.groupDir;
    j["lora"] = Json::parse(toJson(r.lora));
    j["full"] = Json::parse(toJson(r.full));
    j["ratios_lora_over_full"] = {
        {"trainable_params", ratio(static_cast<double>(r.lora.trainableParams), static_cast<double>(r.full.trainableParams))},
        {"avg_forward_ms", ratio(r.lora.avgForwardMs, r.full.avgForwardMs)},
        {"avg_backward_ms", ratio(r.lora.avgBackwardMs, r.full.avgBackwardMs)},
        {"avg_step_ms", ratio(r.lora.avgStepMs, r.full.avgStepMs)},
        {"peak_memory_bytes", ratio(static_cast<double>(r.lora.peakMemoryBytes), static_cast<double>(r.full.peakMemoryBytes))},
    };
    return j.dump(2);
}

StepRecord stepRecordFromJson(const std::string& text)
{
    const Json j = parseObject(text);
    StepRecord r;
    r.run = j.value("run", "");
    r.step = j.value("step", std::int64_t{0});
    r.totalSteps = j.value("total_steps", std::int64_t{0});
    r.epoch = j.value("epoch", 0.0);
    r.loss = j.value("loss", 0.0);
    r.learningRate = j.value("learning_rate", 0.0);
    r.gradNorm = j.value("grad_norm", 0.0);
    r.forwardMs = j.value("forward_ms", 0.0);
    r.backwardMs = j.value("backward_ms", 0.0);
    r.optimizerMs = j.value("optimizer_ms", 0.0);
    r.stepMs = j.value("step_ms", 0.0);
    r.tokens = j.value("tokens", std::int64_t{0});
    r.tokensPerSecond = j.value("tokens_per_s", 0.0);
    r.memoryBytes = j.value("memory_bytes", std::int64_t{0});
    r.peakMemoryBytes = j.value("peak_memory_bytes", std::int64_t{0});
    if (j.contains("memory_estimate")) r.estimate = estimateFrom(j["memory_estimate"]);
    r.etaSeconds = j.value("eta_s", 0.0);
    r.worldSize = j.value("world_size", 1);
    r.commMs = j.value("comm_ms", 0.0);
    r.rewardChosen = j.value("reward_chosen", 0.0);
    r.rewardRejected = j.value("reward_rejected", 0.0);
    r.rewardMargin = j.value("reward_margin", 0.0);
    r.preferenceAccuracy = j.value("preference_accuracy", 0.0);
    return r;
}

EvalRecord evalRecordFromJson(const std::string& text)
{
    const Json j = parseObject(text);
    EvalRecord r;
    r.run = j.value("run", "");
    r.step = j.value("step", std::int64_t{0});
    r.epoch = j.value("epoch", 0.0);
    r.loss = j.value("loss", 0.0);
    r.perplexity = j.value("perplexity", 0.0);
    r.tokens = j.value("tokens", std::int64_t{0});
    r.improved = j.value("improved", false);
    r.bestValue = j.value("best", 0.0);
    r.evalsSinceBest = j.value("evals_since_best", std::int64_t{0});
    r.evalsLeft = j.value("evals_left", std::int64_t{-1});
    r.preferenceAccuracy = j.value("preference_accuracy", -1.0);
    r.rewardMargin = j.value("reward_margin", 0.0);
    return r;
}

SampleRecord sampleRecordFromJson(const std::string& text)
{
    const Json j = parseObject(text);
    SampleRecord r;
    r.run = j.value("run", "");
    r.index = j.value("index", std::int64_t{0});
    r.prompt = j.value("prompt", "");
    r.target = j.value("target", "");
    r.rejected = j.value("rejected", "");
    r.baseOutput = j.value("base_output", "");
    r.tunedOutput = j.value("tuned_output", "");
    return r;
}

RunSummary runSummaryFromJson(const std::string& text)
{
    const Json j = parseObject(text);
    RunSummary r;
    r.run = j.value("run", "");
    r.runDir = j.value("run_dir", "");
    r.model = j.value("model", "");
    r.method = j.value("method", "");
    r.totalParams = j.value("total_params", std::int64_t{0});
    r.trainableParams = j.value("trainable_params", std::int64_t{0});
    r.steps = j.value("steps", std::int64_t{0});
    r.avgForwardMs = j.value("avg_forward_ms", 0.0);
    r.avgBackwardMs = j.value("avg_backward_ms", 0.0);
    r.avgOptimizerMs = j.value("avg_optimizer_ms", 0.0);
    r.avgStepMs = j.value("avg_step_ms", 0.0);
    r.tokensPerSecond = j.value("tokens_per_s", 0.0);
    r.peakMemoryBytes = j.value("peak_memory_bytes", std::int64_t{0});
    if (j.contains("memory_estimate")) r.estimate = estimateFrom(j["memory_estimate"]);
    r.firstTrainLoss = j.value("first_train_loss", 0.0);
    r.finalTrainLoss = j.value("final_train_loss", 0.0);
    r.finalValLoss = j.value("final_val_loss", -1.0);
    r.bestValLoss = j.value("best_val_loss", -1.0);
    r.bestValAccuracy = j.value("best_val_accuracy", -1.0);
    r.bestStep = j.value("best_step", std::int64_t{0});
    r.stopReason = j.value("stop_reason", "");
    r.seconds = j.value("seconds", 0.0);
    return r;
}

RunRecords readRunDirectory(const std::string& dir)
{
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir)) throw fileError(dir, "run directory not found");
    RunRecords out;
    out.dir = dir;
    if (fs::exists(fs::path(dir) / "config.json")) out.configJson = readTextFile(fs::path(dir) / "config.json");
    const auto eachLine = [&](const fs::path& file, const std::function<void(const std::string&)>& take) {
        std::ifstream in(file);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            try {
                take(line);
            } catch (const std::exception&) {
                ++out.unreadableLines;
            }
        }
    };
    eachLine(fs::path(dir) / "metrics.jsonl", [&](const std::string& line) {
        const Json j = parseObject(line);
        if (j.value("type", "") == "eval")
            out.evals.push_back(evalRecordFromJson(line));
        else
            out.steps.push_back(stepRecordFromJson(line));
    });
    eachLine(fs::path(dir) / "samples.jsonl", [&](const std::string& line) { out.samples.push_back(sampleRecordFromJson(line)); });
    const auto summary = fs::path(dir) / "summary.json";
    if (fs::exists(summary)) {
        try {
            out.summary = runSummaryFromJson(readTextFile(summary));
            out.hasSummary = true;
        } catch (const std::exception&) {
            ++out.unreadableLines;
        }
    }
    return out;
}

} // namespace loralab
