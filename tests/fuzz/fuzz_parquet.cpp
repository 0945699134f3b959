// Fuzzes the Parquet reader: any bytes must read or throw loralab::Error, and
// what reads must turn into JSON rows without reading out of bounds.
#include "engine/data/columnar/parquet_reader.h"
#include "engine/util/error.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        (void)loralab::parquetSchemaFromBytes(data, size, "fuzz.parquet");
        loralab::ColumnarReadOptions options;
        options.maxBytes = std::int64_t(64) << 20; // well inside the fuzzer's memory limit
        const loralab::ColumnTable table = loralab::readParquetFromBytes(data, size, "fuzz.parquet", options);
        // The first rows and the last one: enough to reach every column's values.
        for (std::int64_t i = 0; i < std::min<std::int64_t>(table.rows, 256); ++i) (void)table.row(i);
        if (table.rows > 0) (void)table.row(table.rows - 1);
    } catch (const loralab::Error&) {
    }
    return 0;
}
