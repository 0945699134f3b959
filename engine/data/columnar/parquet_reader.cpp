// The Parquet reader's entry points; see parquet_reader.h. A file is
// "PAR1", the column chunks of each row group, the footer (Thrift
// FileMetaData), the footer's length (4 bytes) and "PAR1" again. Row groups
// are read in order, and in each the chunks of the leaf columns under the
// columns asked for, until the rows asked for are complete.
#include "engine/data/columnar/parquet_reader.h"

#include "engine/data/columnar/column_builder.h"
#include "engine/data/columnar/columnar_bytes.h"
#include "engine/data/columnar/parquet_column_chunk.h"
#include "engine/data/columnar/parquet_schema.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstring>

namespace loralab {
namespace {

using namespace columnar;

struct ParquetFile {
    FileMetaData meta;
    ParquetSchema schema;
    std::size_t footerStart = 0;
};

ParquetFile openParquet(const std::uint8_t* data, std::size_t size)
{
    const auto magicAt = [&](std::size_t at, const char* magic) { return std::memcmp(data + at, magic, 4) == 0; };
    if (size < 12) fail("is too short to be a Parquet file (" + std::to_string(size) + " bytes)");
    if (magicAt(0, "PARE") || magicAt(size - 4, "PARE")) fail("is an encrypted Parquet file, which LoRA Lab cannot read");
    if (!magicAt(0, "PAR1")) fail("is not a Parquet file (it does not start with PAR1)");
    if (!magicAt(size - 4, "PAR1")) fail("does not end with PAR1: the file is truncated, or not Parquet");
    const std::uint32_t footerLength = loadLe<std::uint32_t>(data + size - 8);
    if (footerLength > size - 12)
        fail("its footer claims " + std::to_string(footerLength) + " bytes, more than the file holds (truncated?)");
    ParquetFile file;
    file.footerStart = size - 8 - footerLength;
    try {
        file.meta = parseFileMetaData(data + file.footerStart, footerLength);
        file.schema = buildParquetSchema(file.meta);
    } catch (const FormatError& e) {
        fail(std::string("its footer is corrupt: ") + e.what());
    }
    return file;
}

std::vector<ColumnInfo> infosOf(const ParquetSchema& schema)
{
    std::vector<ColumnInfo> infos;
    for (const ParquetNode& c : schema.columns) infos.push_back({c.name, c.type, c.readable()});
    return infos;
}

// The first unreadable node's type text, for the message.
std::string unreadableType(const ParquetNode& node)
{
    if (node.kind == ParquetNode::Kind::Unreadable) return node.type;
    for (const ParquetNode& c : node.children)
        if (!c.readable()) return unreadableType(c);
    return node.type;
}

std::vector<const ParquetNode*> selectColumns(const ParquetSchema& schema, const std::vector<std::string>& names)
{
    std::vector<const ParquetNode*> selected;
    if (names.empty())
        for (const ParquetNode& c : schema.columns) selected.push_back(&c);
    for (const std::string& name : names) {
        const ParquetNode* found = nullptr;
        for (const ParquetNode& c : schema.columns)
            if (c.name == name && !found) found = &c;
        if (!found) fail("the column '" + name + "' is not there; its columns are " + columnListText(infosOf(schema)));
        for (const ParquetNode* s : selected)
            if (s == found) fail("the column '" + name + "' is asked for twice");
        selected.push_back(found);
    }
    for (const ParquetNode* c : selected) {
        if (c->readable()) continue;
        const std::string inner = unreadableType(*c);
        fail("column '" + c->name + "' has type " + c->type + ", which LoRA Lab does not read" +
             (inner == c->type ? "" : " (" + inner + " values)") + (names.empty() ? "; ask for the other columns by name" : ""));
    }
    return selected;
}

// Every path from `node` to a leaf, with the columns built for it.
void collectChains(const ParquetNode& node, ColumnData& column, LeafChain prefix, std::vector<LeafChain>& chains)
{
    prefix.nodes.push_back(&node);
    prefix.columns.push_back(&column);
    if (node.kind == ParquetNode::Kind::Leaf) {
        // The leaf writes every node whose first leaf it is: a suffix of the chain.
        prefix.ownFrom = prefix.nodes.size() - 1;
        while (prefix.ownFrom > 0 && prefix.nodes[prefix.ownFrom - 1]->firstLeaf == node.firstLeaf) --prefix.ownFrom;
        chains.push_back(std::move(prefix));
        return;
    }
    for (std::size_t i = 0; i < node.children.size(); ++i) collectChains(node.children[i], column.children[i], prefix, chains);
}

std::string joined(const std::vector<std::string>& parts)
{
    std::string s;
    for (const std::string& p : parts) s += (s.empty() ? "" : ".") + p;
    return s;
}

ColumnTable readParquetFile(const std::uint8_t* data, std::size_t size, const ColumnarReadOptions& options)
{
    const ParquetFile file = openParquet(data, size);
    const std::vector<const ParquetNode*> selected = selectColumns(file.schema, options.columns);
    ReadBudget budget(options.maxBytes);

    std::int64_t total = 0;
    for (std::size_t g = 0; g < file.meta.rowGroups.size(); ++g) {
        const std::int64_t n = file.meta.rowGroups[g].numRows;
        if (n < 0 || n > INT64_MAX - total) fail("row group " + std::to_string(g) + " claims " + std::to_string(n) + " rows");
        total += n;
    }
    const std::int64_t wanted = options.maxRows < 0 ? total : std::min(options.maxRows, total);

    ColumnTable table;
    table.columns.reserve(selected.size()); // the chains point into these columns
    for (const ParquetNode* c : selected) {
        table.columnNames.push_back(c->name);
        table.columns.push_back(emptyColumnFor(*c));
    }
    std::vector<std::vector<LeafChain>> chains(selected.size());
    for (std::size_t c = 0; c < selected.size(); ++c) collectChains(*selected[c], table.columns[c], {}, chains[c]);

    const ChunkSource source{data, file.footerStart};
    std::int64_t done = 0;
    for (std::size_t g = 0; g < file.meta.rowGroups.size() && done < wanted; ++g) {
        const RowGroupMeta& group = file.meta.rowGroups[g];
        const std::int64_t take = std::min(group.numRows, wanted - done);
        if (take == 0) continue;
        if (group.columns.size() != file.schema.leafCount)
            fail("row group " + std::to_string(g) + " has " + std::to_string(group.columns.size()) + " column chunks, the schema " +
                 std::to_string(file.schema.leafCount) + " leaf columns");
        for (std::size_t c = 0; c < selected.size(); ++c) {
            for (LeafChain& chain : chains[c]) {
                const ParquetNode& leaf = *chain.nodes.back();
                const std::string where = "column '" + leaf.path + "', row group " + std::to_string(g) + ": ";
                const ColumnChunkMeta& chunk = group.columns[leaf.firstLeaf];
                if (chunk.hasMetaData && joined(chunk.pathInSchema) != leaf.path)
                    fail(where + "the column chunk is for '" + joined(chunk.pathInSchema) + "'");
                chain.prevDef = 0;
                try {
                    readColumnChunk(source, chunk, chain, take, group.numRows, budget);
                } catch (const FormatError& e) {
                    fail(where + e.what());
                }
            }
            if (table.columns[c].length != done + take)
                fail("column '" + selected[c]->name + "', row group " + std::to_string(g) + ": it holds " +
                     std::to_string(table.columns[c].length - done) + " rows, the row group " + std::to_string(take));
        }
        done += take;
    }
    for (std::size_t c = 0; c < selected.size(); ++c) {
        try {
            checkColumnShape(table.columns[c]);
        } catch (const FormatError& e) {
            fail("column '" + selected[c]->name + "': " + e.what());
        }
    }
    table.rows = done;
    return table;
}

} // namespace

std::vector<ColumnInfo> parquetSchemaFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label)
{
    try {
        return infosOf(openParquet(data, size).schema);
    } catch (const FormatError& e) {
        throw fileError(label, e.what());
    }
}

ColumnTable readParquetFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label, const ColumnarReadOptions& options)
{
    try {
        return readParquetFile(data, size, options);
    } catch (const FormatError& e) {
        throw fileError(label, e.what());
    }
}

std::vector<ColumnInfo> parquetSchema(const std::string& path)
{
    const MappedFile file(path);
    return parquetSchemaFromBytes(file.data(), file.size(), path);
}

ColumnTable readParquet(const std::string& path, const ColumnarReadOptions& options)
{
    const MappedFile file(path);
    return readParquetFromBytes(file.data(), file.size(), path, options);
}

} // namespace loralab
