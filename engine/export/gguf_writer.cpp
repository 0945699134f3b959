// GGUF v3 writer; see gguf_writer.h. Everything is little-endian, strings are
// a uint64 byte count followed by UTF-8 bytes (no terminator), and tensor
// offsets count from the start of the data section.
#include "engine/export/gguf_writer.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace loralab {
namespace {

constexpr std::uint32_t kGgufMagic = 0x46554747; // "GGUF" read as a little-endian uint32

// gguf value types
constexpr std::uint32_t kTypeUint32 = 4;
constexpr std::uint32_t kTypeInt32 = 5;
constexpr std::uint32_t kTypeFloat32 = 6;
constexpr std::uint32_t kTypeBool = 7;
constexpr std::uint32_t kTypeString = 8;
constexpr std::uint32_t kTypeArray = 9;

template <typename T>
void put(std::string& out, T value)
{
    static_assert(std::is_trivially_copyable<T>::value, "plain values only");
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T)); // the machines LoRA Lab runs on are little-endian
    out.append(bytes, sizeof(T));
}

void putString(std::string& out, const std::string& text)
{
    put<std::uint64_t>(out, text.size());
    out += text;
}

std::uint64_t alignUp(std::uint64_t offset, std::uint64_t alignment) { return (offset + alignment - 1) / alignment * alignment; }

} // namespace

const char* ggmlTypeName(GgmlType type)
{
    switch (type) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::Q8_0: return "Q8_0";
    }
    return "?";
}

std::uint16_t floatToHalf(float value)
{
    std::uint32_t x = 0;
    std::memcpy(&x, &value, sizeof x);
    const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t abs = x & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u) // infinity, or NaN (kept quiet, with its top payload bits)
        return static_cast<std::uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u | ((abs >> 13) & 0x3FFu) : 0u));
    if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u); // >= 65520 rounds to infinity
    if (abs >= 0x38800000u) { // a normal half: rebias the exponent, round 13 mantissa bits away
        std::uint32_t h = (abs - 0x38000000u) >> 13;
        const std::uint32_t rest = abs & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
        return static_cast<std::uint16_t>(sign | h);
    }
    // A subnormal half, m * 2^-24: m = mantissa (with its implicit bit) >> (126 - exponent).
    const int exponent = static_cast<int>(abs >> 23);
    const int shift = 126 - exponent;
    if (exponent == 0 || shift > 24) return sign; // below half the smallest subnormal
    const std::uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    std::uint32_t m = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (m & 1u))) ++m; // may carry into the smallest normal, as it should
    return static_cast<std::uint16_t>(sign | m);
}

float halfToFloat(std::uint16_t bits)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
    const std::uint32_t mantissa = bits & 0x3FFu;
    std::uint32_t x = 0;
    if (exponent == 0x1F) {
        x = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        x = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else {
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    float out = 0;
    std::memcpy(&out, &x, sizeof out);
    return out;
}

void quantizeQ8_0(const float* values, std::size_t count, std::uint8_t* out)
{
    if (count % static_cast<std::size_t>(kQ8BlockSize) != 0)
        throw Error("Q8_0 quantizes whole blocks of 32 values; got " + std::to_string(count));
    for (std::size_t block = 0; block < count / kQ8BlockSize; ++block) {
        const float* x = values + block * kQ8BlockSize;
        float amax = 0.0f;
        for (std::int64_t j = 0; j < kQ8BlockSize; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        std::uint8_t* y = out + block * kQ8BlockBytes;
        const std::uint16_t dHalf = floatToHalf(d);
        std::memcpy(y, &dHalf, sizeof dHalf);
        for (std::int64_t j = 0; j < kQ8BlockSize; ++j) {
            const auto q = static_cast<std::int8_t>(std::round(x[j] * id));
            std::memcpy(y + 2 + j, &q, 1);
        }
    }
}

std::size_t ggmlBytes(GgmlType type, std::int64_t elements)
{
    const auto n = static_cast<std::size_t>(elements);
    switch (type) {
    case GgmlType::F32: return n * 4;
    case GgmlType::F16: return n * 2;
    case GgmlType::Q8_0: return n / kQ8BlockSize * kQ8BlockBytes;
    }
    return 0;
}

GgufWriter::GgufWriter(std::uint32_t alignment) : m_alignment(alignment)
{
    if (alignment == 0 || alignment % 8 != 0) throw Error("GGUF alignment must be a positive multiple of 8, not " + std::to_string(alignment));
    addUint32("general.alignment", alignment);
}

bool GgufWriter::hasKey(const std::string& key) const
{
    for (const auto& [k, v] : m_metadata)
        if (k == key) return true;
    return false;
}

void GgufWriter::addKey(const std::string& key, std::uint32_t valueType, std::string valueBytes)
{
    if (key.empty()) throw Error("a GGUF metadata key cannot be empty");
    if (hasKey(key)) throw Error("GGUF metadata key '" + key + "' is given twice");
    std::string encoded;
    put(encoded, valueType);
    encoded += valueBytes;
    m_metadata.emplace_back(key, std::move(encoded));
}

void GgufWriter::addUint32(const std::string& key, std::uint32_t value)
{
    std::string v;
    put(v, value);
    addKey(key, kTypeUint32, v);
}

void GgufWriter::addInt32(const std::string& key, std::int32_t value)
{
    std::string v;
    put(v, value);
    addKey(key, kTypeInt32, v);
}

void GgufWriter::addFloat32(const std::string& key, float value)
{
    std::string v;
    put(v, value);
    addKey(key, kTypeFloat32, v);
}

void GgufWriter::addBool(const std::string& key, bool value)
{
    addKey(key, kTypeBool, std::string(1, value ? '\1' : '\0'));
}

void GgufWriter::addString(const std::string& key, const std::string& value)
{
    std::string v;
    putString(v, value);
    addKey(key, kTypeString, v);
}

void GgufWriter::addStringArray(const std::string& key, const std::vector<std::string>& values)
{
    std::string v;
    put(v, kTypeString);
    put<std::uint64_t>(v, values.size());
    for (const auto& s : values) putString(v, s);
    addKey(key, kTypeArray, v);
}

void GgufWriter::addInt32Array(const std::string& key, const std::vector<std::int32_t>& values)
{
    std::string v;
    put(v, kTypeInt32);
    put<std::uint64_t>(v, values.size());
    for (const auto x : values) put(v, x);
    addKey(key, kTypeArray, v);
}

void GgufWriter::addFloat32Array(const std::string& key, const std::vector<float>& values)
{
    std::string v;
    put(v, kTypeFloat32);
    put<std::uint64_t>(v, values.size());
    for (const auto x : values) put(v, x);
    addKey(key, kTypeArray, v);
}

void GgufWriter::addTensor(const std::string& name, const std::vector<std::int64_t>& shape, GgmlType type, TensorValues values)
{
    if (name.empty()) throw Error("a GGUF tensor needs a name");
    for (const auto& t : m_tensors)
        if (t.name == name) throw Error("GGUF tensor '" + name + "' is added twice");
    if (shape.empty() || shape.size() > 4) throw Error("GGUF tensor '" + name + "' must have 1 to 4 dimensions");
    std::int64_t elements = 1;
    for (const auto d : shape) {
        if (d <= 0) throw Error("GGUF tensor '" + name + "' has a dimension of " + std::to_string(d));
        elements *= d;
    }
    if (type == GgmlType::Q8_0 && shape.back() % kQ8BlockSize != 0)
        throw Error("GGUF tensor '" + name + "': Q8_0 needs rows of a multiple of 32 values, not " + std::to_string(shape.back()));
    m_tensors.push_back({name, shape, type, std::move(values), elements});
}

void GgufWriter::write(const std::filesystem::path& path) const
{
    std::string header;
    put(header, kGgufMagic);
    put(header, kGgufVersion);
    put<std::uint64_t>(header, m_tensors.size());
    put<std::uint64_t>(header, m_metadata.size());
    for (const auto& [key, value] : m_metadata) {
        putString(header, key);
        header += value;
    }
    std::uint64_t offset = 0;
    for (const auto& t : m_tensors) {
        putString(header, t.name);
        put<std::uint32_t>(header, static_cast<std::uint32_t>(t.shape.size()));
        for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) put<std::uint64_t>(header, static_cast<std::uint64_t>(*d));
        put<std::uint32_t>(header, static_cast<std::uint32_t>(t.type));
        put<std::uint64_t>(header, offset);
        offset = alignUp(offset + ggmlBytes(t.type, t.elements), m_alignment);
    }
    header.resize(alignUp(header.size(), m_alignment), '\0');

    std::error_code ec;
    const auto dir = path.parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) throw fileError(path.string(), "cannot create its folder: " + ec.message());
    AtomicFileWriter out(path);
    out.write(header.data(), header.size());
    std::vector<std::uint8_t> bytes;
    for (const auto& t : m_tensors) {
        const std::vector<float> values = t.values();
        if (static_cast<std::int64_t>(values.size()) != t.elements)
            throw fileError(path.string(), "tensor '" + t.name + "' gave " + std::to_string(values.size()) + " values for " +
                                               std::to_string(t.elements) + " elements");
        const std::size_t size = ggmlBytes(t.type, t.elements);
        bytes.assign(alignUp(size, m_alignment), 0);
        switch (t.type) {
        case GgmlType::F32: std::memcpy(bytes.data(), values.data(), size); break;
        case GgmlType::F16:
            for (std::size_t i = 0; i < values.size(); ++i) {
                const std::uint16_t h = floatToHalf(values[i]);
                std::memcpy(bytes.data() + 2 * i, &h, 2);
            }
            break;
        case GgmlType::Q8_0: quantizeQ8_0(values.data(), values.size(), bytes.data()); break;
        }
        out.write(bytes.data(), bytes.size());
    }
    out.commit();
}

} // namespace loralab
