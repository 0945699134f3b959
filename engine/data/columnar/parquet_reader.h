// Reads the columns of Parquet files, the format of the Hugging Face hub's
// datasets, without Apache Arrow: strings, integers, floats, booleans and
// binary values; lists and structs nested to any depth (chat `messages`, ShareGPT
// `conversations`); nulls at every level. PLAIN, RLE and dictionary encodings
// on data pages v1 and v2, uncompressed or SNAPPY, GZIP or ZSTD compressed.
// Anything else (DELTA_* or BYTE_STREAM_SPLIT encodings, LZ4 or BROTLI pages,
// decimals, timestamps, maps) is an Error that names it, with the file,
// column and row group.
#pragma once

#include "engine/data/columnar/column_table.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

// The file's top-level columns with their types, in file order.
std::vector<ColumnInfo> parquetSchema(const std::string& path);

// Reads the columns asked for (all by default), the first maxRows rows.
// Errors name the file and, where there is one, the column, row group and page.
ColumnTable readParquet(const std::string& path, const ColumnarReadOptions& options = {});

// The same from bytes in memory (tests and fuzzers); `label` names them in messages.
std::vector<ColumnInfo> parquetSchemaFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label);
ColumnTable readParquetFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label,
                                 const ColumnarReadOptions& options = {});

} // namespace loralab
