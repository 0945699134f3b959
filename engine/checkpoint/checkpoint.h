// Finding and opening what a run trained, in one place for every command and
// the window: a run's checkpoint by label (best, last, "best, else last") or
// step, and any folder a user names (a run, one of its checkpoints, a PEFT
// adapter, a model folder of full weights) as a Checkpoint whose kind
// (adapter or full weights) is detected once. Loading one into a model is
// engine/checkpoint/load_checkpoint.h. No LibTorch here.
#pragma once

#include "engine/config/run_config.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace loralab {

enum class CheckpointKind {
    Adapter,     // adapter_config.json + adapter_model.safetensors (PEFT's files)
    FullWeights, // model.safetensors (+ config.json): every weight
};

// Which of a run's checkpoints: the one validation picked, the newest, or the
// best where there is one and the newest otherwise (a run stopped before its
// first evaluation has no best).
enum class CheckpointPick { Best, Last, BestElseLast };
template <>
struct ChoiceList<CheckpointPick> {
    static constexpr const char* what = "checkpoint";
    static constexpr std::array<std::pair<CheckpointPick, const char*>, 3> items = {
        {{CheckpointPick::Best, "best"}, {CheckpointPick::Last, "last"}, {CheckpointPick::BestElseLast, "best-else-last"}}};
};

struct Checkpoint {
    std::filesystem::path dir;
    CheckpointKind kind = CheckpointKind::Adapter;
    std::filesystem::path runDir;   // the run it belongs to; empty for a folder outside a run
    std::optional<RunConfig> run;   // that run's configuration
    std::int64_t step = -1;         // the step it holds, when it is a run's step-N folder
};

// The folder a label of `runDir`'s checkpoints points at, if any.
std::optional<std::filesystem::path> findRunCheckpoint(const std::filesystem::path& runDir, CheckpointPick pick);
// The checkpoint of step `step`, if the run kept it.
std::optional<std::filesystem::path> findRunCheckpoint(const std::filesystem::path& runDir, std::int64_t step);

// Opens what `from` names: a run directory (its `pick` checkpoint), a
// checkpoint folder of a run, a PEFT adapter folder or a model folder of
// full weights. Throws loralab::Error naming the folder when it is none of
// these or holds no checkpoint yet.
Checkpoint openCheckpoint(const std::filesystem::path& from, CheckpointPick pick = CheckpointPick::BestElseLast);

// The model an adapter applies to: `override` when given, else the run's
// model, else the adapter's base_model_name_or_path (an Error naming the
// file when it names none). A full-weights checkpoint is a model folder
// itself and returns its own folder.
std::string baseModelOf(const Checkpoint& checkpoint, const std::string& override = "");

} // namespace loralab
