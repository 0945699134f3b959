// The checkpoints of a run: each is a directory "step-000123" written in
// full under a temporary name and renamed into place; "last" and "best" are
// symbolic links swapped atomically onto the newest and best ones. A process
// killed at any moment leaves every label pointing at a complete checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace loralab {

// The folder `label` points at inside a checkpoints folder, if it points at one.
std::optional<std::filesystem::path> checkpointLabel(const std::filesystem::path& checkpointsDir, const std::string& label);

class CheckpointStore {
public:
    // Creates the folder if needed; a folder that is a symbolic link is
    // refused, so pruning never deletes outside the run.
    explicit CheckpointStore(std::filesystem::path dir);

    // Writes a checkpoint of `step` with `write(directory)` (unless that step
    // is already stored) and points `label` at it. Returns its directory.
    std::filesystem::path commit(const std::string& label, std::int64_t step,
                                 const std::function<void(const std::filesystem::path&)>& write);
    // Points `label` at the directory another label points at.
    void alias(const std::string& label, const std::string& existing);
    // The directory a label points at, if any.
    std::optional<std::filesystem::path> resolve(const std::string& label) const;
    // Removes checkpoints no label points at, and leftovers of interrupted writes.
    void prune() const;

    const std::filesystem::path& dir() const { return m_dir; }

private:
    void pointLabel(const std::string& label, const std::string& target) const;
    std::filesystem::path m_dir;
};

} // namespace loralab
