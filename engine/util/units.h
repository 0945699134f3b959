// Quantities in messages: bytes as people read them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>

namespace loralab {

// From file sizes to GPU memory: "512 B", "318.1 KiB", "1.2 GiB".
inline std::string bytesText(std::int64_t bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

} // namespace loralab
