// Experiments as one value: planning a grid, reading and writing
// experiment.json, and the state of each run as its folder shows it; see
// experiment.h.
#include "engine/experiment/experiment.h"

#include "engine/records/run_lock.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/json_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
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

// The step of the last step record in metrics.jsonl, read from the file's
// end so that a long run's metrics are not read whole.
std::int64_t lastRecordedStep(const fs::path& metrics)
{
    std::ifstream in(metrics, std::ios::binary | std::ios::ate);
    if (!in) return 0;
    const std::streamoff size = in.tellg();
    constexpr std::streamoff kTail = 64 * 1024;
    in.seekg(std::max<std::streamoff>(0, size - kTail));
    std::string tail(static_cast<std::size_t>(size - in.tellg()), '\0');
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    std::size_t end = tail.size();
    while (end > 0) {
        const std::size_t start = tail.rfind('\n', end - 1);
        const std::size_t from = start == std::string::npos ? 0 : start + 1;
        try {
            const Json j = Json::parse(tail.substr(from, end - from));
            if (j.is_object() && j.value("type", "step") == "step" && j.contains("step")) return j["step"].get<std::int64_t>();
        } catch (const Json::exception&) {
            // a line cut short by a killed process, or the tail's first partial line
        }
        if (start == std::string::npos) break;
        end = start;
    }
    return 0;
}

// Run directories directly inside `dir` (a comparison group of older versions).
std::vector<fs::path> childRuns(const fs::path& dir)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory() && entry.path().filename() != "checkpoints" && isRunDir(entry.path().string()))
            out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

// What the run's folder says of it: its configuration, summary, state, steps.
void readRunFolder(ExperimentRun& run, const fs::path& dir, bool withMetrics)
{
    run.dir = dir.string();
    const fs::path config = dir / "config.json";
    if (fs::exists(config)) {
        try {
            run.config = loadRunConfig(config.string());
        } catch (const Error&) {
            // An unreadable config keeps the planned one; the run still shows.
        }
    }
    run.summary = readRunSummary(dir.string());
    if (run.summary) {
        run.state = run.summary->state;
        run.stepsDone = run.summary->steps;
    } else {
        run.state = folderLockHolder(dir) ? RunState::Running : RunState::Interrupted;
        run.stepsDone = lastRecordedStep(dir / "metrics.jsonl");
    }
    std::error_code ec;
    run.resumable = fs::is_regular_file(config, ec);
    if (withMetrics) {
        run.records = readRunRecords(dir.string());
    } else {
        // Samples are few and small; the metrics can be long.
        run.records.dir = dir.string();
        std::ifstream in(dir / "samples.jsonl");
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) try {
                    run.records.samples.push_back(sampleRecordFromJson(line));
                } catch (const std::exception&) {
                    ++run.records.unreadableLines;
                }
    }
}

Experiment readExperimentFile(const fs::path& root, bool withMetrics)
{
    const fs::path file = root / kExperimentFile;
    const Json j = parseJsonObject<Json>(readTextFile(file), file.string());
    Experiment out;
    try {
        const RunConfig base = parseRunConfig(j.at("base").dump(), file.string());
        std::vector<SweepAxis> axes;
        for (const auto& a : j.at("axes")) {
            SweepAxis axis{a.at("key").get<std::string>(), {}};
            for (const auto& v : a.at("values")) axis.values.push_back(v.dump());
            axes.push_back(std::move(axis));
        }
        out = planExperiment(base, axes, j.value("name", base.name));
        const Json& runs = j.at("runs");
        if (runs.size() != out.runs.size()) throw fileError(file.string(), "lists other runs than its axes make");
        for (std::size_t i = 0; i < out.runs.size(); ++i) {
            ExperimentRun& run = out.runs[i];
            run.label = runs[i].value("label", run.label);
            const std::string runDir = runs[i].value("dir", "");
            if (!runDir.empty() && fs::is_directory(root / runDir)) readRunFolder(run, root / runDir, withMetrics);
        }
    } catch (const nlohmann::json::exception& e) {
        throw fileError(file.string(), std::string("is not a readable experiment file: ") + e.what());
    }
    return out;
}

} // namespace

std::string runLabel(const AxisValues& values)
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

Experiment planExperiment(const RunConfig& base, const std::vector<SweepAxis>& axes, const std::string& name)
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
    Experiment plan;
    plan.name = name.empty() ? base.name : name;
    plan.base = base;
    plan.axes = axes;
    std::vector<std::size_t> at(axes.size(), 0);
    for (std::size_t n = 0; n < total; ++n) {
        ExperimentRun run;
        run.config = base;
        for (std::size_t a = 0; a < axes.size(); ++a) {
            setRunOption(run.config, axes[a].key, axes[a].values[at[a]]);
            run.values.emplace_back(axes[a].key, runOptionJson(run.config, axes[a].key));
        }
        run.label = axes.empty() ? base.name : runLabel(run.values);
        if (!axes.empty()) run.config.name = run.label;
        plan.runs.push_back(std::move(run));
        // The last axis varies fastest, like nested loops written in axis order.
        for (std::size_t a = axes.size(); a-- > 0;) {
            if (++at[a] < axes[a].values.size()) break;
            at[a] = 0;
        }
    }
    return plan;
}

RunAction continuationOf(const ExperimentRun& run)
{
    if (run.state == RunState::NotStarted) return RunAction::Start;
    // Runs that ended well are done; a non-finite loss would come back; a run
    // another process trains is that process's.
    if (finishedNormally(run.state) || run.state == RunState::NonFiniteLoss || run.state == RunState::Running)
        return RunAction::Keep;
    return run.resumable ? RunAction::Resume : RunAction::Start;
}

bool canContinue(const Experiment& experiment)
{
    return std::any_of(experiment.runs.begin(), experiment.runs.end(),
                       [](const ExperimentRun& r) { return continuationOf(r) != RunAction::Keep; });
}

bool isRunDir(const std::string& dir)
{
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / "config.json", ec) || fs::is_regular_file(fs::path(dir) / "metrics.jsonl", ec);
}

bool isExperimentDir(const std::string& dir)
{
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / kExperimentFile, ec) || (!isRunDir(dir) && !childRuns(dir).empty());
}

Experiment readExperiment(const std::string& dir, bool withMetrics)
{
    const fs::path root = dir;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw fileError(dir, "folder not found");
    Experiment out;
    if (fs::exists(root / kExperimentFile)) {
        out = readExperimentFile(root, withMetrics);
    } else if (isRunDir(dir)) { // a run on its own
        ExperimentRun run;
        readRunFolder(run, root, withMetrics);
        run.label = run.config.name;
        out.name = run.config.name;
        out.base = run.config;
        out.runs.push_back(std::move(run));
    } else { // comparisons of older versions: LoRA first, then full
        for (const auto& child : childRuns(root)) {
            ExperimentRun run;
            readRunFolder(run, child, withMetrics);
            run.label = choiceName(run.config.method);
            run.values = {{"method", Json(run.label).dump()}};
            out.runs.push_back(std::move(run));
        }
        if (out.runs.empty()) throw fileError(dir, "is neither a run nor an experiment folder (no config.json or experiment.json)");
        std::stable_sort(out.runs.begin(), out.runs.end(),
                         [](const ExperimentRun& a, const ExperimentRun& b) { return a.label == "lora" && b.label != "lora"; });
        out.base = out.runs.front().config;
        out.axes.push_back({"method", {}});
        for (const auto& r : out.runs) out.axes.back().values.push_back(r.values.front().second);
        out.name = root.filename().string();
    }
    out.dir = dir;
    for (auto& run : out.runs) run.next = continuationOf(run);
    return out;
}

void writeExperimentFile(const Experiment& e)
{
    Json axes = Json::array();
    for (const auto& a : e.axes) {
        Json values = Json::array();
        for (const auto& v : a.values) values.push_back(Json::parse(v));
        axes.push_back({{"key", a.key}, {"values", values}});
    }
    Json runs = Json::array();
    for (const auto& run : e.runs) {
        Json values = Json::object();
        for (const auto& [k, v] : run.values) values[k] = Json::parse(v);
        runs.push_back({{"label", run.label}, {"values", values}, {"dir", run.dir.empty() ? "" : fs::path(run.dir).filename().string()}});
    }
    const Json j = {{"name", e.name}, {"axes", axes}, {"base", Json::parse(runConfigToJson(e.base))}, {"runs", runs}};
    writeFileAtomic(fs::path(e.dir) / kExperimentFile, j.dump(2) + "\n");
}

std::string outcomeText(const ExperimentRun& run)
{
    const std::string steps = std::to_string(run.stepsDone) + (run.stepsDone == 1 ? " step" : " steps");
    switch (run.state) {
    case RunState::NotStarted: return "not started";
    case RunState::Running: return "running, " + steps + " so far";
    case RunState::Interrupted: return "interrupted after " + steps;
    case RunState::Cancelled: return "cancelled after " + steps;
    case RunState::EarlyStopping: return "stopped early";
    case RunState::UserStop: return "stopped, kept best";
    case RunState::NonFiniteLoss: return "loss not finite";
    case RunState::Failed: return "failed: " + (run.summary ? run.summary->error : std::string("(no message)"));
    case RunState::Completed: break;
    }
    return "completed";
}

std::vector<std::string> varyingOptions(const Experiment& experiment)
{
    std::vector<std::string> keys;
    if (experiment.runs.size() < 2) return keys;
    for (const RunOptionDoc& doc : runOptionDocs()) {
        if (doc.key == "name" || doc.key == "runs_dir") continue;
        const std::string first = runOptionJson(experiment.runs.front().config, doc.key);
        for (const auto& r : experiment.runs)
            if (runOptionJson(r.config, doc.key) != first) {
                keys.push_back(doc.key);
                break;
            }
    }
    return keys;
}

Experiment overlayExperiments(const std::vector<Experiment>& parts)
{
    Experiment out;
    out.name = "overlay";
    std::set<std::string> labels;
    for (const auto& part : parts)
        for (const auto& run : part.runs) {
            if (run.state == RunState::NotStarted) continue;
            ExperimentRun r = run;
            if (!labels.insert(r.label).second) r.label = fs::path(r.dir).filename().string();
            labels.insert(r.label);
            out.runs.push_back(std::move(r));
        }
    if (!out.runs.empty()) out.base = out.runs.front().config;
    return out;
}

} // namespace loralab
