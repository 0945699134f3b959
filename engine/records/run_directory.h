// A run on disk: runs/<timestamp>-<name>/ with config.json, metrics.jsonl (a
// JSON object per step and per evaluation), samples.jsonl, summary.json,
// events.log and checkpoints/. Lines are appended and whole files replaced
// atomically, so killing the process at any moment leaves every file readable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

// Makes `parent`/<timestamp>-<name> (-2, -3, ... when taken) in one step, so
// that two processes never claim the same folder; returns it.
std::filesystem::path claimDirectory(const std::filesystem::path& parent, const std::string& name);

class RunDirectory {
public:
    // A new directory under `runsDir`, named from the current time and `name`.
    static RunDirectory create(const std::filesystem::path& runsDir, const std::string& name);
    // An existing run, for resuming.
    static RunDirectory open(const std::filesystem::path& dir);

    const std::filesystem::path& path() const { return m_dir; }
    std::filesystem::path checkpoints() const { return m_dir / "checkpoints"; }

    void writeConfig(const std::string& json) const;
    void appendMetric(const std::string& jsonLine) const;
    void writeSamples(const std::vector<std::string>& jsonLines) const;
    void writeSummary(const std::string& json) const;
    void logEvent(const std::string& message) const;
    // Drops metric records of steps after `step` (work a resume repeats).
    void truncateMetricsAfter(std::int64_t step) const;

private:
    explicit RunDirectory(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    std::filesystem::path m_dir;
};

} // namespace loralab
