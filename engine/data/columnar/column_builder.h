// Appending entries to a ColumnData, shared by the Parquet and Arrow IPC
// readers: nulls (which a struct passes on to its fields, so that they keep
// its length), single values, and copies of another column's entries (Arrow
// dictionaries). String and binary bytes are charged to the read's budget.
#pragma once

#include "engine/data/columnar/column_table.h"
#include "engine/data/columnar/columnar_bytes.h"

#include <string_view>

namespace loralab::columnar {

// Bytes an entry costs beside its string bytes (valid, offset or value).
constexpr std::int64_t kEntryBytes = 9;

// A null entry; a struct gives each field a null entry too.
void appendNull(ColumnData& column, ReadBudget& budget);
// A present string or binary value.
void appendBytes(ColumnData& column, std::string_view value, ReadBudget& budget);
// Entry i of `source` (same kind and shape as `column`), nested parts included.
void appendEntry(ColumnData& column, const ColumnData& source, std::int64_t i, ReadBudget& budget);

// Starts a present entry of a Bool, Int, UInt, Float or Struct column (for a
// Struct, its fields must be given their entries by the caller).
inline void appendInt(ColumnData& column, std::int64_t value)
{
    ++column.length;
    column.valid.push_back(1);
    column.ints.push_back(value);
}
inline void appendFloat(ColumnData& column, double value)
{
    ++column.length;
    column.valid.push_back(1);
    column.floats.push_back(value);
}

// Checks that a column is whole: every vector as long as its entries need,
// offsets inside the bytes or elements they point into, struct fields as long
// as the struct. Reading a checked column's values cannot go out of bounds.
void checkColumnShape(const ColumnData& column);

} // namespace loralab::columnar
