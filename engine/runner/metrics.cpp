// Metrics as JSON; see metrics.h. Each record type has one table of keys that
// both writes and reads it, so a key is spelled once; a key missing from a
// file (written by an older version) leaves the field at its default.
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

template <typename R>
struct Key {
    const char* name;
    std::function<Json(const R&)> get;
    std::function<void(R&, const Json&)> set;
    bool (*present)(const R&) = nullptr; // written only when this says so (DPO fields)
};

template <typename R, typename T>
Key<R> key(const char* name, T R::*member, bool (*present)(const R&) = nullptr)
{
    return {name, [member](const R& r) { return Json(r.*member); }, [member](R& r, const Json& j) { r.*member = j.get<T>(); },
            present};
}

Json breakdownJson(const MemoryBreakdown& e)
{
    return {{"weights", e.weightBytes}, {"gradients", e.gradientBytes}, {"optimizer", e.optimizerBytes},
            {"activations", e.activationBytes}, {"total", e.total()}};
}

MemoryBreakdown breakdownFrom(const Json& j)
{
    MemoryBreakdown e;
    if (!j.is_object()) return e;
    e.weightBytes = j.value("weights", std::int64_t{0});
    e.gradientBytes = j.value("gradients", std::int64_t{0});
    e.optimizerBytes = j.value("optimizer", std::int64_t{0});
    e.activationBytes = j.value("activations", std::int64_t{0});
    return e;
}

template <typename R>
Key<R> breakdownKey(const char* name, MemoryBreakdown R::*member)
{
    return {name, [member](const R& r) { return breakdownJson(r.*member); },
            [member](R& r, const Json& j) { r.*member = breakdownFrom(j); }};
}

// Files before the method had its own key called it "run".
template <typename R>
Key<R> methodKey()
{
    return {"method", [](const R& r) { return Json(runMethodName(r.method)); },
            [](R& r, const Json& j) { r.method = parseRunMethod(j.get<std::string>()); }};
}

template <typename R>
Json write(const std::vector<Key<R>>& keys, const R& r, Json j = Json::object())
{
    for (const auto& k : keys)
        if (!k.present || k.present(r)) j[k.name] = k.get(r);
    return j;
}

template <typename R>
R read(const std::vector<Key<R>>& keys, const Json& j)
{
    R r;
    for (const auto& k : keys) {
        auto it = j.find(k.name);
        if (it == j.end() && std::string(k.name) == "method") it = j.find("run");
        if (it != j.end() && !it->is_null()) k.set(r, *it);
    }
    return r;
}

Json parseObject(const std::string& text)
{
    Json j = Json::parse(text);
    if (!j.is_object()) throw Error("record is not a JSON object");
    return j;
}

bool isDpo(const StepRecord& r) { return r.method == RunMethod::Dpo; }
bool isDistributed(const StepRecord& r) { return r.worldSize > 1; }
bool measuredAccuracy(const EvalRecord& r) { return r.preferenceAccuracy >= 0; }
bool hasRejected(const SampleRecord& r) { return !r.rejected.empty(); }
bool hasError(const RunSummary& r) { return !r.error.empty(); }

const std::vector<Key<StepRecord>>& stepKeys()
{
    using R = StepRecord;
    static const std::vector<Key<R>> keys = {
        methodKey<R>(),
        key("step", &R::step),
        key("total_steps", &R::totalSteps),
        key("epoch", &R::epoch),
        key("loss", &R::loss),
        key("learning_rate", &R::learningRate),
        key("grad_norm", &R::gradNorm),
        key("forward_ms", &R::forwardMs),
        key("backward_ms", &R::backwardMs),
        key("optimizer_ms", &R::optimizerMs),
        key("step_ms", &R::stepMs),
        key("tokens", &R::tokens),
        key("tokens_per_s", &R::tokensPerSecond),
        key("memory_bytes", &R::memoryBytes),
        key("peak_memory_bytes", &R::peakMemoryBytes),
        key("process_memory_bytes", &R::processMemoryBytes),
        breakdownKey("memory_measured", &R::measured),
        breakdownKey("memory_estimate", &R::estimate),
        key("elapsed_s", &R::elapsedSeconds),
        key("eta_s", &R::etaSeconds),
        key("world_size", &R::worldSize, isDistributed),
        key("comm_ms", &R::commMs, isDistributed),
        key("reward_chosen", &R::rewardChosen, isDpo),
        key("reward_rejected", &R::rewardRejected, isDpo),
        key("reward_margin", &R::rewardMargin, isDpo),
        key("preference_accuracy", &R::preferenceAccuracy, isDpo),
    };
    return keys;
}

const std::vector<Key<EvalRecord>>& evalKeys()
{
    using R = EvalRecord;
    static const std::vector<Key<R>> keys = {
        methodKey<R>(),
        key("step", &R::step),
        key("epoch", &R::epoch),
        key("loss", &R::loss),
        key("perplexity", &R::perplexity),
        key("tokens", &R::tokens),
        key("improved", &R::improved),
        key("best", &R::bestValue),
        key("evals_since_best", &R::evalsSinceBest),
        key("evals_left", &R::evalsLeft),
        key("preference_accuracy", &R::preferenceAccuracy, measuredAccuracy),
        key("reward_margin", &R::rewardMargin, measuredAccuracy),
    };
    return keys;
}

const std::vector<Key<SampleRecord>>& sampleKeys()
{
    using R = SampleRecord;
    static const std::vector<Key<R>> keys = {
        methodKey<R>(),
        key("index", &R::index),
        key("prompt", &R::prompt),
        key("target", &R::target),
        key("base_output", &R::baseOutput),
        key("tuned_output", &R::tunedOutput),
        key("rejected", &R::rejected, hasRejected),
    };
    return keys;
}

const std::vector<Key<RunSummary>>& summaryKeys()
{
    using R = RunSummary;
    static const std::vector<Key<R>> keys = {
        key("run_dir", &R::runDir),
        key("model", &R::model),
        methodKey<R>(),
        key("total_params", &R::totalParams),
        key("trainable_params", &R::trainableParams),
        key("steps", &R::steps),
        key("avg_forward_ms", &R::avgForwardMs),
        key("avg_backward_ms", &R::avgBackwardMs),
        key("avg_optimizer_ms", &R::avgOptimizerMs),
        key("avg_step_ms", &R::avgStepMs),
        key("tokens_per_s", &R::tokensPerSecond),
        key("peak_memory_bytes", &R::peakMemoryBytes),
        key("process_peak_memory_bytes", &R::processPeakMemoryBytes),
        breakdownKey("memory_measured", &R::measured),
        breakdownKey("memory_estimate", &R::estimate),
        key("first_train_loss", &R::firstTrainLoss),
        key("final_train_loss", &R::finalTrainLoss),
        key("final_val_loss", &R::finalValLoss),
        key("best_val_loss", &R::bestValLoss),
        key("best_val_accuracy", &R::bestValAccuracy),
        key("best_step", &R::bestStep),
        key("base_exact_match", &R::baseExactMatch),
        key("tuned_exact_match", &R::tunedExactMatch),
        {"stop_reason", [](const R& r) { return Json(stopReasonName(r.stopReason)); },
         [](R& r, const Json& j) { r.stopReason = parseStopReason(j.get<std::string>()); }},
        key("error", &R::error, hasError),
        key("seconds", &R::seconds),
        key("paused_seconds", &R::pausedSeconds),
    };
    return keys;
}

} // namespace

const char* stopReasonName(StopReason reason)
{
    switch (reason) {
    case StopReason::Completed: return "completed";
    case StopReason::EarlyStopping: return "early_stopping";
    case StopReason::UserStop: return "user_stop";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::NonFiniteLoss: return "non_finite_loss";
    case StopReason::Failed: return "failed";
    case StopReason::NotStarted: return "not_started";
    }
    return "failed";
}

StopReason parseStopReason(const std::string& name)
{
    for (const StopReason r : {StopReason::Completed, StopReason::EarlyStopping, StopReason::UserStop, StopReason::Cancelled,
                               StopReason::NonFiniteLoss, StopReason::Failed, StopReason::NotStarted})
        if (name == stopReasonName(r)) return r;
    return StopReason::Failed;
}

bool finishedNormally(StopReason reason)
{
    return reason == StopReason::Completed || reason == StopReason::EarlyStopping || reason == StopReason::UserStop;
}

std::string toJson(const StepRecord& r) { return write(stepKeys(), r, {{"type", "step"}}).dump(); }
std::string toJson(const EvalRecord& r) { return write(evalKeys(), r, {{"type", "eval"}}).dump(); }
std::string toJson(const SampleRecord& r) { return write(sampleKeys(), r).dump(); }
std::string toJson(const RunSummary& r) { return write(summaryKeys(), r).dump(2); }

StepRecord stepRecordFromJson(const std::string& text) { return read(stepKeys(), parseObject(text)); }
EvalRecord evalRecordFromJson(const std::string& text) { return read(evalKeys(), parseObject(text)); }
SampleRecord sampleRecordFromJson(const std::string& text) { return read(sampleKeys(), parseObject(text)); }
RunSummary runSummaryFromJson(const std::string& text) { return read(summaryKeys(), parseObject(text)); }

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
            out.evals.push_back(read(evalKeys(), j));
        else
            out.steps.push_back(read(stepKeys(), j));
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
