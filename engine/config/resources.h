// Where LoRA Lab finds what it ships: the embedded default model and datasets.
// Looked up in $LORALAB_RESOURCES, then beside an installed binary
// (<prefix>/share/loralab), then in the source tree the binary was built from.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

std::filesystem::path resourceDir();

// "default" -> the embedded model directory; "Org/Name[@revision]" that is not
// a path on disk -> its snapshot folder in the Hugging Face cache (see
// hf_cache.h; throws Error when it is not there); anything else (a model
// folder, preset:<name>) is returned as is.
std::string resolveModelSpec(const std::string& spec);

// The files of one part of a dataset (one file, or a split's shards) and the
// name messages give it.
struct DatasetPart {
    std::string label;
    std::vector<std::filesystem::path> files;

    bool empty() const { return files.empty(); }
    // The one file; an Error for a split of several (a tool that reads one file).
    std::string single(const std::string& what) const;
};

struct DatasetFiles {
    DatasetPart train;
    DatasetPart validation; // may be empty: held out of train
    DatasetPart test;       // may be empty
    std::string source;     // "Org/Name <config> (rev <hash>) from <snapshot>" for a cached dataset; "" for files
};

// What a run names as its data (see RunConfig's dataset options).
struct DatasetRequest {
    std::string spec;            // a file, default:dialogues, default:wikitext, Org/Name[@revision]
    std::string config;          // cached datasets: the configuration ("" the default)
    std::string dataDir;         // cached datasets: the folder
    std::string split = "train"; // cached datasets: the training split
    std::string validationSplit; // cached datasets: "" for "validation" when there is one
    std::string validationFile;  // a validation file, for any spec
};

struct RunConfig;
// The request a run's dataset options make.
DatasetRequest datasetRequest(const RunConfig& config);

// "default:dialogues" / "default:wikitext" -> the embedded files;
// "Org/Name[@revision]" that is not a path on disk and is in the Hugging
// Face hub or datasets cache -> its split's files (see hub_datasets.h);
// a path -> that file. Throws Error naming what is missing and what exists.
DatasetFiles resolveDatasets(const DatasetRequest& request);
// The same for a spec and an optional validation file.
DatasetFiles resolveDatasetSpec(const std::string& spec, const std::string& validation);

} // namespace loralab
