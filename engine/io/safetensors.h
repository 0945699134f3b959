// Reading and writing safetensors files as LibTorch tensors, and the weights
// of a Hugging Face model directory (one model.safetensors, or shards listed in
// model.safetensors.index.json). Files are memory-mapped and tensors converted
// one at a time, so loading never holds two full copies of a checkpoint.
#pragma once

#include "engine/io/safetensors_format.h"
#include "engine/util/files.h"

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);

    const std::string& path() const { return m_file.path(); }
    const StHeader& header() const { return m_header; }
    const StTensorEntry* find(const std::string& name) const;
    bool contains(const std::string& name) const { return find(name) != nullptr; }
    std::vector<std::string> names() const;

    // A fresh tensor that owns its memory, converted to `as` when given.
    torch::Tensor load(const std::string& name, std::optional<torch::ScalarType> as = std::nullopt) const;

private:
    MappedFile m_file;
    StHeader m_header;
    std::map<std::string, std::size_t> m_index;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes the tensors (any device, any layout) atomically, in the given order.
void saveSafetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                     const std::map<std::string, std::string>& metadata = {});

// Every tensor of a file, in file order.
NamedTensors loadSafetensors(const std::filesystem::path& path, std::optional<torch::ScalarType> as = std::nullopt);

torch::ScalarType toScalarType(StDType dtype);
StDType toStDType(torch::ScalarType type);

// The weights of a model directory.
class CheckpointWeights {
public:
    explicit CheckpointWeights(const std::filesystem::path& dir);

    std::vector<std::string> names() const;
    bool contains(const std::string& name) const { return m_where.count(name) != 0; }
    // The file that holds a weight (for messages), or "" when absent.
    std::string fileOf(const std::string& name) const;
    const StTensorEntry& entry(const std::string& name) const;
    torch::Tensor load(const std::string& name, std::optional<torch::ScalarType> as = std::nullopt) const;
    // The dtype most weights are stored in ("F16", "BF16", "F32").
    StDType storedDType() const;

private:
    std::vector<std::unique_ptr<SafetensorsFile>> m_files;
    std::map<std::string, std::size_t> m_where; // weight name -> index into m_files
};

} // namespace loralab
