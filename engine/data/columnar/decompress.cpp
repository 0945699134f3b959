// Snappy, gzip (zlib) and Zstandard behind one call; see decompress.h.
#include "engine/data/columnar/decompress.h"

#include "engine/data/columnar/columnar_bytes.h"
#include "engine/data/columnar/parquet_metadata.h"

#include <limits>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

namespace loralab::columnar {
namespace {

[[noreturn]] void wrongSize(const char* codec, std::size_t got, std::size_t expected)
{
    fail(std::string(codec) + " data decompresses to " + std::to_string(got) + " bytes, not the " + std::to_string(expected) +
         " its header says");
}

} // namespace

std::string decompressSnappy(const std::uint8_t* data, std::size_t size, std::size_t expected)
{
    const char* in = reinterpret_cast<const char*>(data);
    std::size_t length = 0;
    if (snappy_uncompressed_length(in, size, &length) != SNAPPY_OK) fail("corrupt SNAPPY data (no valid length)");
    if (length != expected) wrongSize("SNAPPY", length, expected);
    std::string out(expected, '\0');
    std::size_t outLength = expected;
    if (snappy_uncompress(in, size, out.data(), &outLength) != SNAPPY_OK || outLength != expected) fail("corrupt SNAPPY data");
    return out;
}

std::string decompressGzip(const std::uint8_t* data, std::size_t size, std::size_t expected)
{
    if (size >= std::numeric_limits<uInt>::max() || expected >= std::numeric_limits<uInt>::max())
        fail("a GZIP block over 4 GiB is not supported");
    // One byte more than promised, so that a stream that is longer shows it.
    std::string out(expected + 1, '\0');
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) fail("zlib cannot start");
    z.next_in = const_cast<Bytef*>(data);
    z.avail_in = static_cast<uInt>(size);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int status = inflate(&z, Z_FINISH);
    // Concatenated gzip members decompress one after another.
    while (status == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0 && inflateReset(&z) == Z_OK) status = inflate(&z, Z_FINISH);
    const std::size_t produced = out.size() - z.avail_out;
    const std::string why = z.msg ? z.msg : "it ends early";
    inflateEnd(&z);
    if (produced > expected) fail("GZIP data decompresses to more than the " + std::to_string(expected) + " bytes its header says");
    if (status != Z_STREAM_END) fail("corrupt GZIP data (" + why + ")");
    if (produced != expected) wrongSize("GZIP", produced, expected);
    out.resize(expected);
    return out;
}

std::string decompressZstd(const std::uint8_t* data, std::size_t size, std::size_t expected)
{
    std::string out(expected, '\0');
    const std::size_t got = ZSTD_decompress(out.data(), expected, data, size);
    if (ZSTD_isError(got)) fail(std::string("corrupt ZSTD data (") + ZSTD_getErrorName(got) + ")");
    if (got != expected) wrongSize("ZSTD", got, expected);
    return out;
}

std::string decompressParquet(int codec, const std::uint8_t* data, std::size_t size, std::size_t expected)
{
    switch (codec) {
    case codec::kUncompressed:
        if (size != expected) fail("an uncompressed page holds " + std::to_string(size) + " bytes, not the " + std::to_string(expected) +
                                   " its header says");
        return std::string(reinterpret_cast<const char*>(data), size);
    case codec::kSnappy: return decompressSnappy(data, size, expected);
    case codec::kGzip: return decompressGzip(data, size, expected);
    case codec::kZstd: return decompressZstd(data, size, expected);
    default:
        fail("compression " + codecName(codec) + " is not supported (LoRA Lab reads UNCOMPRESSED, SNAPPY, GZIP and ZSTD)");
    }
}

} // namespace loralab::columnar
