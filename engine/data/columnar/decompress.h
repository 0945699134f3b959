// Decompression for Parquet pages and Arrow IPC bodies: Snappy, gzip and
// Zstandard, each into a buffer of the size the metadata promises and never
// more; anything else decompressing to another size is corrupt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace loralab::columnar {

// Decompresses [data, data + size) with Parquet codec `codec` (see
// parquet_metadata.h) into exactly `expected` bytes; throws FormatError
// naming the codec when it is not supported or the data is corrupt.
std::string decompressParquet(int codec, const std::uint8_t* data, std::size_t size, std::size_t expected);

std::string decompressSnappy(const std::uint8_t* data, std::size_t size, std::size_t expected);
std::string decompressGzip(const std::uint8_t* data, std::size_t size, std::size_t expected);
std::string decompressZstd(const std::uint8_t* data, std::size_t size, std::size_t expected);

} // namespace loralab::columnar
