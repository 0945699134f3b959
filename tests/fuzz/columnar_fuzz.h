// The body of the columnar readers' fuzzers (Parquet, Arrow IPC): any bytes
// must read or throw loralab::Error, and what reads must turn into JSON rows
// without reading out of bounds.
#pragma once

#include "engine/data/columnar/column_table.h"
#include "engine/util/error.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace loralab::fuzz {

// schema(data, size, name) and read(data, size, name, options) are one format's readers.
template <typename Schema, typename Read>
void readColumnarBytes(const std::uint8_t* data, std::size_t size, const std::string& name, Schema schema, Read read)
{
    try {
        (void)schema(data, size, name);
        ColumnarReadOptions options;
        options.maxBytes = std::int64_t(64) << 20; // well inside the fuzzer's memory limit
        const ColumnTable table = read(data, size, name, options);
        // The first rows and the last one: enough to reach every column's values.
        for (std::int64_t i = 0; i < std::min<std::int64_t>(table.rows, 256); ++i) (void)table.row(i);
        if (table.rows > 0) (void)table.row(table.rows - 1);
    } catch (const Error&) {
    }
}

} // namespace loralab::fuzz
