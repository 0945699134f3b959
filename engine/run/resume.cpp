// Resuming runs; see resume.h.
#include "engine/run/resume.h"

#include "engine/train/trainer.h"
#include "engine/util/error.h"

#include <filesystem>

namespace loralab {

namespace {

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// A run continued further keeps its new length in config.json.
void writeRunConfigIfGrown(const RunDirectory& dir, const RunConfig& config, std::int64_t totalSteps, RunSink& sink)
{
    const RunConfig stored = loadRunConfig((dir.path() / "config.json").string());
    if (stored.maxSteps != config.maxSteps || stored.epochs != config.epochs) {
        dir.writeConfig(runConfigToJson(config));
        sink.event("continued to " + std::to_string(totalSteps) + " steps");
    }
}

} // namespace

RunConfig resumedConfig(const RunConfig& requested, const std::string& resumeDir)
{
    // What may change from one session of a run to the next.
    const auto takeSessionSettings = [](RunConfig& to, const RunConfig& from) {
        to.threads = from.threads;
        to.device = from.device;
        to.maxSteps = from.maxSteps;
        to.epochs = from.epochs;
        to.processes = from.processes;
        to.distTimeout = from.distTimeout;
    };
    const std::string path = (std::filesystem::path(resumeDir) / "config.json").string();
    RunConfig stored = loadRunConfig(path);
    RunConfig comparable = requested;
    takeSessionSettings(comparable, stored);
    if (const auto keys = differingRunOptions(stored, comparable); !keys.empty())
        throw fileError(path, "a resumed run keeps its configuration, but the request changes " + joined(keys) +
                                  "; only max_steps, epochs, threads, device, processes and dist_timeout may change "
                                  "(start a new run for the rest)");
    takeSessionSettings(stored, requested);
    return stored;
}

bool resumeFromLast(RunSink& sink, Trainer& trainer, RunProgress& progress, const RunConfig& config, std::int64_t totalSteps)
{
    const RunDirectory& dir = *sink.directory();
    const auto last = sink.checkpoints()->resolve("last");
    if (!last) {
        dir.truncateMetricsAfter(-1);
        sink.event("no checkpoint was written before the run stopped; it starts again from step 0");
        writeRunConfigIfGrown(dir, config, totalSteps, sink);
        return false;
    }
    const nlohmann::json extra = trainer.loadCheckpoint(*last);
    const std::optional<RunSummary> before = readRunSummary(dir.path().string());
    // A finished run stays as it is unless it is given more steps to take;
    // one stopped after its last step but before its summary finishes now.
    const bool trainedAll = trainer.stepCount() >= totalSteps;
    if (trainedAll && before)
        throw Error(dir.path().string() + ": the run already took its " + std::to_string(trainer.stepCount()) + " steps (max_steps " +
                    std::to_string(totalSteps) + "); continue it with a larger max_steps (loralab-cli run --resume DIR --max-steps N)");
    // An early-stopped run that is continued gets its patience afresh; it
    // would otherwise stop again at its first evaluation.
    const bool restartPatience = config.earlyStopping && extra.at("early_stopping").at("since_best").get<std::int64_t>() >= config.patience;
    progress.restore(extra, restartPatience, trainer.stepCount());
    if (before) progress.priorSeconds = before->seconds;
    dir.truncateMetricsAfter(progress.lastSaved);
    // What the earlier sessions recorded counts on: step totals, the last
    // validation results, and the wall time of a session killed before its summary.
    const RunRecords kept = readRunRecords(dir.path().string());
    for (const auto& r : kept.steps) progress.totals.add(r);
    for (const auto& e : kept.evals) {
        progress.lastValLoss = e.loss;
        if (e.preferenceAccuracy >= 0) progress.bestAccuracy = std::max(progress.bestAccuracy.value_or(0.0), e.preferenceAccuracy);
        if (!progress.bestValLoss && e.step == progress.bestStep && e.improved) progress.bestValLoss = e.loss;
    }
    if (!before && !kept.steps.empty()) progress.priorSeconds = kept.steps.back().elapsedSeconds;
    sink.event("resumed from " + last->filename().string() + " at step " + std::to_string(progress.lastSaved));
    if (trainedAll) sink.event("every step was trained before the run stopped; it finishes now (evaluation, samples, summary)");
    if (restartPatience) sink.event("early stopping's patience starts again (" + std::to_string(config.patience) + " evaluations)");
    writeRunConfigIfGrown(dir, config, totalSteps, sink);
    return true;
}

} // namespace loralab
