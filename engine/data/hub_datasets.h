// Datasets that Hugging Face tools have already downloaded, named as a run
// names a model: "Org/Name[@revision]" with a configuration (subset), a
// data_dir and a split. Two caches are read, never written:
//  - the hub cache (datasets--Org--Name/snapshots/<rev>/...), the repository's
//    files as huggingface_hub downloaded them. Which file belongs to which
//    configuration and split is found as the `datasets` library finds it:
//    the dataset card's YAML `configs:` (config_name, data_files as a
//    string, a list, a list of {split, path} or a {split: path} mapping,
//    data_dir, default) when README.md has them; else one "default"
//    configuration whose splits come from the files' names: the hub's
//    data/<split>-00000-of-00003.* layout, then a folder named for a split
//    ("train/", "validation-set/"), then a file name holding one ("test.jsonl.gz",
//    "my_train-1.parquet"), with train/training, validation/valid/val/dev and
//    test/testing/eval/evaluation as the words; and if no name holds one,
//    every data file is "train". data_dir narrows the files to one folder.
//  - the `datasets` library's Arrow cache
//    (<org>___<name>/<config>/<version>/<hash>/<name>-<split>[-00000-of-00002].arrow
//    beside dataset_info.json), used when the hub cache has no snapshot.
// No LibTorch here.
#pragma once

#include "engine/data/dataset_card.h"
#include "engine/model/hf_cache.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

struct HubDatasetSplit {
    std::string name;                          // "train", "validation", "test", or the card's own
    std::vector<std::filesystem::path> files;  // in the order the `datasets` library reads them
};

struct HubDatasetConfig {
    std::string name;    // "default" when the card names none
    bool isDefault = false;
    std::string dataDir; // the card's data_dir, or the one asked for
    std::vector<HubDatasetSplit> splits;

    const HubDatasetSplit* split(const std::string& name) const;
    std::vector<std::string> splitNames() const;
};

struct HubDataset {
    std::string repoId;
    std::string revision;       // commit hash (hub cache) or the Arrow cache's fingerprint folder
    std::filesystem::path root; // the snapshot folder, or the repo's folder in the Arrow cache
    bool arrowCache = false;    // files from the `datasets` library's Arrow cache
    bool fromCard = false;      // configurations from the dataset card's YAML
    std::int64_t sizeBytes = 0;
    std::vector<HubDatasetConfig> configs;
    // Without card configurations: the top-level folders that hold data
    // files, the data_dir values that select a part (hh-rlhf's harmless-base).
    std::vector<std::string> dataDirs;

    std::vector<std::string> configNames() const;
    // The configuration `name` names, or the default one when `name` is
    // empty (the only one, the card's default, or "default"). Throws Error
    // naming the configurations there are.
    const HubDatasetConfig& config(const std::string& name) const;
};

// The datasets in the hub cache `hub` (those with a snapshot holding data
// files) and those only in the Arrow cache `arrow`, sorted by repo id.
std::vector<HubDataset> listCachedDatasets(const std::filesystem::path& hub, const std::filesystem::path& arrow);
inline std::vector<HubDataset> listCachedDatasets() { return listCachedDatasets(hfCacheDir(), hfDatasetsCacheDir()); }

// "Org/Name[@revision]" read from the caches, its configurations resolved
// with `dataDir` ("" for the whole repository). Throws Error naming the
// caches and what was looked for, or the data_dir values there are.
HubDataset findCachedDataset(const std::string& spec, const std::string& dataDir, const std::filesystem::path& hub,
                             const std::filesystem::path& arrow);
HubDataset findCachedDataset(const std::string& spec, const std::string& dataDir = "");

// The files of one split; throws Error naming the splits there are.
const HubDatasetSplit& pickSplit(const HubDataset& dataset, const HubDatasetConfig& config, const std::string& split);

// True for "Org/Name[@revision]" that is not a path on disk and whose repo
// is in one of the caches.
bool isCachedDatasetSpec(const std::string& spec);

} // namespace loralab
