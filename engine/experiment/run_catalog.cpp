// The runs catalog; see run_catalog.h.
#include "engine/experiment/run_catalog.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace loralab {
namespace fs = std::filesystem;

namespace {

using Json = nlohmann::ordered_json;
const char* const kNotesFile = "notes.json";

std::string envOr(const char* name, const std::string& fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::int64_t modifiedTime(const fs::path& dir)
{
    std::error_code ec;
    const auto t = fs::last_write_time(dir, ec);
    if (ec) return 0;
    // file_time_type's clock is not the system clock in C++17: convert through now().
    const auto system = std::chrono::system_clock::now() + (t - fs::file_time_type::clock::now());
    return std::chrono::duration_cast<std::chrono::seconds>(system.time_since_epoch()).count();
}

Json optionalJson(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

} // namespace

std::string defaultRunsDir()
{
    const std::string explicitDir = envOr("LORALAB_RUNS_DIR", "");
    if (!explicitDir.empty()) return explicitDir;
    const std::string home = envOr("HOME", ".");
    const std::string data = envOr("XDG_DATA_HOME", home + "/.local/share");
    return (fs::path(data) / "loralab" / "runs").string();
}

std::string runsDirOf(const RunConfig& config) { return config.runsDir.empty() ? defaultRunsDir() : config.runsDir; }

std::vector<std::string> legacyRunsDirs()
{
    const std::string home = envOr("HOME", ".");
    const std::string data = envOr("XDG_DATA_HOME", home + "/.local/share");
    return {(fs::path(data) / "LoRA Lab" / "LoRA Lab" / "runs").string(), (fs::current_path() / "runs").string()};
}

RunNotes readNotes(const std::string& dir)
{
    RunNotes n;
    const fs::path path = fs::path(dir) / kNotesFile;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return n;
    try {
        const auto j = nlohmann::json::parse(readTextFile(path));
        n.title = j.value("title", "");
        n.notes = j.value("notes", "");
    } catch (const std::exception&) {
        // Unreadable notes read as none; the next save replaces them.
    }
    return n;
}

void writeNotes(const std::string& dir, const RunNotes& notes)
{
    const nlohmann::json j = {{"title", notes.title}, {"notes", notes.notes}};
    try {
        writeFileAtomic(fs::path(dir) / kNotesFile, j.dump(2) + "\n");
    } catch (const std::exception& e) {
        throw fileError((fs::path(dir) / kNotesFile).string(), std::string("cannot save the notes: ") + e.what());
    }
}

void applyTitles(Experiment& experiment)
{
    for (ExperimentRun& run : experiment.runs) {
        if (run.dir.empty()) continue;
        const std::string title = readNotes(run.dir).title;
        if (!title.empty()) run.label = title;
    }
    if (!experiment.lone()) {
        const std::string title = readNotes(experiment.dir).title;
        if (!title.empty()) experiment.name = title;
    }
}

CatalogEntry catalogEntry(const std::string& dir)
{
    CatalogEntry e;
    e.dir = dir;
    e.folder = fs::path(dir).filename().string();
    e.notes = readNotes(dir);
    e.modified = modifiedTime(dir);
    e.contents = readExperiment(dir);
    e.experiment = isExperimentDir(dir);
    e.continuable = canContinue(e.contents);
    return e;
}

std::vector<CatalogEntry> listRuns(const std::string& runsDir, std::vector<std::string>* problems)
{
    std::vector<CatalogEntry> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(runsDir, ec)) {
        std::error_code kind;
        if (!entry.is_directory(kind)) continue;
        const std::string dir = entry.path().string();
        if (!isRunDir(dir) && !isExperimentDir(dir)) continue;
        try {
            out.push_back(catalogEntry(dir));
        } catch (const std::exception& e) {
            if (problems) problems->push_back(e.what());
        }
    }
    std::sort(out.begin(), out.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
        return a.modified != b.modified ? a.modified > b.modified : a.folder > b.folder;
    });
    return out;
}

std::string entryOutcomeText(const CatalogEntry& entry)
{
    if (!entry.experiment && !entry.contents.runs.empty()) return outcomeText(entry.contents.runs.front());
    const auto finished = std::count_if(entry.contents.runs.begin(), entry.contents.runs.end(),
                                        [](const ExperimentRun& r) { return finishedNormally(r.state); });
    return std::to_string(finished) + " of " + std::to_string(entry.contents.runs.size()) + " runs finished";
}

std::string catalogJson(const std::vector<CatalogEntry>& entries)
{
    Json all = Json::array();
    for (const auto& e : entries) {
        Json runs = Json::array();
        for (const auto& r : e.contents.runs)
            runs.push_back({{"label", r.label},
                            {"dir", r.dir},
                            {"state", choiceName(r.state)},
                            {"outcome", outcomeText(r)},
                            {"method", choiceName(r.config.method)},
                            {"objective", choiceName(r.config.objective)},
                            {"steps", r.stepsDone},
                            {"best_val_loss", r.summary ? optionalJson(r.summary->bestValLoss) : Json(nullptr)},
                            {"can_continue", continuationOf(r) != RunAction::Keep}});
        all.push_back({{"dir", e.dir},
                       {"name", e.shownName()},
                       {"kind", e.experiment ? "experiment" : "run"},
                       {"outcome", entryOutcomeText(e)},
                       {"can_continue", e.continuable},
                       {"runs", runs}});
    }
    return all.dump(2);
}

} // namespace loralab
