// Reads one leaf column's chunk of one row group: its pages (dictionary, data
// v1 and v2), decompressed, their levels and values decoded, and the values
// assembled into the nested columns above the leaf from the levels.
#pragma once

#include "engine/data/columnar/columnar_bytes.h"
#include "engine/data/columnar/parquet_schema.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace loralab::columnar {

// The nodes from a top-level column down to one leaf, beside the columns
// being built for them. A node's column is written by the first leaf beneath
// it (`ownFrom` is the first node this leaf writes), so that a struct or list
// shared by several leaves gets its entries once.
struct LeafChain {
    std::vector<const ParquetNode*> nodes;
    std::vector<ColumnData*> columns;
    std::size_t ownFrom = 0;
    int prevDef = 0; // the last value's definition level, carried across pages
};

// Where the chunk's bytes are: the file, and the end of the region column
// chunks may occupy (the footer's start).
struct ChunkSource {
    const std::uint8_t* file = nullptr;
    std::size_t dataEnd = 0;
};

// Appends the chunk's first `rows` rows (of the row group's `rowsInGroup`) to
// the chain's columns.
void readColumnChunk(const ChunkSource& source, const ColumnChunkMeta& meta, LeafChain& chain, std::int64_t rows, std::int64_t rowsInGroup,
                     ReadBudget& budget);

} // namespace loralab::columnar
