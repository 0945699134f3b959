// The values of one Parquet page, before the record assembly spreads them
// over rows and nulls: PLAIN for every physical type, RLE for booleans, and
// dictionary indices (PLAIN_DICTIONARY, RLE_DICTIONARY) looked up in the
// column chunk's dictionary page.
#pragma once

#include "engine/data/columnar/parquet_schema.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace loralab::columnar {

// Decoded values; which vector is used follows the leaf's value kind. Strings
// point into the page or dictionary buffer, which outlives them.
struct PageValues {
    std::vector<std::int64_t> ints;        // Bool (0 or 1), Int, UInt
    std::vector<double> floats;            // Float
    std::vector<std::string_view> strings; // String, Binary
    std::size_t next = 0;                  // the next value the assembly takes

    std::size_t size() const { return ints.size() + floats.size() + strings.size(); }
};

// Decodes `count` values of `leaf` encoded with `encoding` from
// [data, data + size). `dictionary` is the chunk's dictionary, or nullptr
// when it has none. Throws FormatError naming an unsupported encoding.
PageValues decodeValues(const ParquetNode& leaf, int encoding, const std::uint8_t* data, std::size_t size, std::size_t count,
                        const PageValues* dictionary);

// A dictionary page's entries (PLAIN encoded).
PageValues decodeDictionary(const ParquetNode& leaf, int encoding, const std::uint8_t* data, std::size_t size, std::size_t count);

} // namespace loralab::columnar
