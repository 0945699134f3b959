// CRC-32C (Castagnoli), the checksum of TFRecord framing in TensorBoard event
// files, and the "masked" form those files store so that a CRC of data that
// itself holds CRCs stays well distributed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace loralab {

// Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final xor
// 0xFFFFFFFF; crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t size);
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

// ((crc >> 15) | (crc << 17)) + 0xA282EAD8, as TFRecord writes it.
std::uint32_t maskedCrc32c(const void* data, std::size_t size);

} // namespace loralab
