// Run directories; see run_directory.h.
#include "engine/runner/run_directory.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <ctime>
#include <fstream>
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

std::string safeName(const std::string& name)
{
    std::string out;
    for (const char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-');
    return out.empty() ? "run" : out;
}

} // namespace

RunDirectory RunDirectory::create(const fs::path& runsDir, const std::string& name)
{
    const std::string base = timestamp("%Y%m%d-%H%M%S") + "-" + safeName(name);
    fs::path dir = runsDir / base;
    for (int i = 2; fs::exists(dir); ++i) dir = runsDir / (base + "-" + std::to_string(i));
    std::error_code ec;
    fs::create_directories(dir / "checkpoints", ec);
    if (ec) throw fileError(dir.string(), "cannot create the run directory: " + ec.message());
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
