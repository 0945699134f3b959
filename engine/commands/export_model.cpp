// loralab-cli export: a model folder transformers loads (--merged) or a GGUF
// file llama.cpp loads (--gguf), with the adapter folded into the base
// weights; see tools.h.
#include "engine/commands/tools.h"

#include "engine/checkpoint/checkpoint.h"
#include "engine/checkpoint/load_checkpoint.h"
#include "engine/config/resources.h"
#include "engine/export/gguf_export.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/util/error.h"

#include <filesystem>

namespace loralab {
namespace fs = std::filesystem;

namespace {

// What an export reads: the checkpoint, the model it applies to, the model
// loaded with the adapter folded in (or the full weights), and the folder the
// tokenizer files come from (the run's tokenizer, the embedded one for
// presets, else the model's own folder).
struct ExportSource {
    Checkpoint checkpoint;
    std::string base;
    LoadedModel model;
    fs::path tokenizerDir;
};

ExportSource openExportSource(const std::string& from, const std::string& baseModel, torch::ScalarType dtype)
{
    ExportSource s;
    s.checkpoint = openCheckpoint(from);
    s.base = resolveModelSpec(baseModelOf(s.checkpoint, baseModel));
    LoadOptions options;
    options.dtype = dtype;
    s.model = loadModel(s.base, options);
    // The adapter's own settings (rank, alpha, targets) come with its factors.
    if (s.checkpoint.kind == CheckpointKind::Adapter) loadAdapter(*s.model.net, s.checkpoint.dir);
    s.tokenizerDir = s.model.dir;
    if (s.checkpoint.run && !s.checkpoint.run->tokenizer.empty())
        s.tokenizerDir = resolveModelSpec(s.checkpoint.run->tokenizer);
    else if (isPresetName(s.base))
        s.tokenizerDir = resolveModelSpec("default"); // presets read text with the embedded tokenizer
    return s;
}

MergedExport describeExport(const std::string& out, const ExportSource& s)
{
    MergedExport result;
    result.outDir = out;
    result.checkpoint = s.checkpoint.dir.string();
    const bool adapter = s.checkpoint.kind == CheckpointKind::Adapter;
    result.baseModel = adapter ? s.base : std::string();
    result.method = adapter ? Method::Lora : Method::Full;
    for (const auto& [name, p] : s.model.net->uniqueParameters())
        if (name.find(".lora_") == std::string::npos) result.params += p.numel();
    return result;
}

// An output that exists already, or whose folder does not, is refused by name.
void checkNewOutput(const fs::path& out, bool folder)
{
    std::error_code ec;
    const auto status = fs::symlink_status(out, ec);
    if (fs::exists(status) && !(folder && fs::is_directory(status) && fs::is_empty(out, ec)))
        throw fileError(out.string(), std::string("already exists; choose a new ") + (folder ? "folder" : "file") + " for the exported model");
    if (!out.parent_path().empty() && !fs::is_directory(out.parent_path(), ec))
        throw fileError(out.parent_path().string(), "is not a folder the export can be written in");
}

} // namespace

MergedExport exportMerged(const std::string& from, const std::string& outDir, const std::string& baseModel,
                          const std::string& dtype)
{
    if (outDir.empty()) throw Error("export needs an output folder");
    const fs::path out = outDir;
    checkNewOutput(out, /*folder=*/true);
    const ExportSource source = openExportSource(from, baseModel, dtype.empty() ? torch::kFloat32 : parseDType(dtype));
    // Written beside its final place and renamed: the folder is whole or absent.
    const fs::path partial = out.string() + ".partial";
    std::error_code ec;
    fs::remove_all(partial, ec);
    try {
        exportMergedModel(*source.model.net, source.tokenizerDir, partial);
        if (fs::exists(out, ec)) fs::remove(out); // an empty folder the user made
        fs::rename(partial, out);
    } catch (...) {
        fs::remove_all(partial, ec);
        throw;
    }
    return describeExport(out.string(), source);
}

MergedExport exportGgufModel(const std::string& from, const std::string& outFile, const std::string& baseModel, GgufType type)
{
    if (outFile.empty()) throw Error("export needs an output file for the GGUF model");
    checkNewOutput(outFile, /*folder=*/false);
    const ExportSource source = openExportSource(from, baseModel, torch::kFloat32);
    std::shared_ptr<Tokenizer> tokenizer = source.model.tokenizer;
    if (!tokenizer || source.tokenizerDir != source.model.dir) tokenizer = loadTokenizer(source.tokenizerDir);
    exportGguf(*source.model.net, *tokenizer, source.tokenizerDir, outFile, type);
    return describeExport(outFile, source);
}

} // namespace loralab
