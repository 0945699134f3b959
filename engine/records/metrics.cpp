// Metrics as JSON; see metrics.h. Each record type has one table of keys that
// both writes and reads it, so a key is spelled once; a key missing from a
// file (written by an older version) leaves the field at its default.
#include "engine/records/metrics.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cctype>
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

// Files before the method had its own key called it "run"; files before the
// objective had its own key said "method": "dpo" for preference training of
// adapters.
template <typename R>
Key<R> methodKey()
{
    return {"method", [](const R& r) { return Json(choiceName(r.method)); },
            [](R& r, const Json& j) {
                if (j == "dpo") {
                    r.objective = Objective::Dpo;
                    r.method = Method::Lora;
                } else {
                    r.method = parseChoice<Method>(j.get<std::string>());
                }
            }};
}

template <typename R>
Key<R> objectiveKey()
{
    return {"objective", [](const R& r) { return Json(choiceName(r.objective)); },
            [](R& r, const Json& j) { r.objective = parseChoice<Objective>(j.get<std::string>()); }};
}

// A value that may be absent: null in the file. Files of older versions wrote
// -1 for "absent", which reads as absent too (none of these is negative).
template <typename R>
Key<R> optionalKey(const char* name, std::optional<double> R::*member)
{
    return {name, [member](const R& r) { return r.*member ? Json(*(r.*member)) : Json(nullptr); },
            [member](R& r, const Json& j) {
                const double v = j.get<double>();
                r.*member = v < 0 ? std::nullopt : std::optional<double>(v);
            }};
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

bool isDpo(const StepRecord& r) { return r.objective == Objective::Dpo; }
bool isDistributed(const StepRecord& r) { return r.worldSize > 1; }
bool measuredAccuracy(const EvalRecord& r) { return r.preferenceAccuracy >= 0; }
bool hasRejected(const SampleRecord& r) { return !r.rejected.empty(); }
bool hasError(const RunSummary& r) { return !r.error.empty(); }

const std::vector<Key<StepRecord>>& stepKeys()
{
    using R = StepRecord;
    static const std::vector<Key<R>> keys = {
        objectiveKey<R>(),
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
        key("useful_tokens", &R::usefulTokens),
        key("useful_tokens_per_s", &R::usefulTokensPerSecond),
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
        objectiveKey<R>(),
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
        objectiveKey<R>(),
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
        objectiveKey<R>(),
        methodKey<R>(),
        key("total_params", &R::totalParams),
        key("trainable_params", &R::trainableParams),
        key("steps", &R::steps),
        key("avg_forward_ms", &R::avgForwardMs),
        key("avg_backward_ms", &R::avgBackwardMs),
        key("avg_optimizer_ms", &R::avgOptimizerMs),
        key("avg_step_ms", &R::avgStepMs),
        key("tokens_per_s", &R::tokensPerSecond),
        key("useful_tokens_per_s", &R::usefulTokensPerSecond),
        key("peak_memory_bytes", &R::peakMemoryBytes),
        key("process_peak_memory_bytes", &R::processPeakMemoryBytes),
        breakdownKey("memory_measured", &R::measured),
        breakdownKey("memory_estimate", &R::estimate),
        key("first_train_loss", &R::firstTrainLoss),
        key("final_train_loss", &R::finalTrainLoss),
        optionalKey("final_val_loss", &R::finalValLoss),
        optionalKey("best_val_loss", &R::bestValLoss),
        optionalKey("best_val_accuracy", &R::bestValAccuracy),
        key("best_step", &R::bestStep),
        optionalKey("base_exact_match", &R::baseExactMatch),
        optionalKey("tuned_exact_match", &R::tunedExactMatch),
        // A name this version does not know reads as failed.
        {"stop_reason", [](const R& r) { return Json(choiceName(r.state)); },
         [](R& r, const Json& j) {
             if (!tryParseChoice(j.get<std::string>(), r.state)) r.state = RunState::Failed;
         }},
        key("error", &R::error, hasError),
        key("seconds", &R::seconds),
        key("paused_seconds", &R::pausedSeconds),
    };
    return keys;
}

} // namespace

std::string runKindText(Objective objective, Method method)
{
    if (objective == Objective::Dpo) return method == Method::Lora ? "dpo" : "dpo full";
    return choiceName(method);
}

bool finishedNormally(RunState state)
{
    return state == RunState::Completed || state == RunState::EarlyStopping || state == RunState::UserStop;
}

bool hasEnded(RunState state)
{
    return state != RunState::NotStarted && state != RunState::Running && state != RunState::Interrupted;
}

std::string toJson(const MemoryBreakdown& m) { return breakdownJson(m).dump(); }

std::string toJson(const StepRecord& r) { return write(stepKeys(), r, {{"type", "step"}}).dump(); }
std::string toJson(const EvalRecord& r) { return write(evalKeys(), r, {{"type", "eval"}}).dump(); }
std::string toJson(const SampleRecord& r) { return write(sampleKeys(), r).dump(); }
std::string toJson(const RunSummary& r) { return write(summaryKeys(), r).dump(2); }

StepRecord stepRecordFromJson(const std::string& text) { return read(stepKeys(), parseObject(text)); }
EvalRecord evalRecordFromJson(const std::string& text) { return read(evalKeys(), parseObject(text)); }
SampleRecord sampleRecordFromJson(const std::string& text) { return read(sampleKeys(), parseObject(text)); }
RunSummary runSummaryFromJson(const std::string& text) { return read(summaryKeys(), parseObject(text)); }

RunRecords readRunRecords(const std::string& dir)
{
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir)) throw fileError(dir, "run directory not found");
    RunRecords out;
    out.dir = dir;
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
    return out;
}

std::optional<RunSummary> readRunSummary(const std::string& dir)
{
    const auto file = std::filesystem::path(dir) / "summary.json";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
    try {
        return runSummaryFromJson(readTextFile(file));
    } catch (const std::exception&) {
        return std::nullopt; // cut short or edited: the run reads as one without a summary
    }
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

std::optional<double> exactMatchRate(const std::vector<SampleRecord>& samples, bool tuned)
{
    if (samples.empty()) return std::nullopt;
    std::size_t hits = 0;
    for (const auto& s : samples) hits += answersMatch(tuned ? s.tunedOutput : s.baseOutput, s.target);
    return static_cast<double>(hits) / static_cast<double>(samples.size());
}

} // namespace loralab
