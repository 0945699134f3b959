// Atomic checkpoint directories; see checkpoint_store.h.
#include "engine/checkpoint/checkpoint_store.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstdio>
#include <set>
#include <unistd.h>

namespace loralab {
namespace fs = std::filesystem;

namespace {

std::string stepName(std::int64_t step)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "step-%06lld", static_cast<long long>(step));
    return buf;
}

constexpr const char* kPartial = ".partial";

} // namespace

std::optional<fs::path> checkpointLabel(const fs::path& checkpointsDir, const std::string& label)
{
    std::error_code ec;
    const fs::path link = checkpointsDir / label;
    if (!fs::is_symlink(link, ec)) return std::nullopt;
    // Labels name a sibling; whatever else a link says, only its last part counts.
    const fs::path target = checkpointsDir / fs::read_symlink(link, ec).filename();
    if (ec || fs::is_symlink(target, ec) || !fs::is_directory(target, ec)) return std::nullopt;
    return target;
}

CheckpointStore::CheckpointStore(fs::path dir) : m_dir(std::move(dir))
{
    std::error_code ec;
    if (fs::is_symlink(m_dir, ec))
        throw fileError(m_dir.string(), "is a symbolic link; a run keeps its checkpoints in a folder of its own");
    fs::create_directories(m_dir);
}

fs::path CheckpointStore::commit(const std::string& label, std::int64_t step, const std::function<void(const fs::path&)>& write)
{
    const std::string name = stepName(step);
    const fs::path final = m_dir / name;
    if (!fs::exists(final)) {
        const fs::path partial = m_dir / (name + kPartial + "-" + std::to_string(::getpid()));
        fs::remove_all(partial);
        fs::create_directories(partial);
        try {
            write(partial);
        } catch (...) {
            std::error_code ignored;
            fs::remove_all(partial, ignored);
            throw;
        }
        syncDirectory(partial);
        fs::rename(partial, final);
        syncDirectory(m_dir);
    }
    pointLabel(label, name);
    return final;
}

void CheckpointStore::alias(const std::string& label, const std::string& existing)
{
    const auto target = resolve(existing);
    if (!target) throw Error("no checkpoint is labelled '" + existing + "'");
    pointLabel(label, target->filename().string());
}

void CheckpointStore::pointLabel(const std::string& label, const std::string& target) const
{
    // A new link under a temporary name, renamed over the old one: rename(2)
    // replaces it atomically, so the label is never missing or dangling.
    const fs::path tmp = m_dir / ("." + label + ".link-" + std::to_string(::getpid()));
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fs::create_directory_symlink(target, tmp);
    fs::rename(tmp, m_dir / label);
    syncDirectory(m_dir);
}

std::optional<fs::path> CheckpointStore::resolve(const std::string& label) const { return checkpointLabel(m_dir, label); }

void CheckpointStore::prune() const
{
    std::set<std::string> live;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_dir, ec))
        if (fs::is_symlink(entry.symlink_status())) live.insert(fs::read_symlink(entry.path(), ec).filename().string());
    // Only what a store writes is removed: step-N folders no label points at,
    // step-N.partial-PID folders of interrupted writes, and .LABEL.link-PID
    // links of interrupted relabelling. Anything else someone put here stays.
    for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (fs::is_symlink(entry.symlink_status())) {
            if (name.rfind('.', 0) == 0 && name.find(".link-") != std::string::npos) fs::remove(entry.path(), ec);
            continue;
        }
        if (name.rfind("step-", 0) != 0 || !fs::is_directory(entry.symlink_status())) continue;
        const bool partial = name.find(kPartial) != std::string::npos;
        if (partial || !live.count(name)) fs::remove_all(entry.path(), ec);
    }
}

} // namespace loralab
