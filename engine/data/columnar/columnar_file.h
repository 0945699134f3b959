// One entry point for dataset files in either columnar format: Parquet or
// Arrow IPC (stream or file), told apart by their first bytes, not their names.
#pragma once

#include "engine/data/columnar/column_table.h"

#include <string>
#include <vector>

namespace loralab {

enum class ColumnarFormat { None, Parquet, ArrowFile, ArrowStream };

// What the file's first bytes say it is; None for anything else (or no file).
ColumnarFormat detectColumnarFormat(const std::string& path);

// The columns of a Parquet or Arrow IPC file; an Error for anything else.
std::vector<ColumnInfo> columnarSchema(const std::string& path);
ColumnTable readColumnarFile(const std::string& path, const ColumnarReadOptions& options = {});

} // namespace loralab
