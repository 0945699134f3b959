// Run directories; see run_directory.h.
#include "engine/records/run_directory.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sys/stat.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace loralab {
namespace fs = std::filesystem;

namespace {

std::string timestamp(const char* format)
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &local);
    return buf;
}

// Runs of one name started within the same second: -2, -3, ... up to this.
constexpr int kMaxSameName = 100000;

std::string safeName(const std::string& name)
{
    std::string out;
    for (const char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-');
    return out.empty() ? "run" : out;
}

} // namespace

fs::path claimDirectory(const fs::path& parent, const std::string& name)
{
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) throw fileError(parent.string(), "cannot create the runs folder (runs_dir): " + ec.message());
    const std::string base = timestamp("%Y%m%d-%H%M%S") + "-" + safeName(name);
    // mkdir either creates the directory or fails because it exists, in one
    // step: two runs of the same name started in the same second (two
    // processes, or an experiment's runs) each get a directory of their own,
    // where checking exists() first let both pick the same one.
    for (int i = 1;; ++i) {
        const fs::path dir = parent / (i == 1 ? base : base + "-" + std::to_string(i));
        if (::mkdir(dir.c_str(), 0755) == 0) return dir;
        if (errno != EEXIST || i >= kMaxSameName)
            throw fileError(dir.string(), "cannot create the run directory: " +
                                              (errno == EEXIST ? std::string("too many runs of this name this second")
                                                               : std::string(std::strerror(errno))));
    }
}

RunDirectory RunDirectory::create(const fs::path& runsDir, const std::string& name)
{
    const fs::path dir = claimDirectory(runsDir, name);
    std::error_code ec;
    fs::create_directory(dir / "checkpoints", ec);
    if (ec) throw fileError((dir / "checkpoints").string(), "cannot create the checkpoints folder: " + ec.message());
    return RunDirectory(dir);
}

RunDirectory RunDirectory::open(const fs::path& dir)
{
    if (!fs::exists(dir / "config.json")) throw fileError(dir.string(), "is not a run directory (no config.json)");
    return RunDirectory(dir);
}

void RunDirectory::writeConfig(const std::string& json) const { writeFileAtomic(m_dir / "config.json", json); }

void RunDirectory::appendMetric(const std::string& jsonLine) const { appendLine(m_dir / "metrics.jsonl", jsonLine); }

void RunDirectory::writeSamples(const std::vector<std::string>& jsonLines) const
{
    std::string text;
    for (const auto& l : jsonLines) text += l + "\n";
    writeFileAtomic(m_dir / "samples.jsonl", text);
}

void RunDirectory::writeSummary(const std::string& json) const { writeFileAtomic(m_dir / "summary.json", json + "\n"); }

void RunDirectory::logEvent(const std::string& message) const
{
    appendLine(m_dir / "events.log", timestamp("%Y-%m-%d %H:%M:%S") + "  " + message);
}

void RunDirectory::truncateMetricsAfter(std::int64_t step) const
{
    const fs::path file = m_dir / "metrics.jsonl";
    if (!fs::exists(file)) return;
    std::ifstream in(file);
    std::string line;
    std::string kept;
    while (std::getline(in, line)) {
        try {
            const auto j = nlohmann::json::parse(line);
            if (j.value("step", std::int64_t{0}) > step) continue;
        } catch (const nlohmann::json::exception&) {
            continue; // a line cut short when the process was killed
        }
        kept += line + "\n";
    }
    writeFileAtomic(file, kept);
}

} // namespace loralab
