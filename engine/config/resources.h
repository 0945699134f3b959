// Where LoRA Lab finds what it ships: the embedded default model and datasets.
// Looked up in $LORALAB_RESOURCES, then beside an installed binary
// (<prefix>/share/loralab), then in the source tree the binary was built from.
#pragma once

#include <filesystem>
#include <string>

namespace loralab {

std::filesystem::path resourceDir();

// "default" -> the embedded model directory; "Org/Name[@revision]" that is not
// a path on disk -> its snapshot folder in the Hugging Face cache (see
// hf_cache.h; throws Error when it is not there); anything else (a model
// folder, preset:<name>) is returned as is.
std::string resolveModelSpec(const std::string& spec);

struct DatasetFiles {
    std::string train;
    std::string validation; // may be empty
    std::string test;       // may be empty
};

// "default:dialogues" / "default:wikitext" -> the embedded files; a path ->
// that file, with `validation` as given.
DatasetFiles resolveDatasetSpec(const std::string& spec, const std::string& validation);

} // namespace loralab
