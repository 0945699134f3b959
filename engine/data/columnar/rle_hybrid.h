// Parquet's RLE / bit-packed hybrid encoding, which holds definition and
// repetition levels, dictionary indices and v2 booleans: runs of one repeated
// value and runs of bit-packed values, each behind a varint header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace loralab::columnar {

// Decodes `count` values of `bitWidth` bits (0 to 32) from [data, data + size)
// into out[0, count); returns the bytes read. Throws FormatError, with `what`
// ("definition levels", "dictionary indices") in the message, when the runs
// end before `count` values.
std::size_t decodeRleHybrid(const std::uint8_t* data, std::size_t size, int bitWidth, std::size_t count, std::uint32_t* out,
                            const char* what);

// The bits needed to hold 0..maxValue.
int bitWidthFor(std::uint32_t maxValue);

} // namespace loralab::columnar
