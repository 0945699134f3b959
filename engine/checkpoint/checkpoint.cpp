// Finding and opening checkpoints; see checkpoint.h.
#include "engine/checkpoint/checkpoint.h"

#include "engine/checkpoint/checkpoint_store.h"
#include "engine/lora/adapter_config.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstdio>

namespace loralab {
namespace fs = std::filesystem;

namespace {

std::int64_t stepOf(const fs::path& dir)
{
    const std::string name = dir.filename().string();
    if (name.rfind("step-", 0) != 0) return -1;
    try {
        return std::stoll(name.substr(5));
    } catch (const std::exception&) {
        return -1;
    }
}

} // namespace

std::optional<fs::path> findRunCheckpoint(const fs::path& runDir, CheckpointPick pick)
{
    const fs::path checkpoints = runDir / "checkpoints";
    switch (pick) {
    case CheckpointPick::Best: return checkpointLabel(checkpoints, "best");
    case CheckpointPick::Last: return checkpointLabel(checkpoints, "last");
    case CheckpointPick::BestElseLast: break;
    }
    if (auto best = checkpointLabel(checkpoints, "best")) return best;
    return checkpointLabel(checkpoints, "last");
}

std::optional<fs::path> findRunCheckpoint(const fs::path& runDir, std::int64_t step)
{
    char name[32];
    std::snprintf(name, sizeof name, "step-%06lld", static_cast<long long>(step));
    const fs::path dir = runDir / "checkpoints" / name;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir;
    return std::nullopt;
}

Checkpoint openCheckpoint(const fs::path& from, CheckpointPick pick)
{
    std::error_code ec;
    if (!fs::is_directory(from, ec))
        throw fileError(from.string(), fs::exists(from, ec) ? "is not a directory" : "not found");
    Checkpoint c;
    if (fs::is_directory(from / "checkpoints", ec) && fs::is_regular_file(from / "config.json", ec)) { // a run directory
        c.runDir = from;
        const auto found = findRunCheckpoint(from, pick);
        if (!found)
            throw fileError(from.string(), pick == CheckpointPick::Best   ? "has no best checkpoint (no evaluation improved yet)"
                                           : pick == CheckpointPick::Last ? "has no checkpoint yet"
                                                                          : "has no checkpoint yet");
        c.dir = *found;
    } else {
        c.dir = from;
        // A run's checkpoint sits in <run>/checkpoints/<step>.
        const fs::path runDir = from.parent_path().parent_path();
        if (from.parent_path().filename() == "checkpoints" && fs::is_regular_file(runDir / "config.json", ec)) c.runDir = runDir;
    }
    if (!c.runDir.empty()) c.run = loadRunConfig((c.runDir / "config.json").string());
    c.step = stepOf(fs::weakly_canonical(c.dir, ec));
    if (fs::is_regular_file(c.dir / "adapter_config.json", ec))
        c.kind = CheckpointKind::Adapter;
    else if (fs::is_regular_file(c.dir / "model.safetensors", ec) || fs::is_regular_file(c.dir / "model.safetensors.index.json", ec))
        c.kind = CheckpointKind::FullWeights;
    else
        throw fileError(c.dir.string(), "holds neither an adapter (adapter_config.json) nor model weights (model.safetensors)");
    return c;
}

std::string baseModelOf(const Checkpoint& c, const std::string& override)
{
    if (c.kind == CheckpointKind::FullWeights) return c.dir.string();
    if (!override.empty()) return override;
    if (c.run) return c.run->model;
    const fs::path configPath = c.dir / "adapter_config.json";
    const std::string base = parseAdapterConfig(readTextFile(configPath), configPath.string()).baseModel;
    if (base.empty()) throw fileError(configPath.string(), "names no base model (base_model_name_or_path); give one with --model");
    return base;
}

} // namespace loralab
