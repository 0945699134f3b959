// Locating shipped resources; see resources.h.
#include "engine/config/resources.h"

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

DatasetFiles resolveDatasetSpec(const std::string& spec, const std::string& validation)
{
    if (spec == "default:dialogues") {
        const fs::path d = resourceDir() / "data" / "dialogues";
        return {(d / "train.jsonl").string(), validation, (d / "test.jsonl").string()};
    }
    if (spec == "default:wikitext") {
        const fs::path d = resourceDir() / "data" / "wikitext";
        return {(d / "wiki.train.raw").string(), validation.empty() ? (d / "wiki.valid.raw").string() : validation,
                (d / "wiki.test.raw").string()};
    }
    if (spec.rfind("default:", 0) == 0)
        throw Error("unknown embedded dataset '" + spec + "' (default:dialogues or default:wikitext)");
    return {spec, validation, ""};
}

} // namespace loralab
