// Column chunk pages and record assembly; see parquet_column_chunk.h.
//
// Each value slot of a leaf column carries a definition level d and a
// repetition level r. r = 0 starts a row; r = k adds an element to the k-th
// list on the path (counting from the top) and starts new entries below it.
// So a node with `repDepth` lists above it gets a new entry exactly when
// r <= repDepth and d reaches its slot level, and that entry is present when
// d reaches its `def`. Only d equal to the leaf's maximum carries a value.
#include "engine/data/columnar/parquet_column_chunk.h"

#include "engine/data/columnar/column_builder.h"
#include "engine/data/columnar/decompress.h"
#include "engine/data/columnar/parquet_values.h"
#include "engine/data/columnar/rle_hybrid.h"

#include <algorithm>
#include <string>

namespace loralab::columnar {
namespace {

class Assembler {
public:
    Assembler(LeafChain& chain, std::int64_t rowsWanted, std::int64_t rowsInGroup, ReadBudget& budget)
        : m_chain(chain), m_leaf(*chain.nodes.back()), m_rowsWanted(rowsWanted), m_rowsInGroup(rowsInGroup), m_budget(budget)
    {
    }

    // defs / reps are nullptr when the leaf's maximum level is 0.
    void feed(const std::uint32_t* defs, const std::uint32_t* reps, std::size_t n, PageValues& values)
    {
        const std::size_t depth = m_chain.nodes.size();
        for (std::size_t t = 0; t < n && !m_done; ++t) {
            const int d = defs ? static_cast<int>(defs[t]) : 0;
            const int r = reps ? static_cast<int>(reps[t]) : 0;
            if (r == 0) {
                if (m_rows == m_rowsWanted) {
                    if (m_rowsWanted == m_rowsInGroup)
                        fail("the column chunk holds more rows than the row group's " + std::to_string(m_rowsInGroup));
                    m_done = true; // the rows asked for are complete
                    break;
                }
                ++m_rows;
            } else {
                // Continuing a list needs that list to be present and not empty,
                // both after the previous value and with this one.
                const int need = m_leaf.elementDefs[static_cast<std::size_t>(r - 1)];
                if (m_rows == 0) fail("the column chunk starts inside a row (repetition level " + std::to_string(r) + ")");
                if (m_chain.prevDef < need || d < need)
                    fail("repetition level " + std::to_string(r) + " continues a list that is null or empty (definition levels " +
                         std::to_string(m_chain.prevDef) + " and " + std::to_string(d) + ")");
            }
            m_chain.prevDef = d;
            for (std::size_t j = m_chain.ownFrom; j < depth; ++j) {
                const ParquetNode& node = *m_chain.nodes[j];
                if (r > node.repDepth || d < node.slotDef) continue;
                ColumnData& column = *m_chain.columns[j];
                const bool present = d >= node.def;
                if (j > 0 && m_chain.nodes[j - 1]->kind == ParquetNode::Kind::List) ++m_chain.columns[j - 1]->offsets.back();
                if (node.kind == ParquetNode::Kind::Leaf) {
                    appendLeaf(column, present, values);
                    continue;
                }
                m_budget.charge(kEntryBytes);
                ++column.length;
                column.valid.push_back(present ? 1 : 0);
                if (node.kind == ParquetNode::Kind::List) column.offsets.push_back(column.offsets.back());
            }
        }
    }

    bool done() const { return m_done; }
    std::int64_t rows() const { return m_rows; }

private:
    void appendLeaf(ColumnData& column, bool present, PageValues& values)
    {
        if (!present) {
            appendNull(column, m_budget);
            return;
        }
        if (values.next >= values.size()) fail("a page holds fewer values than its definition levels promise");
        const std::size_t i = values.next++;
        switch (column.kind) {
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::UInt:
            m_budget.charge(kEntryBytes);
            appendInt(column, values.ints[i]);
            break;
        case ValueKind::Float:
            m_budget.charge(kEntryBytes);
            appendFloat(column, values.floats[i]);
            break;
        case ValueKind::String:
        case ValueKind::Binary: appendBytes(column, values.strings[i], m_budget); break;
        default: fail("a column of nulls holds values");
        }
    }

    LeafChain& m_chain;
    const ParquetNode& m_leaf;
    std::int64_t m_rowsWanted;
    std::int64_t m_rowsInGroup;
    ReadBudget& m_budget;
    std::int64_t m_rows = 0;
    bool m_done = false;
};

// A leaf's definition level is the column's maximum; the lists above it, its maximum repetition level.
int maxDef(const ParquetNode& leaf) { return leaf.def; }
int maxRep(const ParquetNode& leaf) { return leaf.repDepth; }

void checkLevels(const std::vector<std::uint32_t>& levels, int maxLevel, const char* what)
{
    for (const std::uint32_t level : levels)
        if (level > static_cast<std::uint32_t>(maxLevel))
            fail(std::string(what) + " hold " + std::to_string(level) + ", above the column's maximum of " + std::to_string(maxLevel));
}

// Levels of a v1 page: a 4-byte length, then the RLE / bit-packed hybrid runs.
void readLevelsV1(ByteCursor& in, int encoding, int maxLevel, std::size_t count, std::vector<std::uint32_t>& out, const char* what)
{
    if (maxLevel == 0) return;
    if (encoding != encoding::kRle)
        fail(std::string(what) + " use the encoding " + encodingName(encoding) + ", which is not supported (LoRA Lab reads RLE levels)");
    const std::uint32_t length = in.le<std::uint32_t>();
    if (length > in.remaining())
        fail(std::string(what) + " claim " + std::to_string(length) + " bytes, the page holds " + std::to_string(in.remaining()));
    out.resize(count);
    decodeRleHybrid(in.here(), length, bitWidthFor(static_cast<std::uint32_t>(maxLevel)), count, out.data(), what);
    in.take(length);
    checkLevels(out, maxLevel, what);
}

// Levels of a v2 page: `length` bytes of runs, never compressed.
void readLevelsV2(const std::uint8_t* data, std::size_t length, int maxLevel, std::size_t count, std::vector<std::uint32_t>& out,
                  const char* what)
{
    if (maxLevel == 0) return;
    out.resize(count);
    decodeRleHybrid(data, length, bitWidthFor(static_cast<std::uint32_t>(maxLevel)), count, out.data(), what);
    checkLevels(out, maxLevel, what);
}

struct ChunkState {
    std::string dictionaryBytes; // the decompressed dictionary page, which `dictionary` points into
    PageValues dictionary;
    bool hasDictionary = false;
    bool sawDataPage = false;
};

} // namespace

void readColumnChunk(const ChunkSource& source, const ColumnChunkMeta& meta, LeafChain& chain, std::int64_t rows, std::int64_t rowsInGroup,
                     ReadBudget& budget)
{
    const ParquetNode& leaf = *chain.nodes.back();
    if (!meta.hasMetaData) fail("the column chunk has no metadata");
    if (!meta.filePath.empty()) fail("the column chunk lives in another file ('" + meta.filePath + "'), which is not supported");
    if (meta.type != leaf.physical) fail("the column chunk's physical type differs from the schema's");
    std::int64_t start = meta.dataPageOffset;
    if (meta.dictionaryPageOffset > 0 && meta.dictionaryPageOffset < start) start = meta.dictionaryPageOffset;
    const auto dataEnd = static_cast<std::int64_t>(source.dataEnd);
    if (start < 4 || start > dataEnd || meta.totalCompressedSize < 0 || meta.totalCompressedSize > dataEnd - start)
        fail("the column chunk's bytes (" + std::to_string(meta.totalCompressedSize) + " from offset " + std::to_string(start) +
             ") lie outside the file's data");
    const std::size_t end = static_cast<std::size_t>(start + meta.totalCompressedSize);
    std::size_t pos = static_cast<std::size_t>(start);

    Assembler assembler(chain, rows, rowsInGroup, budget);
    ChunkState state;
    std::vector<std::uint32_t> defs, reps;
    std::int64_t valuesRead = 0;
    for (int page = 0; pos < end && valuesRead < meta.numValues && !assembler.done(); ++page) {
        try {
            const PageHeader h = parsePageHeader(source.file + pos, end - pos);
            if (h.compressedSize < 0 || h.uncompressedSize < 0) fail("the page header gives a negative size");
            const std::size_t bodyStart = pos + h.headerBytes;
            if (static_cast<std::size_t>(h.compressedSize) > end - bodyStart)
                fail("the page of " + std::to_string(h.compressedSize) + " bytes runs past the end of the column chunk (" +
                     std::to_string(end - bodyStart) + " bytes left)");
            const std::uint8_t* body = source.file + bodyStart;
            const auto compressed = static_cast<std::size_t>(h.compressedSize);
            const auto uncompressed = static_cast<std::size_t>(h.uncompressedSize);
            pos = bodyStart + compressed;
            const bool isData = h.type == static_cast<int>(PageType::DataPage) || h.type == static_cast<int>(PageType::DataPageV2);
            if (!isData && h.type != static_cast<int>(PageType::DictionaryPage)) continue; // index pages and the like
            if (h.numValues < 0) fail("the page header gives no value count");
            const auto n = static_cast<std::size_t>(h.numValues);
            // The page, its levels and its values side by side at most.
            budget.require(static_cast<std::int64_t>(uncompressed) + h.numValues * std::int64_t(24));

            if (h.type == static_cast<int>(PageType::DictionaryPage)) {
                if (state.hasDictionary) fail("the column chunk has a second dictionary page");
                if (state.sawDataPage) fail("the dictionary page comes after data pages");
                state.dictionaryBytes = decompressParquet(meta.codec, body, compressed, uncompressed);
                state.dictionary = decodeDictionary(leaf, h.encoding, reinterpret_cast<const std::uint8_t*>(state.dictionaryBytes.data()),
                                                    state.dictionaryBytes.size(), n);
                state.hasDictionary = true;
                continue;
            }
            state.sawDataPage = true;
            defs.clear();
            reps.clear();
            std::string buffer;
            const std::uint8_t* values = nullptr;
            std::size_t valuesSize = 0;
            if (h.type == static_cast<int>(PageType::DataPage)) {
                buffer = decompressParquet(meta.codec, body, compressed, uncompressed);
                ByteCursor in(reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size(), "the page");
                readLevelsV1(in, h.repetitionLevelEncoding, maxRep(leaf), n, reps, "repetition levels");
                readLevelsV1(in, h.definitionLevelEncoding, maxDef(leaf), n, defs, "definition levels");
                values = in.here();
                valuesSize = in.remaining();
            } else {
                const std::int64_t levelBytes = std::int64_t(h.repetitionLevelsBytes) + h.definitionLevelsBytes;
                if (h.repetitionLevelsBytes < 0 || h.definitionLevelsBytes < 0 || levelBytes > h.compressedSize ||
                    levelBytes > h.uncompressedSize)
                    fail("the page's level lengths do not fit in the page");
                const auto repBytes = static_cast<std::size_t>(h.repetitionLevelsBytes);
                const auto levels = static_cast<std::size_t>(levelBytes);
                readLevelsV2(body, repBytes, maxRep(leaf), n, reps, "repetition levels");
                readLevelsV2(body + repBytes, levels - repBytes, maxDef(leaf), n, defs, "definition levels");
                if (h.isCompressed && meta.codec != codec::kUncompressed) {
                    buffer = decompressParquet(meta.codec, body + levels, compressed - levels, uncompressed - levels);
                    values = reinterpret_cast<const std::uint8_t*>(buffer.data());
                    valuesSize = buffer.size();
                } else {
                    if (compressed != uncompressed) fail("an uncompressed page's sizes differ");
                    values = body + levels;
                    valuesSize = compressed - levels;
                }
            }
            const std::size_t present =
                defs.empty() ? n : static_cast<std::size_t>(std::count(defs.begin(), defs.end(), static_cast<std::uint32_t>(maxDef(leaf))));
            PageValues decoded;
            if (leaf.value != ValueKind::Null || present > 0)
                decoded = decodeValues(leaf, h.encoding, values, valuesSize, present, state.hasDictionary ? &state.dictionary : nullptr);
            assembler.feed(defs.empty() ? nullptr : defs.data(), reps.empty() ? nullptr : reps.data(), n, decoded);
            valuesRead += h.numValues;
        } catch (const FormatError& e) {
            fail("page " + std::to_string(page) + ": " + e.what());
        }
    }
    if (!assembler.done() && assembler.rows() < rows)
        fail("the column chunk ends after " + std::to_string(assembler.rows()) + " of its " + std::to_string(rows) + " rows");
}

} // namespace loralab::columnar
