// Parquet value decoding; see parquet_values.h. PLAIN stores fixed-width
// values little-endian back to back, booleans one bit each (least significant
// first), and byte arrays as a 4-byte length and the bytes.
#include "engine/data/columnar/parquet_values.h"

#include "engine/data/columnar/columnar_bytes.h"
#include "engine/data/columnar/rle_hybrid.h"

#include <string>

namespace loralab::columnar {
namespace {

void needBytes(std::size_t have, std::size_t count, std::size_t width, const char* what)
{
    if (width != 0 && count > have / width)
        fail(std::to_string(count) + " " + what + " values need " + std::to_string(width) + " bytes each, but the page holds " +
             std::to_string(have) + " bytes");
}

PageValues decodePlain(const ParquetNode& leaf, const std::uint8_t* data, std::size_t size, std::size_t count)
{
    PageValues v;
    const bool isUnsigned = leaf.value == ValueKind::UInt;
    switch (static_cast<PhysicalType>(leaf.physical)) {
    case PhysicalType::Boolean:
        if ((count + 7) / 8 > size) fail(std::to_string(count) + " booleans need more bytes than the page holds");
        v.ints.resize(count);
        for (std::size_t i = 0; i < count; ++i) v.ints[i] = (data[i / 8] >> (i % 8)) & 1;
        break;
    case PhysicalType::Int32:
        needBytes(size, count, 4, "INT32");
        v.ints.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            const auto raw = loadLe<std::uint32_t>(data + 4 * i);
            v.ints[i] = isUnsigned ? static_cast<std::int64_t>(raw) : static_cast<std::int64_t>(static_cast<std::int32_t>(raw));
        }
        break;
    case PhysicalType::Int64:
        needBytes(size, count, 8, "INT64");
        v.ints.resize(count);
        for (std::size_t i = 0; i < count; ++i) v.ints[i] = loadLe<std::int64_t>(data + 8 * i);
        break;
    case PhysicalType::Float:
        needBytes(size, count, 4, "FLOAT");
        v.floats.resize(count);
        for (std::size_t i = 0; i < count; ++i) v.floats[i] = static_cast<double>(loadLe<float>(data + 4 * i));
        break;
    case PhysicalType::Double:
        needBytes(size, count, 8, "DOUBLE");
        v.floats.resize(count);
        for (std::size_t i = 0; i < count; ++i) v.floats[i] = loadLe<double>(data + 8 * i);
        break;
    case PhysicalType::ByteArray: {
        // Each value takes at least its 4-byte length.
        needBytes(size, count, 4, "BYTE_ARRAY");
        v.strings.reserve(count);
        std::size_t pos = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (size - pos < 4) fail("BYTE_ARRAY value " + std::to_string(i) + " runs past the end of the page");
            const std::uint32_t length = loadLe<std::uint32_t>(data + pos);
            pos += 4;
            if (length > size - pos)
                fail("BYTE_ARRAY value " + std::to_string(i) + " of " + std::to_string(length) + " bytes runs past the end of the page (" +
                     std::to_string(size - pos) + " bytes left)");
            v.strings.emplace_back(reinterpret_cast<const char*>(data + pos), length);
            pos += length;
        }
        break;
    }
    case PhysicalType::FixedLenByteArray: {
        const auto width = static_cast<std::size_t>(leaf.typeLength);
        needBytes(size, count, width, "FIXED_LEN_BYTE_ARRAY");
        v.strings.reserve(count);
        for (std::size_t i = 0; i < count; ++i) v.strings.emplace_back(reinterpret_cast<const char*>(data + i * width), width);
        break;
    }
    case PhysicalType::Int96: fail("INT96 values are not supported");
    }
    return v;
}

PageValues decodeBooleanRle(const std::uint8_t* data, std::size_t size, std::size_t count)
{
    // RLE booleans carry their byte length first, as levels in v1 pages do.
    ByteCursor in(data, size, "the RLE booleans");
    const std::uint32_t length = in.le<std::uint32_t>();
    if (length > in.remaining()) fail("the RLE booleans claim " + std::to_string(length) + " bytes, the page holds " + std::to_string(in.remaining()));
    std::vector<std::uint32_t> bits(count);
    decodeRleHybrid(in.here(), length, 1, count, bits.data(), "RLE booleans");
    PageValues v;
    v.ints.assign(bits.begin(), bits.end());
    return v;
}

PageValues decodeIndices(const std::uint8_t* data, std::size_t size, std::size_t count, const PageValues& dictionary)
{
    if (count == 0) return {};
    if (size < 1) fail("dictionary indices are missing");
    const int bitWidth = data[0];
    std::vector<std::uint32_t> indices(count);
    decodeRleHybrid(data + 1, size - 1, bitWidth, count, indices.data(), "dictionary indices");
    const std::size_t entries = dictionary.size();
    PageValues v;
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint32_t index = indices[i];
        if (index >= entries)
            fail("dictionary index " + std::to_string(index) + " is out of range (the dictionary has " + std::to_string(entries) + " entries)");
        if (!dictionary.ints.empty()) v.ints.push_back(dictionary.ints[index]);
        else if (!dictionary.floats.empty()) v.floats.push_back(dictionary.floats[index]);
        else v.strings.push_back(dictionary.strings[index]);
    }
    return v;
}

[[noreturn]] void unsupported(int encoding)
{
    fail("encoding " + encodingName(encoding) + " is not supported (LoRA Lab reads PLAIN, RLE, PLAIN_DICTIONARY and RLE_DICTIONARY)");
}

} // namespace

PageValues decodeValues(const ParquetNode& leaf, int encoding, const std::uint8_t* data, std::size_t size, std::size_t count,
                        const PageValues* dictionary)
{
    switch (encoding) {
    case encoding::kPlain: return decodePlain(leaf, data, size, count);
    case encoding::kRle:
        if (leaf.physical != static_cast<int>(PhysicalType::Boolean)) unsupported(encoding);
        return decodeBooleanRle(data, size, count);
    case encoding::kPlainDictionary:
    case encoding::kRleDictionary:
        if (!dictionary) fail("a page is dictionary encoded, but the column chunk has no dictionary page");
        return decodeIndices(data, size, count, *dictionary);
    default: unsupported(encoding);
    }
}

PageValues decodeDictionary(const ParquetNode& leaf, int encoding, const std::uint8_t* data, std::size_t size, std::size_t count)
{
    if (encoding != encoding::kPlain && encoding != encoding::kPlainDictionary)
        fail("the dictionary page's encoding " + encodingName(encoding) + " is not supported (LoRA Lab reads PLAIN dictionaries)");
    if (leaf.physical == static_cast<int>(PhysicalType::Boolean)) fail("a boolean column has a dictionary page");
    return decodePlain(leaf, data, size, count);
}

} // namespace loralab::columnar
