// A Parquet file's schema as a tree of columns, with what the record assembly
// needs at every node: the definition level from which the node has an entry
// and from which that entry is not null, and how many lists lie above it.
// Lists follow the LIST annotation's three-level form (and the older two-level
// and bare repeated forms); maps, decimals, dates and times are marked unreadable.
#pragma once

#include "engine/data/columnar/column_table.h"
#include "engine/data/columnar/parquet_metadata.h"

#include <cstddef>
#include <string>
#include <vector>

namespace loralab::columnar {

struct ParquetNode {
    enum class Kind { Leaf, List, Struct, Unreadable };
    Kind kind = Kind::Leaf;
    std::string name;
    int slotDef = 0;  // from this definition level on, the node has an entry (null or not)
    int def = 0;      // from this definition level on, its entry is not null
    int repDepth = 0; // lists above the node; its entries are elements of the innermost one
    std::string type; // "string", "list<struct<role: string, content: string>>", "timestamp"
    std::size_t firstLeaf = 0; // index of the first leaf column beneath (the node's own for a leaf)
    std::size_t leafCount = 0; // leaf columns beneath (1 for a leaf)
    std::vector<ParquetNode> children; // List: [1] the element; Struct: the fields

    // Leaves only.
    ValueKind value = ValueKind::Null;
    int physical = -1;        // PhysicalType
    std::int32_t typeLength = 0;
    std::vector<int> elementDefs; // [repDepth]: the definition level of an element of each list above, outermost first
    std::string path;             // "messages.list.element.role", as the file names the column

    bool readable() const;
};

struct ParquetSchema {
    std::vector<ParquetNode> columns; // the top-level columns
    std::size_t leafCount = 0;
};

// Builds the tree from the footer's flattened schema; throws FormatError
// when the schema is malformed (children past its end, lists without a repeated field).
ParquetSchema buildParquetSchema(const FileMetaData& meta);

// The column of each node, with the names and kinds of the tree, empty.
ColumnData emptyColumnFor(const ParquetNode& node);

} // namespace loralab::columnar
