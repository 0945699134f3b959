// safetensors header parsing and building; see safetensors_format.h.
#include "engine/io/safetensors_format.h"

#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"
#include "engine/util/json_file.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

namespace loralab {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20; // the reference implementation's limit

struct DTypeInfo {
    const char* name;
    StDType dtype;
    std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {"F64", StDType::F64, 8}, {"F32", StDType::F32, 4}, {"F16", StDType::F16, 2},
    {"BF16", StDType::BF16, 2}, {"I64", StDType::I64, 8}, {"I32", StDType::I32, 4},
    {"I16", StDType::I16, 2},  {"I8", StDType::I8, 1},   {"U8", StDType::U8, 1},
    {"BOOL", StDType::Bool, 1},
};

const DTypeInfo& infoOf(StDType dtype)
{
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d;
    throw Error("internal: unknown safetensors dtype");
}

std::uint64_t readLength(const std::uint8_t* p)
{
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | p[i];
    return n;
}

StTensorEntry parseEntry(const std::string& name, const nlohmann::json& value, std::uint64_t dataSize,
                         const std::string& path)
{
    const auto bad = [&](const std::string& what) { return fileError(path, "tensor '" + name + "': " + what); };
    if (!value.is_object()) throw bad("entry is not a JSON object");
    StTensorEntry entry;
    entry.name = name;

    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) throw bad("missing dtype");
    const auto dtypeName = dtype->get<std::string>();
    const auto known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                    [&](const DTypeInfo& d) { return dtypeName == d.name; });
    if (known == std::end(kDTypes)) throw bad("unknown dtype '" + dtypeName + "'");
    entry.dtype = known->dtype;

    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) throw bad("missing shape");
    std::uint64_t elements = 1;
    for (const auto& dim : *shape) {
        if (!dim.is_number_integer() || dim.get<std::int64_t>() < 0) throw bad("shape holds a negative or non-integer size");
        const auto d = dim.get<std::uint64_t>();
        if (d != 0 && elements > std::numeric_limits<std::uint64_t>::max() / d) throw bad("shape overflows");
        elements *= d;
        entry.shape.push_back(static_cast<std::int64_t>(d));
    }

    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
        throw bad("data_offsets must be two non-negative integers");
    entry.begin = (*offsets)[0].get<std::uint64_t>();
    entry.end = (*offsets)[1].get<std::uint64_t>();
    if (entry.begin > entry.end) throw bad("data_offsets begin after they end");
    if (entry.end > dataSize)
        throw bad("data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                  ") run past the end of the file (data section is " + std::to_string(dataSize) + " bytes)");
    if (elements > std::numeric_limits<std::uint64_t>::max() / known->size) throw bad("shape overflows");
    if (entry.end - entry.begin != elements * known->size)
        throw bad("byte range holds " + std::to_string(entry.end - entry.begin) + " bytes but shape and dtype need " +
                  std::to_string(elements * known->size));
    return entry;
}

} // namespace

const char* stDTypeName(StDType dtype) { return infoOf(dtype).name; }
std::size_t stDTypeSize(StDType dtype) { return infoOf(dtype).size; }

StHeader parseSafetensorsHeader(const std::uint8_t* data, std::size_t size, const std::string& path)
{
    if (size < 8) throw fileError(path, "truncated safetensors file (" + std::to_string(size) + " bytes, no header)");
    const std::uint64_t headerLength = readLength(data);
    if (headerLength > size - 8)
        throw fileError(path, "header length " + std::to_string(headerLength) + " runs past the end of the file (" +
                                  std::to_string(size) + " bytes); the file is truncated or not safetensors");
    if (headerLength > kMaxHeaderBytes) throw fileError(path, "header length " + std::to_string(headerLength) + " is too large");

    nlohmann::json json;
    try {
        json = nlohmann::json::parse(data + 8, data + 8 + headerLength);
    } catch (const nlohmann::json::exception& e) {
        const std::string_view text(reinterpret_cast<const char*>(data + 8), static_cast<std::size_t>(headerLength));
        if (const std::size_t bad = findInvalidUtf8(text); bad != std::string_view::npos)
            throw fileError(path, "header is not valid UTF-8 (" + invalidUtf8At(text, bad) + "); the file is damaged or not safetensors");
        throw fileError(path, "header is not valid JSON: " + cutMessage(e.what()));
    }
    if (!json.is_object()) throw fileError(path, "header is not a JSON object");

    StHeader header;
    header.dataOffset = 8 + headerLength;
    const std::uint64_t dataSize = size - header.dataOffset;
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) throw fileError(path, "__metadata__ is not an object");
            for (auto m = it->begin(); m != it->end(); ++m)
                if (m->is_string()) header.metadata[m.key()] = m->get<std::string>();
            continue;
        }
        header.tensors.push_back(parseEntry(it.key(), it.value(), dataSize, path));
    }
    std::sort(header.tensors.begin(), header.tensors.end(),
              [](const StTensorEntry& a, const StTensorEntry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    for (std::size_t i = 1; i < header.tensors.size(); ++i) {
        const auto& prev = header.tensors[i - 1];
        const auto& cur = header.tensors[i];
        if (cur.begin < prev.end)
            throw fileError(path, "tensors '" + prev.name + "' and '" + cur.name + "' have overlapping byte ranges");
    }
    return header;
}

std::string buildSafetensorsHeader(std::vector<StTensorEntry>& tensors, const std::map<std::string, std::string>& metadata)
{
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    if (!metadata.empty()) json["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (auto& t : tensors) {
        std::uint64_t elements = 1;
        for (auto d : t.shape) elements *= static_cast<std::uint64_t>(d);
        t.begin = offset;
        t.end = offset + elements * stDTypeSize(t.dtype);
        offset = t.end;
        json[t.name] = {{"dtype", stDTypeName(t.dtype)}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
    }
    std::string text = json.dump();
    while ((text.size() + 8) % 8 != 0) text.push_back(' ');
    std::string out(8, '\0');
    std::uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + text;
}

} // namespace loralab
