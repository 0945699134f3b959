// safetensors <-> LibTorch; see safetensors.h.
#include "engine/io/safetensors.h"

#include "engine/util/error.h"
#include "engine/util/json_file.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace loralab {

torch::ScalarType toScalarType(StDType dtype)
{
    switch (dtype) {
    case StDType::F64: return torch::kFloat64;
    case StDType::F32: return torch::kFloat32;
    case StDType::F16: return torch::kFloat16;
    case StDType::BF16: return torch::kBFloat16;
    case StDType::I64: return torch::kInt64;
    case StDType::I32: return torch::kInt32;
    case StDType::I16: return torch::kInt16;
    case StDType::I8: return torch::kInt8;
    case StDType::U8: return torch::kUInt8;
    case StDType::Bool: return torch::kBool;
    }
    throw Error("internal: unknown safetensors dtype");
}

StDType toStDType(torch::ScalarType type)
{
    switch (type) {
    case torch::kFloat64: return StDType::F64;
    case torch::kFloat32: return StDType::F32;
    case torch::kFloat16: return StDType::F16;
    case torch::kBFloat16: return StDType::BF16;
    case torch::kInt64: return StDType::I64;
    case torch::kInt32: return StDType::I32;
    case torch::kInt16: return StDType::I16;
    case torch::kInt8: return StDType::I8;
    case torch::kUInt8: return StDType::U8;
    case torch::kBool: return StDType::Bool;
    default: throw Error(std::string("safetensors cannot store tensors of type ") + c10::toString(type));
    }
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : m_file(path), m_header(parseSafetensorsHeader(m_file.data(), m_file.size(), m_file.path()))
{
    for (std::size_t i = 0; i < m_header.tensors.size(); ++i) m_index[m_header.tensors[i].name] = i;
}

const StTensorEntry* SafetensorsFile::find(const std::string& name) const
{
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_header.tensors[it->second];
}

std::vector<std::string> SafetensorsFile::names() const
{
    std::vector<std::string> out;
    for (const auto& t : m_header.tensors) out.push_back(t.name);
    return out;
}

torch::Tensor SafetensorsFile::load(const std::string& name, std::optional<torch::ScalarType> as) const
{
    const StTensorEntry* entry = find(name);
    if (!entry) throw fileError(path(), "has no tensor '" + name + "'");
    const auto stored = toScalarType(entry->dtype);
    const std::uint8_t* bytes = m_file.data() + m_header.dataOffset + entry->begin;
    const std::size_t length = entry->end - entry->begin;
    // Copy into memory LibTorch owns (the map may be unaligned and is read-only),
    // then convert; only one tensor is ever held twice.
    torch::Tensor raw = torch::empty(entry->shape, torch::TensorOptions().dtype(stored));
    if (length > 0) std::memcpy(raw.data_ptr(), bytes, length);
    m_file.release(m_header.dataOffset + entry->begin, length);
    if (as && *as != stored) return raw.to(*as);
    return raw;
}

NamedTensors loadSafetensors(const std::filesystem::path& path, std::optional<torch::ScalarType> as)
{
    SafetensorsFile file(path);
    NamedTensors out;
    for (const auto& t : file.header().tensors) out.emplace_back(t.name, file.load(t.name, as));
    return out;
}

void saveSafetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                     const std::map<std::string, std::string>& metadata)
{
    std::vector<StTensorEntry> entries;
    std::vector<torch::Tensor> contiguous;
    for (const auto& [name, tensor] : tensors) {
        StTensorEntry e;
        e.name = name;
        e.dtype = toStDType(tensor.scalar_type());
        e.shape = tensor.sizes().vec();
        entries.push_back(e);
    }
    const std::string header = buildSafetensorsHeader(entries, metadata);
    AtomicFileWriter writer(path);
    writer.write(header.data(), header.size());
    for (const auto& [name, tensor] : tensors) {
        const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        writer.write(t.data_ptr(), t.numel() * t.element_size());
    }
    writer.commit();
}

CheckpointWeights::CheckpointWeights(const std::filesystem::path& dir)
{
    const auto index = dir / "model.safetensors.index.json";
    const auto single = dir / "model.safetensors";
    if (std::filesystem::exists(index)) {
        const auto json = parseJsonObject(readTextFile(index), index.string());
        if (!json.contains("weight_map") || !json["weight_map"].is_object())
            throw fileError(index.string(), "has no weight_map object");
        std::map<std::string, std::size_t> fileIndex;
        for (auto it = json["weight_map"].begin(); it != json["weight_map"].end(); ++it) {
            if (!it->is_string()) throw fileError(index.string(), "weight_map entry '" + it.key() + "' is not a file name");
            const auto shard = it->get<std::string>();
            if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
                throw fileError(index.string(), "shard name '" + shard + "' leaves the model directory");
            if (!fileIndex.count(shard)) {
                const auto shardPath = dir / shard;
                if (!std::filesystem::exists(shardPath))
                    throw fileError(index.string(), "lists shard '" + shard + "', which is missing from " + dir.string());
                fileIndex[shard] = m_files.size();
                m_files.push_back(std::make_unique<SafetensorsFile>(shardPath));
            }
            const std::size_t fi = fileIndex[shard];
            if (!m_files[fi]->contains(it.key()))
                throw fileError(m_files[fi]->path(), "lacks tensor '" + it.key() + "' that " + index.filename().string() + " places there");
            m_where[it.key()] = fi;
        }
    } else if (std::filesystem::exists(single)) {
        m_files.push_back(std::make_unique<SafetensorsFile>(single));
        for (const auto& name : m_files[0]->names()) m_where[name] = 0;
    } else {
        throw fileError(dir.string(), "no model.safetensors or model.safetensors.index.json in this directory "
                                      "(only safetensors checkpoints are supported)");
    }
}

std::vector<std::string> CheckpointWeights::names() const
{
    std::vector<std::string> out;
    for (const auto& [name, file] : m_where) out.push_back(name);
    return out;
}

std::string CheckpointWeights::fileOf(const std::string& name) const
{
    const auto it = m_where.find(name);
    return it == m_where.end() ? "" : m_files[it->second]->path();
}

const StTensorEntry& CheckpointWeights::entry(const std::string& name) const
{
    const auto it = m_where.find(name);
    if (it == m_where.end()) throw Error("checkpoint has no weight '" + name + "'");
    return *m_files[it->second]->find(name);
}

torch::Tensor CheckpointWeights::load(const std::string& name, std::optional<torch::ScalarType> as) const
{
    const auto it = m_where.find(name);
    if (it == m_where.end()) throw Error("checkpoint has no weight '" + name + "'");
    return m_files[it->second]->load(name, as);
}

StDType CheckpointWeights::storedDType() const
{
    std::map<StDType, std::uint64_t> bytes;
    for (const auto& f : m_files)
        for (const auto& t : f->header().tensors) bytes[t.dtype] += t.end - t.begin;
    StDType best = StDType::F32;
    std::uint64_t most = 0;
    for (const auto& [dtype, n] : bytes)
        if (n > most) most = n, best = dtype;
    return best;
}

} // namespace loralab
