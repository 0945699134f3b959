// The Hugging Face hub cache: a cache laid out on disk as huggingface_hub
// writes it (blobs, snapshot symlinks, refs), listed and resolved by model id.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/model/hf_cache.h"
#include "engine/model/model_config.h"
#include "engine/config/resources.h"
#include "engine/util/error.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <unistd.h>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

const char* const kCacheVariables[] = {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HOME"};

// Sets the cache variables for one case and puts them back afterwards, so
// cases run in one process do not see each other's cache.
class CacheEnvironment {
public:
    explicit CacheEnvironment(const std::map<std::string, std::string>& values)
    {
        for (const char* name : kCacheVariables) {
            if (const char* v = std::getenv(name)) m_saved[name] = v;
            else m_saved[name] = std::nullopt;
            const auto it = values.find(name);
            if (it != values.end()) setenv(name, it->second.c_str(), 1);
            else unsetenv(name);
        }
    }
    ~CacheEnvironment()
    {
        for (const auto& [name, value] : m_saved)
            if (value) setenv(name.c_str(), value->c_str(), 1);
            else unsetenv(name.c_str());
    }

private:
    std::map<std::string, std::optional<std::string>> m_saved;
};

std::string readAll(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Content-addressed like the hub's blobs: equal contents share one blob.
std::string blobName(const std::string& contents)
{
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(contents));
    return std::string(hex) + std::to_string(contents.size());
}

void writeFile(const fs::path& file, const std::string& text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

// Puts the files of `from` into the cache as snapshot `revision` of
// Org/Name, and points refs/<ref> at it (no ref when `ref` is empty).
fs::path addSnapshot(const fs::path& cache, const std::string& repoId, const fs::path& from, const std::string& revision,
                     const std::string& ref = "main")
{
    const std::size_t slash = repoId.find('/');
    const fs::path repo = cache / ("models--" + repoId.substr(0, slash) + "--" + repoId.substr(slash + 1));
    const fs::path snapshot = repo / "snapshots" / revision;
    fs::create_directories(snapshot);
    fs::create_directories(repo / "blobs");
    for (const auto& entry : fs::directory_iterator(from)) {
        const std::string blob = blobName(readAll(entry.path()));
        if (!fs::exists(repo / "blobs" / blob)) fs::copy_file(entry.path(), repo / "blobs" / blob);
        fs::create_symlink(fs::path("../../blobs") / blob, snapshot / entry.path().filename());
    }
    if (!ref.empty()) writeFile(repo / "refs" / ref, revision);
    return snapshot;
}

std::int64_t folderBytes(const fs::path& dir)
{
    std::int64_t total = 0;
    for (const auto& entry : fs::directory_iterator(dir)) total += static_cast<std::int64_t>(fs::file_size(entry.path()));
    return total;
}

const std::string kNeoxHash = "1111111111111111111111111111111111111111";
const std::string kNeoxOldHash = "0000000000000000000000000000000000000000";
const std::string kQwenHash = "2222222222222222222222222222222222222222";

// The cache the listing cases and the CLI tests read, at <root>/hub: three
// fixture models, an older snapshot under a tag, and folders that are not
// models to offer. Files made for it go to <root>/src, so cases running side
// by side never share a folder.
fs::path layOutCache(const fs::path& root)
{
    const fs::path cache = root / "hub";
    const fs::path src = root / "src";
    addSnapshot(cache, "EleutherAI/tiny-gpt-neox", test::fixtureModel("tiny-gpt-neox"), kNeoxHash);
    // A second name for the weights blob: the size counts it once.
    const fs::path neox = cache / "models--EleutherAI--tiny-gpt-neox";
    fs::create_symlink(fs::read_symlink(neox / "snapshots" / kNeoxHash / "model.safetensors"),
                       neox / "snapshots" / kNeoxHash / "same-weights.safetensors");
    // An older revision, named by a tag, with a config that differs.
    const fs::path old = src / "old-neox";
    fs::create_directories(old);
    fs::copy(test::fixtureModel("tiny-gpt-neox"), old);
    writeFile(old / "config.json", readAll(old / "config.json") + " ");
    addSnapshot(cache, "EleutherAI/tiny-gpt-neox", old, kNeoxOldHash, "v0");

    addSnapshot(cache, "Qwen/tiny-qwen2", test::fixtureModel("tiny-qwen2"), kQwenHash);
    // No refs/main: only a commit was downloaded, and that snapshot is the one offered.
    addSnapshot(cache, "acme-lab/tiny-llama", test::fixtureModel("tiny-llama-spm"), "3333333333333333333333333333333333333333", "");

    const fs::path broken = src / "broken-config";
    writeFile(broken / "config.json", "{\"model_type\": \"llama\", ");
    addSnapshot(cache, "zz-org/broken-config", broken, "4444444444444444444444444444444444444444");

    const fs::path noConfig = src / "no-config";
    writeFile(noConfig / "README.md", "a dataset card");
    addSnapshot(cache, "Org/no-config", noConfig, "5555555555555555555555555555555555555555");
    addSnapshot(cache, "Org/main-points-nowhere", test::fixtureModel("tiny-gpt-neox"), "6666666666666666666666666666666666666666");
    writeFile(cache / "models--Org--main-points-nowhere" / "refs" / "main", "7777777777777777777777777777777777777777");
    fs::create_directories(cache / "datasets--Org--some-data" / "snapshots");
    fs::create_directories(cache / ".locks" / "models--Qwen--tiny-qwen2");
    return cache;
}

} // namespace

class HfCacheTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "hf_cache")
private Q_SLOTS:
    void cli_cache_layout();
    void lists_models_with_size_architecture_revision();
    void missing_cache_lists_nothing();
    void resolves_org_name_and_revisions();
    void not_found_names_the_cache_and_folder();
    void cache_dir_follows_huggingface_hub();
    void local_folder_wins_and_other_specs_pass_through();
};
REGISTER_TESTS(HfCacheTests);

void HfCacheTests::cli_cache_layout()
{
    // Also the fixture of the cli/*_cache tests, which read this folder.
    const fs::path cache = layOutCache(test::scratchDir("hf-cache-cli"));
    QCOMPARE(listCachedModels(cache).size(), std::size_t{4});
}

void HfCacheTests::lists_models_with_size_architecture_revision()
{
    const fs::path cache = layOutCache(test::scratchDir("hf-cache-list"));
    const CacheEnvironment env({{"HF_HUB_CACHE", cache.string()}});
    const auto models = listCachedModels();
    QVERIFY(models.size() == 4);
    // Case folded: acme-lab before EleutherAI before Qwen.
    QCOMPARE(models[0].repoId, "acme-lab/tiny-llama");
    QCOMPARE(models[1].repoId, "EleutherAI/tiny-gpt-neox");
    QCOMPARE(models[2].repoId, "Qwen/tiny-qwen2");
    QCOMPARE(models[3].repoId, "zz-org/broken-config");

    const CachedModel& neox = models[1];
    QCOMPARE(neox.revision, kNeoxHash);
    QCOMPARE(neox.snapshot, cache / "models--EleutherAI--tiny-gpt-neox" / "snapshots" / kNeoxHash);
    QCOMPARE(neox.architecture, "gpt_neox");
    QCOMPARE(neox.sizeBytes, folderBytes(test::fixtureModel("tiny-gpt-neox")));
    QVERIFY(neox.hasWeights && neox.hasTokenizer);

    QCOMPARE(models[2].architecture, "qwen2");
    QCOMPARE(models[2].sizeBytes, folderBytes(test::fixtureModel("tiny-qwen2")));
    QCOMPARE(models[0].revision, "3333333333333333333333333333333333333333");
    QCOMPARE(models[0].architecture, "llama");
    QVERIFY(models[0].hasTokenizer); // tokenizer.model

    // A config that does not parse lists the model with an unknown architecture.
    QCOMPARE(models[3].architecture, "");
    QVERIFY(!models[3].hasWeights && !models[3].hasTokenizer);
}

void HfCacheTests::missing_cache_lists_nothing()
{
    QVERIFY(listCachedModels(test::scratchDir("hf-cache-empty") / "absent").empty());
}

void HfCacheTests::resolves_org_name_and_revisions()
{
    const fs::path cache = layOutCache(test::scratchDir("hf-cache-resolve"));
    const CacheEnvironment env({{"HF_HUB_CACHE", cache.string()}});
    const fs::path repo = cache / "models--EleutherAI--tiny-gpt-neox";
    QCOMPARE(fs::path(resolveModelSpec("EleutherAI/tiny-gpt-neox")), repo / "snapshots" / kNeoxHash);
    QCOMPARE(fs::path(resolveModelSpec("EleutherAI/tiny-gpt-neox@main")), repo / "snapshots" / kNeoxHash);
    QCOMPARE(fs::path(resolveModelSpec("EleutherAI/tiny-gpt-neox@v0")), repo / "snapshots" / kNeoxOldHash);
    QCOMPARE(fs::path(resolveModelSpec("EleutherAI/tiny-gpt-neox@" + kNeoxOldHash)), repo / "snapshots" / kNeoxOldHash);
    // The snapshot is a model folder the loaders read through its symlinks.
    QCOMPARE(loadModelConfig(resolveModelSpec("Qwen/tiny-qwen2")).numLayers,
             loadModelConfig(test::fixtureModel("tiny-qwen2").string()).numLayers);
}

void HfCacheTests::not_found_names_the_cache_and_folder()
{
    const fs::path cache = layOutCache(test::scratchDir("hf-cache-missing"));
    const CacheEnvironment env({{"HF_HUB_CACHE", cache.string()}});
    VERIFY_THROWS_WITH(resolveModelSpec("EleutherAI/pythia-70m"), "'EleutherAI/pythia-70m'", cache.string(),
                       "no models--EleutherAI--pythia-70m there", "huggingface-cli download EleutherAI/pythia-70m");
    VERIFY_THROWS_WITH(resolveModelSpec("EleutherAI/tiny-gpt-neox@v9"), cache.string(), "refs/v9", "snapshots/v9",
                       "--revision v9");
    VERIFY_THROWS_WITH(resolveModelSpec("Org/main-points-nowhere"), "models--Org--main-points-nowhere", "refs/main");
}

void HfCacheTests::cache_dir_follows_huggingface_hub()
{
    {
        const CacheEnvironment env({{"HF_HUB_CACHE", "/a/hub"}, {"HF_HOME", "/b"}, {"XDG_CACHE_HOME", "/c"}, {"HOME", "/d"}});
        QCOMPARE(hfCacheDir(), fs::path("/a/hub"));
    }
    {
        const CacheEnvironment env({{"HF_HOME", "/b"}, {"XDG_CACHE_HOME", "/c"}, {"HOME", "/d"}});
        QCOMPARE(hfCacheDir(), fs::path("/b/hub"));
    }
    {
        const CacheEnvironment env({{"XDG_CACHE_HOME", "/c"}, {"HOME", "/d"}});
        QCOMPARE(hfCacheDir(), fs::path("/c/huggingface/hub"));
    }
    {
        const CacheEnvironment env({{"HOME", "/d"}, {"HF_HOME", "~/hf"}});
        QCOMPARE(hfCacheDir(), fs::path("/d/hf/hub"));
    }
    {
        const CacheEnvironment env({{"HOME", "/d"}, {"HF_HUB_CACHE", ""}});
        QCOMPARE(hfCacheDir(), fs::path("/d/.cache/huggingface/hub"));
    }
    // End to end: a model found through HF_HOME alone.
    const fs::path home = test::scratchDir("hf-cache-home");
    addSnapshot(home / "hub", "EleutherAI/tiny-gpt-neox", test::fixtureModel("tiny-gpt-neox"), kNeoxHash);
    const CacheEnvironment env({{"HF_HOME", home.string()}});
    QCOMPARE(fs::path(resolveModelSpec("EleutherAI/tiny-gpt-neox")),
             home / "hub" / "models--EleutherAI--tiny-gpt-neox" / "snapshots" / kNeoxHash);
}

void HfCacheTests::local_folder_wins_and_other_specs_pass_through()
{
    const fs::path cache = layOutCache(test::scratchDir("hf-cache-local"));
    const CacheEnvironment env({{"HF_HUB_CACHE", cache.string()}});
    const fs::path work = test::scratchDir("hf-cache-local-work");
    fs::create_directories(work / "EleutherAI" / "tiny-gpt-neox");
    fs::copy(test::fixtureModel("tiny-qwen2"), work / "EleutherAI" / "tiny-gpt-neox");
    const fs::path before = fs::current_path();
    fs::current_path(work);
    const std::string resolved = resolveModelSpec("EleutherAI/tiny-gpt-neox");
    const bool hubSpec = isHubModelSpec("EleutherAI/tiny-gpt-neox");
    fs::current_path(before);
    QCOMPARE(resolved, "EleutherAI/tiny-gpt-neox");
    QVERIFY(!hubSpec);

    QCOMPARE(resolveModelSpec("preset:pythia-70m"), "preset:pythia-70m");
    QCOMPARE(fs::path(resolveModelSpec("default")).filename(), "model");
    QCOMPARE(resolveModelSpec(test::fixtureModel("tiny-gpt-neox").string()), test::fixtureModel("tiny-gpt-neox").string());
    QVERIFY(isHubModelSpec("Org/Name@pr/1"));
    for (const char* notAnId : {"./Org", "../Org/Name", "/Org/Name", "Org/Name/extra", "Org", "preset:pythia-70m",
                                "Org/Name@", "Org/Name@../../x", "Org/.hidden", "Org--x/Name"})
        QVERIFY(!isHubModelSpec(notAnId));
    // A path that is not a model id stays a path, and fails as a path does.
    QCOMPARE(resolveModelSpec("no/such/folder"), "no/such/folder");
}

#include "test_hf_cache.moc"
