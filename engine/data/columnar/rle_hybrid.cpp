// The RLE / bit-packed hybrid decoder; see rle_hybrid.h. A run header is a
// ULEB128 varint: an even header is a run of header/2 copies of one value
// (stored in ceil(bitWidth / 8) little-endian bytes); an odd one is header/2
// groups of eight values packed bitWidth bits each, least significant bit first.
#include "engine/data/columnar/rle_hybrid.h"

#include "engine/data/columnar/columnar_bytes.h"

#include <algorithm>
#include <string>

namespace loralab::columnar {

int bitWidthFor(std::uint32_t maxValue)
{
    int width = 0;
    while (width < 32 && (maxValue >> width) != 0) ++width;
    return width;
}

std::size_t decodeRleHybrid(const std::uint8_t* data, std::size_t size, int bitWidth, std::size_t count, std::uint32_t* out,
                            const char* what)
{
    if (bitWidth < 0 || bitWidth > 32) fail(std::string(what) + " have a bit width of " + std::to_string(bitWidth) + " (at most 32)");
    const auto endsEarly = [&](std::size_t done) {
        fail(std::string(what) + " end after " + std::to_string(done) + " of " + std::to_string(count) + " values");
    };
    std::size_t pos = 0;
    std::size_t done = 0;
    const std::uint64_t mask = bitWidth == 32 ? 0xffffffffu : (std::uint64_t(1) << bitWidth) - 1;
    while (done < count) {
        std::uint64_t header = 0;
        for (int shift = 0;; shift += 7) {
            if (pos >= size || shift >= 64) endsEarly(done);
            const std::uint8_t b = data[pos++];
            header |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        const std::uint64_t runLength = header >> 1;
        if ((header & 1) == 0) {
            const std::size_t valueBytes = static_cast<std::size_t>((bitWidth + 7) / 8);
            if (size - pos < valueBytes) endsEarly(done);
            std::uint32_t value = 0;
            for (std::size_t i = 0; i < valueBytes; ++i) value |= static_cast<std::uint32_t>(data[pos + i]) << (8 * i);
            pos += valueBytes;
            if (value > mask) fail(std::string(what) + " hold a value wider than their " + std::to_string(bitWidth) + " bits");
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(runLength, count - done));
            std::fill(out + done, out + done + n, value);
            done += n;
        } else {
            // Groups of 8 values; the last run of a page may stop short of its
            // padding, so only the bytes for the values still wanted are required.
            const std::uint64_t runValues = std::min<std::uint64_t>(runLength, (std::uint64_t(1) << 60)) * 8;
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(runValues, count - done));
            const std::size_t needBytes = (n * static_cast<std::size_t>(bitWidth) + 7) / 8;
            if (size - pos < needBytes) endsEarly(done);
            std::uint64_t acc = 0;
            int bits = 0;
            std::size_t at = pos;
            for (std::size_t i = 0; i < n; ++i) {
                while (bits < bitWidth) {
                    acc |= static_cast<std::uint64_t>(data[at++]) << bits;
                    bits += 8;
                }
                out[done + i] = static_cast<std::uint32_t>(acc & mask);
                acc = bitWidth == 0 ? acc : acc >> bitWidth;
                bits -= bitWidth;
            }
            done += n;
            const std::uint64_t runBytes = std::min<std::uint64_t>(runLength, size) * static_cast<std::uint64_t>(bitWidth);
            pos += static_cast<std::size_t>(std::min<std::uint64_t>(runBytes, size - pos));
        }
    }
    return pos;
}

} // namespace loralab::columnar
