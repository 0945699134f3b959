// CRC-32C with a byte-wise table built once; see crc32c.h. Event files are
// written a record at a time (tens to hundreds of bytes), so a table is fast
// enough and needs no CPU-specific instructions.
#include "engine/export/crc32c.h"

#include <array>

namespace loralab {
namespace {

constexpr std::uint32_t kReflectedPolynomial = 0x82F63B78u;
constexpr std::uint32_t kMaskDelta = 0xA282EAD8u;

std::array<std::uint32_t, 256> makeTable()
{
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) ? (crc >> 1) ^ kReflectedPolynomial : crc >> 1;
        table[i] = crc;
    }
    return table;
}

} // namespace

std::uint32_t crc32c(const void* data, std::size_t size)
{
    static const std::array<std::uint32_t, 256> table = makeTable();
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

std::uint32_t maskedCrc32c(const void* data, std::size_t size)
{
    const std::uint32_t crc = crc32c(data, size);
    return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

} // namespace loralab
