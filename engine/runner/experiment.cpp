// Experiments of N runs; see experiment.h. A plan is made (and every run's
// configuration checked) before anything is written; experiment.json is
// rewritten as each run gets its directory, so a killed experiment still
// says which runs it began.
#include "engine/runner/experiment.h"

#include "engine/runner/run_directory.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/json_file.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace loralab {
namespace fs = std::filesystem;

namespace {

using Json = nlohmann::ordered_json;

const char* const kExperimentFile = "experiment.json";

std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Splits at commas outside brackets, braces and double quotes.
std::vector<std::string> splitTopLevel(const std::string& text)
{
    std::vector<std::string> out;
    std::string current;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '\\' && i + 1 < text.size()) current += text[i++];
            else if (c == '"') quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (c == ',' && depth == 0) {
            out.push_back(trim(current));
            current.clear();
            continue;
        }
        current += c;
    }
    out.push_back(trim(current));
    return out;
}

// A value as people read it: strings without quotes, lists joined by '+'.
std::string displayValue(const std::string& json)
{
    try {
        const Json j = Json::parse(json);
        if (j.is_string()) return j.get<std::string>();
        if (j.is_array()) {
            std::string out;
            for (const auto& item : j) out += (out.empty() ? "" : "+") + (item.is_string() ? item.get<std::string>() : item.dump());
            return out;
        }
    } catch (const Json::exception&) {
    }
    return json;
}

Json experimentJson(const ExperimentPlan& plan, const std::vector<std::string>& runDirs)
{
    Json axes = Json::array();
    for (const auto& a : plan.axes) {
        Json values = Json::array();
        for (const auto& v : a.values) values.push_back(Json::parse(v));
        axes.push_back({{"key", a.key}, {"values", values}});
    }
    Json runs = Json::array();
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        Json values = Json::object();
        for (const auto& [k, v] : plan.runs[i].values) values[k] = Json::parse(v);
        runs.push_back({{"label", plan.runs[i].label}, {"values", values}, {"dir", runDirs[i]}});
    }
    return {{"name", plan.name}, {"axes", axes}, {"base", Json::parse(runConfigToJson(plan.base))}, {"runs", runs}};
}

std::vector<std::pair<std::string, std::string>> valuesFrom(const Json& j)
{
    std::vector<std::pair<std::string, std::string>> out;
    if (j.is_object())
        for (auto it = j.begin(); it != j.end(); ++it) out.emplace_back(it.key(), it.value().dump());
    return out;
}

bool isRunDir(const fs::path& dir)
{
    return fs::exists(dir / "config.json") || fs::exists(dir / "metrics.jsonl");
}

// Run directories directly inside `dir` (a comparison group of older versions).
std::vector<fs::path> childRuns(const fs::path& dir)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory() && entry.path().filename() != "checkpoints" && isRunDir(entry.path())) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

std::string runLabel(const std::vector<std::pair<std::string, std::string>>& values)
{
    std::string out;
    for (const auto& [key, value] : values)
        out += (out.empty() ? "" : ", ") + (key == "method" ? displayValue(value) : key + "=" + displayValue(value));
    return out;
}

SweepAxis parseSweepAxis(const std::string& text)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error("a sweep axis is KEY=VALUE,VALUE,... (like lora_r=4,8,16), not \"" + text + "\"");
    SweepAxis axis;
    axis.key = trim(text.substr(0, eq));
    if (!isRunOption(axis.key)) throw Error("unknown option \"" + axis.key + "\" in the sweep (see loralab-cli run --help)");
    for (const auto& v : splitTopLevel(text.substr(eq + 1))) {
        if (v.empty()) throw Error("the sweep axis " + axis.key + " has an empty value in \"" + text + "\"");
        RunConfig probe;
        setRunOption(probe, axis.key, v);
        axis.values.push_back(runOptionJson(probe, axis.key));
    }
    return axis;
}

ExperimentPlan planSweep(const RunConfig& base, const std::vector<SweepAxis>& axes)
{
    std::set<std::string> seen;
    std::size_t total = 1;
    for (const auto& a : axes) {
        if (!isRunOption(a.key)) throw Error("unknown option \"" + a.key + "\" in the sweep (see loralab-cli run --help)");
        if (a.key == "name" || a.key == "runs_dir")
            throw Error("the sweep cannot vary " + a.key + ": every run of an experiment goes in its folder");
        if (!seen.insert(a.key).second) throw Error("the sweep names " + a.key + " twice; give all its values in one axis");
        if (a.values.empty()) throw Error("the sweep axis " + a.key + " has no values");
        total *= a.values.size();
        if (total > kMaxSweepRuns)
            throw Error("the sweep has more than " + std::to_string(kMaxSweepRuns) + " runs; use fewer values");
    }
    ExperimentPlan plan;
    plan.name = base.name;
    plan.base = base;
    plan.axes = axes;
    std::vector<std::size_t> at(axes.size(), 0);
    for (std::size_t n = 0; n < total; ++n) {
        PlannedRun run;
        run.config = base;
        for (std::size_t a = 0; a < axes.size(); ++a) {
            setRunOption(run.config, axes[a].key, axes[a].values[at[a]]);
            run.values.emplace_back(axes[a].key, runOptionJson(run.config, axes[a].key));
        }
        run.label = runLabel(run.values);
        if (!run.label.empty()) run.config.name = run.label;
        plan.runs.push_back(std::move(run));
        // The last axis varies fastest, like nested loops written in axis order.
        for (std::size_t a = axes.size(); a-- > 0;) {
            if (++at[a] < axes[a].values.size()) break;
            at[a] = 0;
        }
    }
    return plan;
}

ExperimentPlan planComparison(const RunConfig& base)
{
    if (base.method == RunMethod::Dpo) throw Error("compare runs LoRA against full fine-tuning; method dpo cannot be compared");
    ExperimentPlan plan = planSweep(base, {{"method", {"\"lora\"", "\"full\""}}});
    plan.name = base.name + "-compare";
    return plan;
}

ExperimentPlan planRun(const RunConfig& config, const std::string& resumeDir)
{
    ExperimentPlan plan;
    plan.name = config.name;
    plan.base = config;
    PlannedRun run;
    run.config = config;
    run.resumeDir = resumeDir;
    plan.runs.push_back(std::move(run));
    return plan;
}

ExperimentPlan planContinuation(const std::string& experimentDir)
{
    const fs::path dir = experimentDir;
    const fs::path file = dir / kExperimentFile;
    if (!fs::exists(file)) throw fileError(experimentDir, "is not an experiment folder (no experiment.json)");
    const Json j = parseJsonObject<Json>(readTextFile(file), file.string());
    ExperimentPlan plan;
    try {
        plan.base = parseRunConfig(j.at("base").dump(), file.string());
        plan.name = j.value("name", plan.base.name);
        for (const auto& a : j.at("axes")) {
            SweepAxis axis{a.at("key").get<std::string>(), {}};
            for (const auto& v : a.at("values")) axis.values.push_back(v.dump());
            plan.axes.push_back(std::move(axis));
        }
        ExperimentPlan fresh = planSweep(plan.base, plan.axes);
        const Json& runs = j.at("runs");
        if (runs.size() != fresh.runs.size()) throw fileError(file.string(), "lists other runs than its axes make");
        for (std::size_t i = 0; i < fresh.runs.size(); ++i) {
            PlannedRun run = std::move(fresh.runs[i]);
            const std::string runDir = runs[i].value("dir", "");
            if (!runDir.empty() && isRunDir(dir / runDir)) {
                const fs::path path = dir / runDir;
                const fs::path summary = path / "summary.json";
                StopReason reason = StopReason::Cancelled;
                if (fs::exists(summary)) reason = runSummaryFromJson(readTextFile(summary)).stopReason;
                // Finished runs stay as they are; continuing them needs more steps, which is another experiment.
                if (finishedNormally(reason) || reason == StopReason::NonFiniteLoss)
                    run.doneDir = path.string();
                else if (fs::exists(path / "checkpoints" / "last"))
                    run.resumeDir = path.string();
            }
            plan.runs.push_back(std::move(run));
        }
    } catch (const nlohmann::json::exception& e) {
        throw fileError(file.string(), std::string("is not a readable experiment file: ") + e.what());
    }
    plan.base.runsDir = dir.parent_path().string();
    plan.dir = experimentDir;
    return plan;
}

bool isExperimentDir(const std::string& dir)
{
    return fs::exists(fs::path(dir) / kExperimentFile) || (!isRunDir(dir) && !childRuns(dir).empty());
}

ExperimentRecords readExperiment(const std::string& dir)
{
    const fs::path root = dir;
    if (!fs::is_directory(root)) throw fileError(dir, "folder not found");
    ExperimentRecords out;
    out.dir = dir;
    out.name = root.filename().string();
    const fs::path file = root / kExperimentFile;
    if (fs::exists(file)) {
        const Json j = parseJsonObject<Json>(readTextFile(file), file.string());
        out.name = j.value("name", out.name);
        if (j.contains("base")) out.baseConfigJson = j["base"].dump(2);
        for (const auto& a : j.value("axes", Json::array())) {
            SweepAxis axis{a.value("key", ""), {}};
            for (const auto& v : a.value("values", Json::array())) axis.values.push_back(v.dump());
            out.axes.push_back(std::move(axis));
        }
        for (const auto& r : j.value("runs", Json::array())) {
            ExperimentRun run;
            run.label = r.value("label", "");
            run.values = valuesFrom(r.value("values", Json::object()));
            const std::string runDir = r.value("dir", "");
            run.started = !runDir.empty() && fs::is_directory(root / runDir);
            if (run.started) {
                run.records = readRunDirectory((root / runDir).string());
            } else {
                run.records.summary.stopReason = StopReason::NotStarted;
            }
            out.runs.push_back(std::move(run));
        }
        return out;
    }
    std::vector<fs::path> children = childRuns(root);
    if (children.empty()) children.push_back(root); // a run directory on its own
    for (const auto& child : children) {
        ExperimentRun run;
        run.started = true;
        run.records = readRunDirectory(child.string());
        try {
            const RunConfig c = parseRunConfig(run.records.configJson, (child / "config.json").string());
            run.label = children.size() > 1 ? runMethodName(c.method) : c.name;
            run.values = {{"method", Json(runMethodName(c.method)).dump()}};
        } catch (const Error&) {
            run.label = child.filename().string();
        }
        out.runs.push_back(std::move(run));
    }
    // Comparisons of older versions: LoRA first, then full.
    if (children.size() > 1) {
        std::stable_sort(out.runs.begin(), out.runs.end(),
                         [](const ExperimentRun& a, const ExperimentRun& b) { return a.label == "lora" && b.label != "lora"; });
        out.axes.push_back({"method", {}});
    }
    return out;
}

ExperimentResult runPlan(const ExperimentPlan& plan, RunControl& control, const ExperimentCallbacks& callbacks)
{
    const auto callbacksFor = [&](std::size_t i) { return callbacks.forRun ? callbacks.forRun(i) : RunCallbacks{}; };
    ExperimentResult result;
    for (const auto& r : plan.runs) result.labels.push_back(r.label);
    if (plan.single()) {
        const PlannedRun& run = plan.runs.front();
        const RunCallbacks runCallbacks = callbacksFor(0);
        result.runs.push_back(runExperiment(run.config, control, runCallbacks, run.resumeDir));
        result.dir = result.runs.front().summary.runDir;
        if (callbacks.onRunFinished) callbacks.onRunFinished(0, result.runs.front());
        return result;
    }
    // Every run's configuration is checked before the folder is made.
    for (const auto& run : plan.runs) {
        const auto problems = validateRunConfig(run.config);
        if (problems.empty()) continue;
        std::string text = "run \"" + run.label + "\" of the experiment has problems:";
        for (const auto& p : problems) text += "\n  " + p;
        throw Error(text);
    }
    const fs::path dir = plan.dir.empty() ? claimDirectory(plan.base.runsDir, plan.name) : fs::path(plan.dir);
    result.dir = dir.string();
    std::vector<std::string> runDirs(plan.runs.size());
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const std::string& existing = !plan.runs[i].doneDir.empty() ? plan.runs[i].doneDir : plan.runs[i].resumeDir;
        if (!existing.empty()) runDirs[i] = fs::path(existing).filename().string();
    }
    const auto record = [&] { writeFileAtomic(dir / kExperimentFile, experimentJson(plan, runDirs).dump(2) + "\n"); };
    record();
    if (callbacks.onExperimentDir) callbacks.onExperimentDir(result.dir);

    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const PlannedRun& planned = plan.runs[i];
        RunResult r;
        r.summary.method = planned.config.method;
        r.summary.model = planned.config.model;
        if (!planned.doneDir.empty()) {
            const RunRecords done = readRunDirectory(planned.doneDir);
            r.summary = done.summary;
            r.samples = done.samples;
        } else if (control.cancel.load()) {
            r.summary.stopReason = StopReason::NotStarted;
        } else {
            control.stopKeepBest.store(false); // "stop, keep best" ends one run, not the experiment
            RunConfig config = planned.config;
            config.runsDir = dir.string();
            RunCallbacks runCallbacks = callbacksFor(i);
            const auto onRunDir = runCallbacks.onRunDir;
            runCallbacks.onRunDir = [&, i, onRunDir](const std::string& runDir) {
                runDirs[i] = fs::path(runDir).filename().string();
                record();
                if (onRunDir) onRunDir(runDir);
            };
            try {
                r = runExperiment(config, control, runCallbacks, planned.resumeDir);
            } catch (const std::exception& e) {
                r.summary.stopReason = StopReason::Failed;
                r.summary.error = e.what();
                if (!runDirs[i].empty()) {
                    // The run began: its folder says how it ended, as a finished one does.
                    r.summary.runDir = (dir / runDirs[i]).string();
                    if (!fs::exists(dir / runDirs[i] / "summary.json"))
                        writeFileAtomic(dir / runDirs[i] / "summary.json", toJson(r.summary) + "\n");
                }
                if (runCallbacks.onEvent) runCallbacks.onEvent("run \"" + planned.label + "\" failed: " + e.what());
            }
        }
        if (callbacks.onRunFinished) callbacks.onRunFinished(i, r);
        result.runs.push_back(std::move(r));
    }
    return result;
}

} // namespace loralab
