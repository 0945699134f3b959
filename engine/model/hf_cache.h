// Models that Hugging Face tools have already downloaded: where the hub cache
// lives, what it holds, and which snapshot folder "Org/Name[@revision]" names.
// The cache is only read, never written: downloading stays with those tools.
//
// Layout of one model in the cache:
//   models--Org--Name/refs/main          a file holding a commit hash
//   models--Org--Name/snapshots/<hash>/  the files, usually symlinks into blobs/
//   models--Org--Name/blobs/<sha>        the contents, shared between snapshots
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loralab {

// Where huggingface_hub keeps its downloads: $HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub. The folder need not exist.
std::filesystem::path hfCacheDir();

struct CachedModel {
    std::string repoId;             // "Org/Name"
    std::string revision;           // commit hash of the snapshot below
    std::filesystem::path snapshot; // <cache>/models--Org--Name/snapshots/<hash>
    std::int64_t sizeBytes = 0;     // bytes of the files the snapshot points to, each blob once
    std::string architecture;       // config.json "model_type"; "" when it cannot be read
    bool hasWeights = false;        // *.safetensors, the weights LoRA Lab loads
    bool hasTokenizer = false;      // tokenizer.json or tokenizer.model
};

// The models in `cache` whose snapshot (refs/main, or the newest snapshot when
// there is no main) has a config.json, sorted by repo id.
std::vector<CachedModel> listCachedModels(const std::filesystem::path& cache);
inline std::vector<CachedModel> listCachedModels() { return listCachedModels(hfCacheDir()); }

// Where the `datasets` library keeps its Arrow cache: $HF_DATASETS_CACHE,
// else $HF_HOME/datasets, else $XDG_CACHE_HOME/huggingface/datasets, else
// ~/.cache/huggingface/datasets ("~" expanded, as in the hub's variables).
std::filesystem::path hfDatasetsCacheDir();

// The hub cache holds models (models--Org--Name) and datasets
// (datasets--Org--Name) in the same layout.
enum class HubRepoKind { Model, Dataset };

// "Org/Name" -> its folder in the hub cache, "models--Org--Name" or "datasets--Org--Name".
std::string hubRepoFolder(const std::string& repoId, HubRepoKind kind);
// A hub cache folder name -> "Org/Name"; "" for a folder of another kind or
// a repo without an org ("models--gpt2"), which cannot be named as Org/Name.
std::string hubRepoIdOfFolder(const std::string& folder, HubRepoKind kind);

// Repo ids in the order people read them: case folded (EleutherAI, meta-llama, Qwen).
bool repoIdLess(const std::string& a, const std::string& b);

struct HubSnapshot {
    std::string revision; // commit hash
    std::filesystem::path dir;
};

// The snapshot refs/main names in the repo folder `repo`; without a main ref,
// the newest snapshot. Nothing when main names a missing snapshot.
std::optional<HubSnapshot> defaultSnapshot(const std::filesystem::path& repo);

// Bytes of the distinct files a snapshot folder points to.
std::int64_t snapshotSize(const std::filesystem::path& dir);

// True when `spec` has the shape of a hub repo id, "Org/Name" or
// "Org/Name@revision", and is not a path that exists on disk.
bool isHubRepoSpec(const std::string& spec);
// "Org/Name" and the revision ("" for main) of such a spec; "" when it is not one.
std::string hubRepoId(const std::string& spec);
std::string hubRevision(const std::string& spec);

// The snapshot folder of "Org/Name" (refs/main) or "Org/Name@revision" (a
// ref name under refs/, or a commit hash under snapshots/) of a model or a
// dataset in `cache`. Throws Error naming the cache and the folder it looked for.
std::filesystem::path resolveCachedSnapshot(const std::string& spec, HubRepoKind kind, const std::filesystem::path& cache);

// True when `spec` has the shape of a hub repo id, "Org/Name" or
// "Org/Name@revision", and is not a path that exists on disk: a local folder
// always wins over the cache.
bool isHubModelSpec(const std::string& spec);

// The snapshot folder of "Org/Name" (refs/main) or "Org/Name@revision" (a
// ref name under refs/, or a commit hash under snapshots/) in hfCacheDir().
// Throws Error naming the cache and the folder it looked for.
std::filesystem::path resolveCachedModel(const std::string& spec);

} // namespace loralab
