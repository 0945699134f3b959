// Reading the Hugging Face hub cache; see hf_cache.h.
#include "engine/model/hf_cache.h"

#include "engine/util/error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

namespace loralab {
namespace fs = std::filesystem;

namespace {

// An unset and an empty variable mean the same: use the default.
std::string envValue(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

fs::path homeDir()
{
    if (const std::string home = envValue("HOME"); !home.empty()) return home;
    if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
    return "/";
}

// huggingface_hub expands a leading "~" in these variables, so a value
// written for it means the same folder here.
fs::path expandHome(const std::string& path)
{
    if (path == "~") return homeDir();
    if (path.rfind("~/", 0) == 0) return homeDir() / path.substr(2);
    return path;
}

const char* folderPrefix(HubRepoKind kind) { return kind == HubRepoKind::Model ? "models--" : "datasets--"; }
const char* kindWord(HubRepoKind kind) { return kind == HubRepoKind::Model ? "model" : "dataset"; }

struct RepoSpec {
    std::string org;
    std::string name;
    std::string revision; // "" for the default (refs/main)
    std::string repoId() const { return org + "/" + name; }
    std::string folder(HubRepoKind kind) const { return hubRepoFolder(repoId(), kind); }
};

// One part of a repo id as the hub allows it: letters, digits, '-', '_', '.';
// starting with a letter or digit keeps ".", ".." and "./x" out, and "--"
// would make the cache folder name ambiguous.
bool isIdPart(const std::string& s)
{
    if (s.empty() || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
    if (s.find("--") != std::string::npos || s.find("..") != std::string::npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

// A revision is a ref name (which may hold '/', as in "pr/1") or a commit
// hash; it must stay inside refs/ and snapshots/.
bool isRevision(const std::string& s)
{
    if (s.empty() || s.front() == '/') return false;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t end = std::min(s.find('/', start), s.size());
        const std::string part = s.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

std::optional<RepoSpec> parseSpec(const std::string& spec)
{
    const std::size_t at = spec.find('@');
    const std::string id = spec.substr(0, at);
    const std::size_t slash = id.find('/');
    if (slash == std::string::npos) return std::nullopt;
    RepoSpec r{id.substr(0, slash), id.substr(slash + 1), at == std::string::npos ? "" : spec.substr(at + 1)};
    if (!isIdPart(r.org) || !isIdPart(r.name)) return std::nullopt;
    if (at != std::string::npos && !isRevision(r.revision)) return std::nullopt;
    return r;
}

// The commit hash refs/<ref> holds, or "" when there is no such ref.
std::string readRef(const fs::path& repo, const std::string& ref)
{
    std::ifstream in(repo / "refs" / ref);
    std::string hash;
    if (in) in >> hash;
    return hash;
}

// The snapshot refs/main names. Without a main ref (a download of one tag or
// commit only) the newest snapshot stands in; a main that names a missing
// snapshot is a broken download and yields nothing.
} // namespace

std::optional<HubSnapshot> defaultSnapshot(const fs::path& repo)
{
    std::error_code ec;
    if (const std::string main = readRef(repo, "main"); !main.empty()) {
        if (fs::is_directory(repo / "snapshots" / main, ec)) return HubSnapshot{main, repo / "snapshots" / main};
        return std::nullopt;
    }
    std::optional<HubSnapshot> newest;
    fs::file_time_type newestTime{};
    for (const auto& entry : fs::directory_iterator(repo / "snapshots", ec)) {
        if (!entry.is_directory(ec)) continue;
        const auto t = entry.last_write_time(ec);
        if (!newest || t > newestTime) {
            newest = HubSnapshot{entry.path().filename().string(), entry.path()};
            newestTime = t;
        }
    }
    return newest;
}

// Snapshots hold symlinks into blobs/, and two names may share one blob: the
// size is that of the distinct files they lead to.
std::int64_t snapshotSize(const fs::path& dir)
{
    std::set<fs::path> seen;
    std::int64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fileEc;
        if (!fs::is_regular_file(it->path(), fileEc)) continue; // follows the link; dangling ones drop out
        const fs::path real = fs::canonical(it->path(), fileEc);
        if (fileEc || !seen.insert(real).second) continue;
        const auto bytes = fs::file_size(real, fileEc);
        if (!fileEc) total += static_cast<std::int64_t>(bytes);
    }
    return total;
}

namespace {

// A config.json that does not parse still lists the model, as "unknown".
std::string modelType(const fs::path& config)
{
    try {
        std::ifstream in(config);
        const auto j = nlohmann::json::parse(in);
        if (const auto it = j.find("model_type"); j.is_object() && it != j.end() && it->is_string())
            return it->get<std::string>();
    } catch (const std::exception&) {
    }
    return "";
}

bool hasSafetensors(const fs::path& dir)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".safetensors" && fs::is_regular_file(entry.path(), ec)) return true;
    return false;
}

std::string lowered(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

fs::path hfDatasetsCacheDir()
{
    if (const std::string v = envValue("HF_DATASETS_CACHE"); !v.empty()) return expandHome(v);
    if (const std::string v = envValue("HF_HOME"); !v.empty()) return expandHome(v) / "datasets";
    if (const std::string v = envValue("XDG_CACHE_HOME"); !v.empty()) return expandHome(v) / "huggingface" / "datasets";
    return homeDir() / ".cache" / "huggingface" / "datasets";
}

std::string hubRepoFolder(const std::string& repoId, HubRepoKind kind)
{
    const auto slash = repoId.find('/');
    return folderPrefix(kind) + repoId.substr(0, slash) + "--" + repoId.substr(slash + 1);
}

std::string hubRepoIdOfFolder(const std::string& folder, HubRepoKind kind)
{
    const std::string prefix = folderPrefix(kind);
    if (folder.rfind(prefix, 0) != 0) return "";
    const std::string rest = folder.substr(prefix.size());
    const std::size_t sep = rest.find("--");
    if (sep == std::string::npos) return "";
    return rest.substr(0, sep) + "/" + rest.substr(sep + 2);
}

bool repoIdLess(const std::string& a, const std::string& b)
{
    const auto la = lowered(a), lb = lowered(b);
    return la != lb ? la < lb : a < b;
}

fs::path hfCacheDir()
{
    // The order huggingface_hub reads them in; HUGGINGFACE_HUB_CACHE is its older name for HF_HUB_CACHE.
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"})
        if (const std::string v = envValue(name); !v.empty()) return expandHome(v);
    if (const std::string v = envValue("HF_HOME"); !v.empty()) return expandHome(v) / "hub";
    if (const std::string v = envValue("XDG_CACHE_HOME"); !v.empty()) return expandHome(v) / "huggingface" / "hub";
    return homeDir() / ".cache" / "huggingface" / "hub";
}

std::vector<CachedModel> listCachedModels(const fs::path& cache)
{
    std::vector<CachedModel> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cache, ec)) {
        const std::string id = hubRepoIdOfFolder(entry.path().filename().string(), HubRepoKind::Model);
        if (id.empty() || !entry.is_directory(ec)) continue;
        const auto snapshot = defaultSnapshot(entry.path());
        if (!snapshot || !fs::exists(snapshot->dir / "config.json", ec)) continue;
        CachedModel m;
        m.repoId = id;
        m.revision = snapshot->revision;
        m.snapshot = snapshot->dir;
        m.sizeBytes = snapshotSize(snapshot->dir);
        m.architecture = modelType(snapshot->dir / "config.json");
        m.hasWeights = hasSafetensors(snapshot->dir);
        m.hasTokenizer = fs::exists(snapshot->dir / "tokenizer.json", ec) || fs::exists(snapshot->dir / "tokenizer.model", ec);
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) { return repoIdLess(a.repoId, b.repoId); });
    return out;
}

bool isHubRepoSpec(const std::string& spec)
{
    std::error_code ec;
    return parseSpec(spec).has_value() && !fs::exists(spec, ec);
}

bool isHubModelSpec(const std::string& spec) { return isHubRepoSpec(spec); }

std::string hubRepoId(const std::string& spec)
{
    const auto r = parseSpec(spec);
    return r ? r->repoId() : "";
}

std::string hubRevision(const std::string& spec)
{
    const auto r = parseSpec(spec);
    return r ? r->revision : "";
}

fs::path resolveCachedSnapshot(const std::string& spec, HubRepoKind kind, const fs::path& cache)
{
    const char* what = kindWord(kind);
    const auto r = parseSpec(spec);
    if (!r) throw Error("'" + spec + "' is not a Hugging Face " + what + " id (Org/Name or Org/Name@revision)");
    const fs::path repo = cache / r->folder(kind);
    const std::string fix = "download it with `huggingface-cli download " + r->repoId() +
                            (kind == HubRepoKind::Dataset ? " --repo-type dataset" : "") +
                            (r->revision.empty() ? "" : " --revision " + r->revision) + "`, or give " +
                            (kind == HubRepoKind::Model ? "a model folder" : "a dataset file");
    std::error_code ec;
    if (!fs::is_directory(repo, ec))
        throw Error(std::string(what) + " '" + r->repoId() + "' is not in the Hugging Face cache " + cache.string() + " (no " +
                    r->folder(kind) + " there); " + fix);
    if (r->revision.empty()) {
        if (const auto snapshot = defaultSnapshot(repo)) return snapshot->dir;
        throw Error(std::string(what) + " '" + r->repoId() + "' has no usable snapshot in the Hugging Face cache: " + repo.string() +
                    " has neither refs/main naming a folder in snapshots/ nor, without refs/main, any snapshot; " + fix);
    }
    // A ref name first (main, a branch, a tag), as huggingface_hub resolves it; then a commit hash.
    if (const std::string hash = readRef(repo, r->revision); !hash.empty()) {
        if (fs::is_directory(repo / "snapshots" / hash, ec)) return repo / "snapshots" / hash;
        throw Error(std::string(what) + " '" + spec + "': refs/" + r->revision + " in " + repo.string() + " names snapshot " + hash +
                    ", which is not in snapshots/; " + fix);
    }
    if (fs::is_directory(repo / "snapshots" / r->revision, ec)) return repo / "snapshots" / r->revision;
    throw Error(std::string(what) + " '" + spec + "' is not in the Hugging Face cache " + cache.string() + " (" + r->folder(kind) +
                " has neither refs/" + r->revision + " nor snapshots/" + r->revision + "); " + fix);
}

fs::path resolveCachedModel(const std::string& spec) { return resolveCachedSnapshot(spec, HubRepoKind::Model, hfCacheDir()); }

} // namespace loralab
