// An Arrow IPC schema (the Schema table of Arrow's Schema.fbs) as a tree of
// fields, with what a record batch takes for each: its value kind, its
// buffers, and whether it is dictionary encoded. Types LoRA Lab does not read
// (decimals, dates, times, unions, maps, views) are kept, named, so that
// their buffers can be stepped over when the column is not asked for.
#pragma once

#include "engine/data/columnar/column_table.h"
#include "engine/data/columnar/flatbuffer_table.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loralab::columnar {

enum class ArrowType { Null, Bool, Int, Float, Utf8, LargeUtf8, Binary, LargeBinary, FixedSizeBinary, List, LargeList, FixedSizeList, Struct, Unreadable };

struct ArrowField {
    std::string name;
    ArrowType type = ArrowType::Null;
    int bitWidth = 0;           // Int: 8, 16, 32 or 64; Float: 32 or 64
    bool isSigned = true;       // Int
    std::int64_t fixedSize = 0; // FixedSizeBinary: bytes per value; FixedSizeList: elements per list
    std::string typeText;       // "string", "list<struct<role: string, content: string>>", "timestamp"
    int buffers = 0;            // the buffers of the field itself, children aside
    bool steppable = true;      // false where the buffer count depends on the batch (views)
    // Dictionary encoding: the batch holds indices; the values, of the type
    // above, come in dictionary batches with this id.
    bool dictionary = false;
    std::int64_t dictionaryId = 0;
    int indexBits = 32;
    bool indexSigned = true;
    std::vector<ArrowField> children;

    bool readable() const;
    ValueKind valueKind() const;
};

// Parses the fields of a Schema table; refuses big-endian data.
std::vector<ArrowField> parseArrowSchema(const FlatTable& schema);

// The column for a field's values (a dictionary's values for an encoded field), empty.
ColumnData emptyColumnFor(const ArrowField& field);

// The field and every field beneath it that is dictionary encoded.
void collectDictionaryFields(const ArrowField& field, std::vector<const ArrowField*>& out);

} // namespace loralab::columnar
