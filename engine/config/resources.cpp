// Locating shipped resources; see resources.h.
#include "engine/config/resources.h"

#include "engine/config/run_config.h"
#include "engine/data/hub_datasets.h"
#include "engine/model/hf_cache.h"
#include "engine/util/error.h"

#include <cstdlib>
#include <unistd.h>

namespace loralab {
namespace fs = std::filesystem;

namespace {

bool looksLikeResources(const fs::path& dir) { return fs::exists(dir / "model" / "config.json") || fs::exists(dir / "data"); }

fs::path executableDir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

} // namespace

fs::path resourceDir()
{
    if (const char* env = std::getenv("LORALAB_RESOURCES"); env && *env) return env;
    const fs::path installed = executableDir() / ".." / "share" / "loralab";
    if (looksLikeResources(installed)) return fs::weakly_canonical(installed);
#ifdef LORALAB_SOURCE_RESOURCES
    if (looksLikeResources(LORALAB_SOURCE_RESOURCES)) return LORALAB_SOURCE_RESOURCES;
#endif
    throw Error("the embedded resources (default model and data) were not found; set LORALAB_RESOURCES to the "
                "resources/ directory of LoRA Lab");
}

std::string resolveModelSpec(const std::string& spec)
{
    if (spec == "default" || spec.empty()) return (resourceDir() / "model").string();
    if (isHubModelSpec(spec)) return resolveCachedModel(spec).string();
    return spec;
}

std::string DatasetPart::single(const std::string& what) const
{
    if (files.size() != 1)
        throw Error(label + " is " + std::to_string(files.size()) + " files; " + what + " reads one file (give one of them)");
    return files.front().string();
}

namespace {

DatasetPart filePart(const std::string& path) { return path.empty() ? DatasetPart{} : DatasetPart{path, {path}}; }

DatasetPart splitPart(const HubDataset& d, const HubDatasetConfig& c, const std::string& split)
{
    const HubDatasetSplit& s = pickSplit(d, c, split);
    std::string label = d.repoId + " " + c.name + (c.dataDir.empty() ? "" : " " + c.dataDir) + " " + s.name;
    if (s.files.size() == 1) label += " (" + s.files.front().string() + ")";
    else label += " (" + std::to_string(s.files.size()) + " files in " + s.files.front().parent_path().string() + ")";
    return {label, s.files};
}

DatasetFiles cachedDataset(const DatasetRequest& r)
{
    const HubDataset d = findCachedDataset(r.spec, r.dataDir);
    const HubDatasetConfig& c = d.config(r.config);
    DatasetFiles f;
    const std::string trainSplit = r.split.empty() ? "train" : r.split;
    f.train = splitPart(d, c, trainSplit);
    std::string validationSplit = r.validationSplit;
    if (r.validationFile.empty() && validationSplit.empty() && trainSplit != "validation" && c.split("validation"))
        validationSplit = "validation";
    if (!r.validationFile.empty()) f.validation = filePart(r.validationFile);
    else if (!validationSplit.empty()) f.validation = splitPart(d, c, validationSplit);
    // The test split, where neither training nor validation reads it.
    if (trainSplit != "test" && validationSplit != "test" && c.split("test")) f.test = splitPart(d, c, "test");
    f.source = d.repoId + " " + c.name + (c.dataDir.empty() ? "" : " (data_dir " + c.dataDir + ")") +
               (d.arrowCache ? " from the datasets cache " : " at revision " + d.revision.substr(0, 12) + " from ") + d.root.string();
    return f;
}

} // namespace

DatasetFiles resolveDatasets(const DatasetRequest& r)
{
    const auto noHubOptions = [&](const char* kind) {
        if (!r.config.empty() || !r.dataDir.empty() || !r.validationSplit.empty() || (r.split != "train" && !r.split.empty()))
            throw Error(std::string("dataset_config, dataset_data_dir, dataset_split and validation_split name parts of a Hugging Face "
                                    "cache dataset; '") +
                        r.spec + "' is " + kind);
    };
    if (r.spec == "default:dialogues") {
        noHubOptions("an embedded dataset");
        const fs::path d = resourceDir() / "data" / "dialogues";
        return {filePart((d / "train.jsonl").string()), filePart(r.validationFile), filePart((d / "test.jsonl").string()), ""};
    }
    if (r.spec == "default:wikitext") {
        noHubOptions("an embedded dataset");
        const fs::path d = resourceDir() / "data" / "wikitext";
        return {filePart((d / "wiki.train.raw").string()),
                filePart(r.validationFile.empty() ? (d / "wiki.valid.raw").string() : r.validationFile),
                filePart((d / "wiki.test.raw").string()), ""};
    }
    if (r.spec.rfind("default:", 0) == 0)
        throw Error("unknown embedded dataset '" + r.spec + "' (default:dialogues or default:wikitext)");
    // A repo id (a missing one gets the message that says where it was
    // looked for); a missing relative file such as data/train.jsonl stays a file.
    const std::string ext = fs::path(r.spec).extension().string();
    const bool fileName = ext == ".jsonl" || ext == ".json" || ext == ".txt" || ext == ".raw" || ext == ".gz" || ext == ".parquet" ||
                          ext == ".arrow" || ext == ".arrows";
    if (isHubRepoSpec(r.spec) && (isCachedDatasetSpec(r.spec) || !fileName)) return cachedDataset(r);
    noHubOptions("a file");
    return {filePart(r.spec), filePart(r.validationFile), {}, ""};
}

DatasetRequest datasetRequest(const RunConfig& config)
{
    DatasetRequest r;
    r.spec = config.dataset;
    r.config = config.datasetConfig;
    r.dataDir = config.datasetDataDir;
    r.split = config.datasetSplit;
    r.validationSplit = config.validationSplit;
    r.validationFile = config.validation;
    return r;
}

DatasetFiles resolveDatasetSpec(const std::string& spec, const std::string& validation)
{
    DatasetRequest r;
    r.spec = spec;
    r.validationFile = validation;
    return resolveDatasets(r);
}

} // namespace loralab
