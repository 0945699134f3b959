// Reads the columns of Arrow IPC files without Apache Arrow: the stream
// format the `datasets` library writes into its cache (`*.arrow`, also
// `save_to_disk` output), its pre-1.0 variant, and the file format (ARROW1
// magic and footer). Types as the Parquet reader's, plus large strings,
// large and fixed-size lists, and dictionary-encoded fields (delta
// dictionaries included); bodies uncompressed or ZSTD compressed (LZ4_FRAME
// is refused by name). Little-endian data only.
#pragma once

#include "engine/data/columnar/column_table.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

// The file's top-level columns with their types, in schema order.
std::vector<ColumnInfo> arrowIpcSchema(const std::string& path);

// Reads the columns asked for (all by default), the first maxRows rows.
// Errors name the file and, where there is one, the column and record batch.
ColumnTable readArrowIpc(const std::string& path, const ColumnarReadOptions& options = {});

// The same from bytes in memory (tests and fuzzers); `label` names them in messages.
std::vector<ColumnInfo> arrowIpcSchemaFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label);
ColumnTable readArrowIpcFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label,
                                  const ColumnarReadOptions& options = {});

} // namespace loralab
