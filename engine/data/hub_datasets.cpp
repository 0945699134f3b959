// Datasets from the Hugging Face caches; see hub_datasets.h.
#include "engine/data/hub_datasets.h"

#include "engine/data/dataset_card.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace loralab {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "none" : out;
}

// A card's value as JSON text; bytes that are not UTF-8 become U+FFFD
// rather than an exception.
std::string shown(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---- Files and split names --------------------------------------------------

// Every file under `base` (a path relative to `root`, "" for all of it),
// relative to that folder with '/' separators, sorted; hidden files and folders
// (".git", ".cache") and __special__ folders are left out, as the `datasets`
// library leaves them.
std::vector<std::string> filesUnder(const fs::path& root, const std::string& base)
{
    std::vector<std::string> out;
    std::error_code ec;
    const fs::path start = base.empty() ? root : root / base;
    if (!fs::is_directory(start, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(start, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.front() == '.' || (startsWith(name, "__") && endsWith(name, "__"))) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        std::error_code fileEc;
        if (!fs::is_regular_file(it->path(), fileEc)) continue;
        out.push_back(it->path().lexically_relative(start).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Files the `datasets` library takes for data: its readers' extensions,
// compressed or not. A card, a script and .gitattributes are not data.
bool isDataFile(const std::string& relative)
{
    std::string name = relative.substr(relative.rfind('/') + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* c : {".gz", ".zst", ".bz2", ".xz", ".zip"})
        if (endsWith(name, c)) name = name.substr(0, name.size() - std::string(c).size());
    for (const char* e : {".parquet", ".arrow", ".jsonl", ".json", ".txt", ".csv", ".tsv"})
        if (endsWith(name, e)) return true;
    return false;
}

std::vector<std::string> dataFilesUnder(const fs::path& root, const std::string& base)
{
    std::vector<std::string> files = filesUnder(root, base);
    files.erase(std::remove_if(files.begin(), files.end(), [](const std::string& f) { return !isDataFile(f); }), files.end());
    return files;
}

struct SplitWords {
    const char* split;
    std::vector<const char*> words;
};
const std::vector<SplitWords>& splitWords()
{
    static const std::vector<SplitWords> all = {{"train", {"train", "training"}},
                                                {"validation", {"validation", "valid", "dev", "val"}},
                                                {"test", {"test", "testing", "eval", "evaluation"}}};
    return all;
}

const char* const kSep = "[-._ 0-9]";

// A folder of the path (after `base`) named for the word: "train/",
// "train-set/", "my.train/".
bool wordInFolder(const std::string& relative, const std::string& word)
{
    const std::regex re(std::string("^(.*") + kSep + "|.*/)?" + word + "(" + kSep + "[^/]*)?/.*$");
    return std::regex_match(relative, re);
}

// The file's name holds the word: "train.jsonl", "wiki.train.raw", "test-00000-of-00001.parquet".
bool wordInFileName(const std::string& relative, const std::string& word)
{
    const std::regex re(std::string("^(.*") + kSep + "|.*/)?" + word + kSep + "[^/]*$");
    return std::regex_match(relative, re);
}

// Splits by the files' names, as the `datasets` library infers them; paths
// are relative to `base`.
std::vector<HubDatasetSplit> splitsByName(const fs::path& root, const std::string& base, const std::vector<std::string>& relative)
{
    std::vector<HubDatasetSplit> out;
    const fs::path dir = base.empty() ? root : root / base;
    // The hub's own layout: data/<split>-00000-of-00003.<ext>, any split name.
    {
        const std::regex sharded(R"(^data/(\w+(?:\.\w+)*)-[0-9]{5}-of-[0-9]{5}[^/]*\.[^/]*$)");
        std::map<std::string, std::vector<fs::path>> found;
        for (const auto& f : relative) {
            std::smatch m;
            if (std::regex_match(f, m, sharded)) found[m[1].str()].push_back(dir / f);
        }
        if (!found.empty()) {
            for (const auto& w : splitWords())
                if (found.count(w.split)) {
                    out.push_back({w.split, found[w.split]});
                    found.erase(w.split);
                }
            for (auto& [name, files] : found) out.push_back({name, files});
            return out;
        }
    }
    for (const auto match : {wordInFolder, wordInFileName}) {
        for (const auto& w : splitWords()) {
            // A split's files are those of its first word that matches any.
            for (const char* word : w.words) {
                std::vector<fs::path> files;
                for (const auto& f : relative)
                    if (match(f, word)) files.push_back(dir / f);
                if (!files.empty()) {
                    out.push_back({w.split, files});
                    break;
                }
            }
        }
        if (!out.empty()) return out;
    }
    if (!relative.empty()) {
        HubDatasetSplit all{"train", {}};
        for (const auto& f : relative) all.files.push_back(dir / f);
        out.push_back(all);
    }
    return out;
}

// The files one data_files pattern (or list of them) matches under base.
std::vector<fs::path> filesOfPatterns(const fs::path& root, const std::string& base, const Json& patterns,
                                      const std::vector<std::string>& relative, const std::string& card, const std::string& what)
{
    std::vector<std::string> list;
    if (patterns.is_string()) list.push_back(patterns.get<std::string>());
    else if (patterns.is_array())
        for (const auto& p : patterns) {
            if (!p.is_string()) throw fileError(card, what + " lists " + shown(p) + ", which is not a file pattern");
            list.push_back(p.get<std::string>());
        }
    else throw fileError(card, what + " is " + shown(patterns) + ", neither a file pattern nor a list of them");
    std::vector<fs::path> out;
    const fs::path dir = base.empty() ? root : root / base;
    for (std::string pattern : list) {
        if (startsWith(pattern, "./")) pattern = pattern.substr(2);
        std::vector<fs::path> matched;
        for (const auto& f : relative)
            if (globMatch(pattern, f)) matched.push_back(dir / f);
        out.insert(out.end(), matched.begin(), matched.end());
    }
    return out;
}

// One configuration of the card: its splits' files.
HubDatasetConfig cardConfig(const fs::path& root, const Json& entry, const std::string& card, std::size_t index)
{
    if (!entry.is_object()) throw fileError(card, "configs[" + std::to_string(index) + "] is not a mapping");
    HubDatasetConfig c;
    c.name = entry.contains("config_name") && entry["config_name"].is_string() ? entry["config_name"].get<std::string>() : "default";
    c.isDefault = entry.contains("default") && entry["default"].is_boolean() && entry["default"].get<bool>();
    if (entry.contains("data_dir") && entry["data_dir"].is_string()) c.dataDir = entry["data_dir"].get<std::string>();
    const std::vector<std::string> relative = dataFilesUnder(root, c.dataDir);
    const std::string what = "config " + c.name + ": data_files";
    if (!entry.contains("data_files") || entry["data_files"].is_null()) {
        c.splits = splitsByName(root, c.dataDir, relative);
        return c;
    }
    const Json& files = entry["data_files"];
    const auto add = [&](const std::string& split, const Json& patterns) {
        HubDatasetSplit s{split, filesOfPatterns(root, c.dataDir, patterns, relative, card, what + " (" + split + ")")};
        c.splits.push_back(std::move(s));
    };
    if (files.is_string()) add("train", files);
    else if (files.is_array() && std::all_of(files.begin(), files.end(), [](const Json& f) { return f.is_string(); })) add("train", files);
    else if (files.is_array())
        for (const auto& f : files) {
            if (!f.is_object() || !f.contains("path"))
                throw fileError(card, what + " has the entry " + shown(f) + ", which is not {split, path}");
            add(f.contains("split") && f["split"].is_string() ? f["split"].get<std::string>() : "train", f["path"]);
        }
    else if (files.is_object())
        for (const auto& [split, patterns] : files.items()) add(split, patterns);
    else throw fileError(card, what + " is " + shown(files) + ", not a pattern, a list or a mapping of splits");
    return c;
}

// Top-level folders that hold data files: the data_dir values a repository
// without card configurations offers.
std::vector<std::string> dataFolders(const fs::path& root)
{
    std::set<std::string> out;
    for (const auto& f : dataFilesUnder(root, ""))
        if (const auto slash = f.find('/'); slash != std::string::npos) out.insert(f.substr(0, slash));
    return {out.begin(), out.end()};
}

void finishConfigs(HubDataset& d)
{
    if (d.configs.size() == 1) d.configs.front().isDefault = true;
    if (std::none_of(d.configs.begin(), d.configs.end(), [](const HubDatasetConfig& c) { return c.isDefault; }))
        for (auto& c : d.configs)
            if (c.name == "default") c.isDefault = true;
}

// A snapshot's configurations, by its card or by its files' names.
HubDataset fromSnapshot(const std::string& repoId, const HubSnapshot& snapshot, const std::string& dataDir)
{
    HubDataset d;
    d.repoId = repoId;
    d.revision = snapshot.revision;
    d.root = snapshot.dir;
    d.sizeBytes = snapshotSize(snapshot.dir);
    const fs::path card = snapshot.dir / "README.md";
    std::error_code ec;
    Json configs;
    if (fs::is_regular_file(card, ec)) configs = Json::parse(cardConfigsJson(readTextFile(card), card.string()));
    // A data_dir sets the card's configurations aside, as the `datasets`
    // library does: the folder's files are read by their names.
    if (configs.is_array() && !configs.empty() && dataDir.empty()) {
        d.fromCard = true;
        for (std::size_t i = 0; i < configs.size(); ++i) d.configs.push_back(cardConfig(snapshot.dir, configs[i], card.string(), i));
    } else {
        d.dataDirs = dataFolders(snapshot.dir);
        if (!dataDir.empty() && !fs::is_directory(snapshot.dir / dataDir, ec))
            throw Error("dataset '" + repoId + "' has no data_dir '" + dataDir + "' (" + (snapshot.dir / dataDir).string() +
                        " is not a folder); its folders with data are " + joined(d.dataDirs));
        HubDatasetConfig c;
        c.name = "default";
        c.dataDir = dataDir;
        c.splits = splitsByName(snapshot.dir, dataDir, dataFilesUnder(snapshot.dir, dataDir));
        d.configs.push_back(std::move(c));
    }
    for (auto& c : d.configs)
        c.splits.erase(std::remove_if(c.splits.begin(), c.splits.end(), [](const HubDatasetSplit& s) { return s.files.empty(); }),
                       c.splits.end());
    finishConfigs(d);
    return d;
}

// ---- The `datasets` library's Arrow cache -----------------------------------

// <arrow>/<org>___<name>/<config>/<version>/<fingerprint>/: the newest
// fingerprint folder with a dataset_info.json, per configuration.
HubDataset fromArrowCache(const std::string& repoId, const fs::path& repoDir)
{
    HubDataset d;
    d.repoId = repoId;
    d.root = repoDir;
    d.arrowCache = true;
    std::error_code ec;
    std::vector<fs::path> configDirs;
    for (const auto& e : fs::directory_iterator(repoDir, ec))
        if (e.is_directory(ec)) configDirs.push_back(e.path());
    std::sort(configDirs.begin(), configDirs.end());
    for (const auto& configDir : configDirs) {
        fs::path newest;
        fs::file_time_type newestTime{};
        for (const auto& version : fs::directory_iterator(configDir, ec)) {
            if (!version.is_directory(ec)) continue;
            for (const auto& fp : fs::directory_iterator(version.path(), ec)) {
                if (!fp.is_directory(ec) || !fs::exists(fp.path() / "dataset_info.json", ec)) continue;
                const auto t = fs::last_write_time(fp.path() / "dataset_info.json", ec);
                if (newest.empty() || t > newestTime) {
                    newest = fp.path();
                    newestTime = t;
                }
            }
        }
        if (newest.empty()) continue;
        // Named by its folder: a configuration prepared with a data_dir
        // carries a hash there ("default-4f3c..."), which tells it apart.
        HubDatasetConfig c;
        c.name = configDir.filename().string();
        std::vector<std::string> splitOrder;
        try {
            const Json info = Json::parse(readTextFile(newest / "dataset_info.json"));
            if (info.contains("splits") && info["splits"].is_object())
                for (const auto& [name, value] : info["splits"].items()) splitOrder.push_back(name);
        } catch (const std::exception&) {
            continue; // a half-written cache entry: the `datasets` library would prepare it again
        }
        const std::vector<std::string> files = filesUnder(newest, "");
        for (const auto& split : splitOrder) {
            const std::regex re("^[^/]*-" + std::regex_replace(split, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                "(-[0-9]{5}-of-[0-9]{5})?\\.arrow$");
            HubDatasetSplit s{split, {}};
            for (const auto& f : files)
                if (std::regex_match(f, re)) s.files.push_back(newest / f);
            if (!s.files.empty()) c.splits.push_back(std::move(s));
        }
        if (c.splits.empty()) continue;
        d.revision = newest.filename().string();
        d.sizeBytes += snapshotSize(newest);
        d.configs.push_back(std::move(c));
    }
    finishConfigs(d);
    return d;
}

std::string hubFolder(const std::string& repoId) { return hubRepoFolder(repoId, HubRepoKind::Dataset); }

// "Org/Name" -> its folder in the `datasets` library's Arrow cache.
std::string arrowFolder(const std::string& repoId)
{
    const auto slash = repoId.find('/');
    return repoId.substr(0, slash) + "___" + repoId.substr(slash + 1);
}

} // namespace

const HubDatasetSplit* HubDatasetConfig::split(const std::string& wanted) const
{
    for (const auto& s : splits)
        if (s.name == wanted) return &s;
    return nullptr;
}

std::vector<std::string> HubDatasetConfig::splitNames() const
{
    std::vector<std::string> out;
    for (const auto& s : splits) out.push_back(s.name);
    return out;
}

std::vector<std::string> HubDataset::configNames() const
{
    std::vector<std::string> out;
    for (const auto& c : configs) out.push_back(c.name);
    return out;
}

const HubDatasetConfig& HubDataset::config(const std::string& name) const
{
    if (name.empty()) {
        for (const auto& c : configs)
            if (c.isDefault) return c;
        throw Error("dataset '" + repoId + "' has several configurations and none is the default; name one with dataset_config: " +
                    joined(configNames()));
    }
    for (const auto& c : configs)
        if (c.name == name) return c;
    throw Error("dataset '" + repoId + "' has no configuration '" + name + "'; its configurations are " + joined(configNames()));
}

const HubDatasetSplit& pickSplit(const HubDataset& dataset, const HubDatasetConfig& config, const std::string& split)
{
    if (const HubDatasetSplit* s = config.split(split)) return *s;
    throw Error("dataset '" + dataset.repoId + "' (configuration " + config.name +
                (config.dataDir.empty() ? "" : ", data_dir " + config.dataDir) + ") has no split '" + split + "'; its splits are " +
                joined(config.splitNames()));
}

std::vector<HubDataset> listCachedDatasets(const fs::path& hub, const fs::path& arrow)
{
    std::vector<HubDataset> out;
    std::set<std::string> seen;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(hub, ec)) {
        const std::string id = hubRepoIdOfFolder(entry.path().filename().string(), HubRepoKind::Dataset);
        if (id.empty() || !entry.is_directory(ec)) continue;
        const auto snapshot = defaultSnapshot(entry.path());
        if (!snapshot) continue;
        try {
            HubDataset d = fromSnapshot(id, *snapshot, "");
            if (d.configs.empty() || std::all_of(d.configs.begin(), d.configs.end(), [](const HubDatasetConfig& c) { return c.splits.empty(); }))
                continue;
            seen.insert(id);
            out.push_back(std::move(d));
        } catch (const Error&) {
            continue; // a card it cannot read: not offered in the list; naming it gives the reason
        }
    }
    for (const auto& entry : fs::directory_iterator(arrow, ec)) {
        const std::string folder = entry.path().filename().string();
        const std::size_t sep = folder.find("___");
        if (sep == std::string::npos || !entry.is_directory(ec)) continue;
        const std::string id = folder.substr(0, sep) + "/" + folder.substr(sep + 3);
        if (seen.count(id)) continue;
        HubDataset d = fromArrowCache(id, entry.path());
        if (!d.configs.empty()) out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(), [](const HubDataset& a, const HubDataset& b) { return repoIdLess(a.repoId, b.repoId); });
    return out;
}

HubDataset findCachedDataset(const std::string& spec, const std::string& dataDir, const fs::path& hub, const fs::path& arrow)
{
    const std::string id = hubRepoId(spec);
    if (id.empty()) throw Error("'" + spec + "' is not a Hugging Face dataset id (Org/Name or Org/Name@revision)");
    std::error_code ec;
    const bool inHub = fs::is_directory(hub / hubFolder(id), ec);
    const fs::path arrowDir = arrow / arrowFolder(id);
    if (!inHub && hubRevision(spec).empty() && fs::is_directory(arrowDir, ec)) {
        HubDataset d = fromArrowCache(id, arrowDir);
        if (d.configs.empty())
            throw Error("dataset '" + id + "' has no prepared split in the datasets cache " + arrowDir.string() +
                        " (no dataset_info.json beside .arrow files)");
        if (!dataDir.empty())
            throw Error("dataset '" + id + "' is only in the datasets library's Arrow cache (" + arrowDir.string() +
                        "), where data_dir " + dataDir + " cannot be told apart; name its configuration instead: " +
                        joined(d.configNames()));
        return d;
    }
    if (!inHub)
        throw Error("dataset '" + id + "' is in neither the Hugging Face hub cache " + hub.string() + " (no " + hubFolder(id) +
                    ") nor the datasets cache " + arrow.string() + " (no " + arrowFolder(id) +
                    "); download it with `huggingface-cli download " + id + " --repo-type dataset`, or give a dataset file");
    const fs::path snapshot = resolveCachedSnapshot(spec, HubRepoKind::Dataset, hub);
    return fromSnapshot(id, HubSnapshot{snapshot.filename().string(), snapshot}, dataDir);
}

HubDataset findCachedDataset(const std::string& spec, const std::string& dataDir)
{
    return findCachedDataset(spec, dataDir, hfCacheDir(), hfDatasetsCacheDir());
}

bool isCachedDatasetSpec(const std::string& spec)
{
    if (!isHubRepoSpec(spec)) return false;
    const std::string id = hubRepoId(spec);
    std::error_code ec;
    return fs::is_directory(hfCacheDir() / hubFolder(id), ec) || fs::is_directory(hfDatasetsCacheDir() / arrowFolder(id), ec);
}

} // namespace loralab
