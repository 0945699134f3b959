// loralab-cli export --merged: a model folder transformers loads, with the
// adapter folded into the base weights; see tools.h.
#include "engine/commands/tools.h"

#include "engine/checkpoint/checkpoint.h"
#include "engine/checkpoint/load_checkpoint.h"
#include "engine/config/resources.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/util/error.h"

#include <filesystem>

namespace loralab {
namespace fs = std::filesystem;

MergedExport exportMerged(const std::string& from, const std::string& outDir, const std::string& baseModel,
                          const std::string& dtype)
{
    if (outDir.empty()) throw Error("export needs an output folder");
    const fs::path out = outDir;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(out, ec)) && !(fs::is_directory(fs::symlink_status(out, ec)) && fs::is_empty(out, ec)))
        throw fileError(outDir, "already exists; choose a new folder for the exported model");
    if (!out.parent_path().empty() && !fs::is_directory(out.parent_path(), ec))
        throw fileError(out.parent_path().string(), "is not a folder the export can be written in");
    const Checkpoint checkpoint = openCheckpoint(from);
    const bool adapter = checkpoint.kind == CheckpointKind::Adapter;
    const std::string base = resolveModelSpec(baseModelOf(checkpoint, baseModel));

    LoadOptions options;
    options.dtype = dtype.empty() ? torch::kFloat32 : parseDType(dtype);
    LoadedModel model = loadModel(base, options);
    if (adapter) {
        // The adapter's own settings (rank, alpha, targets) come with its factors.
        loadAdapter(*model.net, checkpoint.dir);
    }
    fs::path tokenizerDir = model.dir;
    if (checkpoint.run && !checkpoint.run->tokenizer.empty())
        tokenizerDir = resolveModelSpec(checkpoint.run->tokenizer);
    else if (isPresetName(base))
        tokenizerDir = resolveModelSpec("default"); // presets read text with the embedded tokenizer

    // Written beside its final place and renamed: the folder is whole or absent.
    const fs::path partial = out.string() + ".partial";
    fs::remove_all(partial, ec);
    try {
        exportMergedModel(*model.net, tokenizerDir, partial);
        if (fs::exists(out, ec)) fs::remove(out); // an empty folder the user made
        fs::rename(partial, out);
    } catch (...) {
        fs::remove_all(partial, ec);
        throw;
    }
    MergedExport result;
    result.outDir = out.string();
    result.checkpoint = checkpoint.dir.string();
    result.baseModel = adapter ? base : std::string();
    result.method = adapter ? Method::Lora : Method::Full;
    for (const auto& [name, p] : model.net->uniqueParameters())
        if (name.find(".lora_") == std::string::npos) result.params += p.numel();
    return result;
}

} // namespace loralab
