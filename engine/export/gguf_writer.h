// GGUF v3 files, the model format of llama.cpp and Ollama: a header (magic
// "GGUF", version 3, tensor count, metadata key/value count), typed metadata
// key/values, tensor infos (name, dimensions innermost first, ggml type,
// offset), then each tensor's data at a multiple of general.alignment. Tensor
// types F32, F16 and Q8_0 (blocks of 32 values: an fp16 scale d and 32 int8
// q, value = d * q, as ggml defines it). No LibTorch here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

constexpr std::uint32_t kGgufVersion = 3;
constexpr std::uint32_t kGgufDefaultAlignment = 32;
constexpr std::int64_t kQ8BlockSize = 32;   // values per Q8_0 block
constexpr std::size_t kQ8BlockBytes = 34;   // fp16 scale + 32 int8

// ggml's type numbers, as stored in tensor infos.
enum class GgmlType : std::uint32_t { F32 = 0, F16 = 1, Q8_0 = 8 };
const char* ggmlTypeName(GgmlType type); // "F32", "F16", "Q8_0"

// IEEE binary16 with round-to-nearest-even (subnormals kept, overflow to
// infinity), as numpy's and LibTorch's casts give it.
std::uint16_t floatToHalf(float value);
float halfToFloat(std::uint16_t bits);

// Quantizes `count` values (a multiple of 32) into count / 32 blocks at
// `out`: d = max|x| / 127 stored as fp16, q = round(x / d) (half away from
// zero), as ggml's reference quantize_row_q8_0 does.
void quantizeQ8_0(const float* values, std::size_t count, std::uint8_t* out);

// Bytes a tensor of `elements` values takes in `type`.
std::size_t ggmlBytes(GgmlType type, std::int64_t elements);

class GgufWriter {
public:
    // Values of one tensor in row-major order (PyTorch's), called once while
    // the file is written, so only one tensor is held in memory at a time.
    using TensorValues = std::function<std::vector<float>()>;

    // `alignment` must be a positive multiple of 8; it is written as general.alignment.
    explicit GgufWriter(std::uint32_t alignment = kGgufDefaultAlignment);

    // Metadata, in the order added; a key given twice is an Error.
    void addUint32(const std::string& key, std::uint32_t value);
    void addInt32(const std::string& key, std::int32_t value);
    void addFloat32(const std::string& key, float value);
    void addBool(const std::string& key, bool value);
    void addString(const std::string& key, const std::string& value);
    void addStringArray(const std::string& key, const std::vector<std::string>& values);
    void addInt32Array(const std::string& key, const std::vector<std::int32_t>& values);
    void addFloat32Array(const std::string& key, const std::vector<float>& values);

    // `shape` in PyTorch order, outermost first ([out, in] for a Linear
    // weight); the file stores it innermost first, as ggml's ne[]. Q8_0 needs
    // an innermost dimension that is a multiple of 32.
    void addTensor(const std::string& name, const std::vector<std::int64_t>& shape, GgmlType type, TensorValues values);

    std::size_t tensorCount() const { return m_tensors.size(); }
    bool hasKey(const std::string& key) const;

    // Writes the file under a temporary name beside `path` and renames it
    // into place: the file is whole or absent. Errors name the path (and the
    // tensor whose values are wrong).
    void write(const std::filesystem::path& path) const;

private:
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> shape;
        GgmlType type = GgmlType::F32;
        TensorValues values;
        std::int64_t elements = 0;
    };
    void addKey(const std::string& key, std::uint32_t valueType, std::string valueBytes);

    std::uint32_t m_alignment;
    std::vector<std::pair<std::string, std::string>> m_metadata; // key, encoded value type + value
    std::vector<Tensor> m_tensors;
};

} // namespace loralab
