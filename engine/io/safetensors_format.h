// The safetensors container format without any tensor library: parsing and
// validating the header (8-byte little-endian length, then a JSON table of
// dtype, shape and byte range per tensor) and building one for writing.
// Kept free of LibTorch so that the fuzzers can drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loralab {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

const char* stDTypeName(StDType dtype);
std::size_t stDTypeSize(StDType dtype);

struct StTensorEntry {
    std::string name;
    StDType dtype = StDType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0; // byte offset from the start of the data section
    std::uint64_t end = 0;   // one past the last byte
};

struct StHeader {
    std::vector<StTensorEntry> tensors; // in file order (sorted by begin)
    std::map<std::string, std::string> metadata;
    std::uint64_t dataOffset = 0; // where the data section starts in the file
};

// Parses and validates the header of a complete safetensors file held in
// memory. `path` only labels error messages. Throws loralab::Error for every
// malformed input: short file, header length past the end, bad JSON, unknown
// dtype, negative or overflowing shapes, byte ranges that are out of range,
// disagree with the shape or overlap another tensor.
StHeader parseSafetensorsHeader(const std::uint8_t* data, std::size_t size, const std::string& path);

// Serialises a header for tensors laid out back to back in the given order;
// fills in begin/end and returns the bytes to write before the data section
// (length prefix plus JSON, padded to a multiple of 8).
std::string buildSafetensorsHeader(std::vector<StTensorEntry>& tensors,
                                   const std::map<std::string, std::string>& metadata);

} // namespace loralab
