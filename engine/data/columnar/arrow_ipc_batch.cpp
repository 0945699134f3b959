// Record batch bodies into columns; see arrow_ipc_batch.h. Buffers per field,
// in order: validity (a bitmap, least significant bit first, empty when there
// are no nulls), then offsets (32 or 64 bits, length + 1) and data for strings
// and binary; values for fixed-width types; offsets for lists. A Null field
// has none; a dictionary-encoded field has validity and indices only.
#include "engine/data/columnar/arrow_ipc_batch.h"

#include "engine/data/columnar/column_builder.h"
#include "engine/data/columnar/decompress.h"

#include <limits>

namespace loralab::columnar {
namespace {

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// A signed or unsigned little-endian integer of `bytes` bytes.
std::int64_t loadInt(const std::uint8_t* p, int bytes, bool isSigned)
{
    switch (bytes) {
    case 1: return isSigned ? std::int64_t(static_cast<std::int8_t>(*p)) : std::int64_t(*p);
    case 2: return isSigned ? std::int64_t(loadLe<std::int16_t>(p)) : std::int64_t(loadLe<std::uint16_t>(p));
    case 4: return isSigned ? std::int64_t(loadLe<std::int32_t>(p)) : std::int64_t(loadLe<std::uint32_t>(p));
    default: return loadLe<std::int64_t>(p);
    }
}

// The buffer holds `entries` values of `width` bytes.
void needValues(const ArrowField& f, std::size_t have, std::int64_t entries, std::int64_t width, const char* what)
{
    if (width > 0 && entries > static_cast<std::int64_t>(have) / width)
        fail("field '" + f.name + "': its " + what + " buffer holds " + std::to_string(have) + " bytes, " + std::to_string(entries) +
             " entries of " + std::to_string(width) + " bytes need more");
}

} // namespace

ArrowBatchReader::ArrowBatchReader(const FlatTable& batch, const std::uint8_t* body, std::size_t bodySize, ReadBudget& budget)
    : m_body(body), m_bodySize(bodySize), m_budget(budget)
{
    // RecordBatch: length 0, nodes 1 (16-byte FieldNode structs), buffers 2 (16-byte Buffer structs), compression 3.
    m_length = batch.integer(0, 8, true, 0);
    if (m_length < 0) fail("a record batch has a negative length");
    m_nodes = batch.vector(1, 16);
    m_buffers = batch.vector(2, 16);
    const FlatTable compression = batch.table(3);
    if (compression.present()) { // BodyCompression: codec 0 (LZ4_FRAME 0, ZSTD 1), method 1 (BUFFER 0)
        const std::int64_t codec = compression.integer(0, 1, true, 0);
        if (codec == 0) fail("its bodies are LZ4_FRAME compressed, which is not supported (LoRA Lab reads uncompressed and ZSTD bodies)");
        if (codec != 1) fail("its bodies use the unknown compression " + std::to_string(codec));
        if (compression.integer(1, 1, true, 0) != 0) fail("its bodies use an unknown compression method");
        m_zstd = true;
    }
}

ArrowBatchReader::Node ArrowBatchReader::nextNode(const ArrowField& field, std::int64_t needed)
{
    if (m_nextNode >= m_nodes.size()) fail("the batch has fewer field nodes than the schema has fields (at field '" + field.name + "')");
    const std::uint8_t* p = m_nodes.element(m_nextNode++);
    Node node{loadLe<std::int64_t>(p), loadLe<std::int64_t>(p + 8)};
    if (node.length < 0 || node.nullCount < 0 || node.nullCount > node.length)
        fail("field '" + field.name + "' has a malformed node (length " + std::to_string(node.length) + ", nulls " +
             std::to_string(node.nullCount) + ")");
    if (node.length < needed)
        fail("field '" + field.name + "' holds " + std::to_string(node.length) + " entries, " + std::to_string(needed) + " are needed");
    return node;
}

ArrowBatchReader::Buffer ArrowBatchReader::nextBuffer(const ArrowField& field)
{
    if (m_nextBuffer >= m_buffers.size()) fail("the batch has fewer buffers than its fields need (at field '" + field.name + "')");
    const std::uint8_t* p = m_buffers.element(m_nextBuffer++);
    const std::int64_t offset = loadLe<std::int64_t>(p);
    const std::int64_t length = loadLe<std::int64_t>(p + 8);
    const auto body = static_cast<std::int64_t>(m_bodySize);
    if (offset < 0 || length < 0 || offset > body || length > body - offset)
        fail("field '" + field.name + "' has a buffer (" + std::to_string(length) + " bytes at " + std::to_string(offset) +
             ") outside the message body of " + std::to_string(m_bodySize) + " bytes");
    Buffer b{m_body + offset, static_cast<std::size_t>(length)};
    if (!m_zstd || b.size == 0) return b;
    // A compressed buffer starts with its uncompressed length; -1: stored as is.
    if (b.size < 8) fail("field '" + field.name + "' has a compressed buffer without its length");
    const std::int64_t uncompressed = loadLe<std::int64_t>(b.data);
    if (uncompressed == -1) return Buffer{b.data + 8, b.size - 8};
    if (uncompressed < 0) fail("field '" + field.name + "' has a compressed buffer of negative length");
    m_budget.require(m_decompressedBytes + uncompressed);
    m_decompressed.push_back(decompressZstd(b.data + 8, b.size - 8, static_cast<std::size_t>(uncompressed)));
    m_decompressedBytes += uncompressed;
    const std::string& out = m_decompressed.back();
    return Buffer{reinterpret_cast<const std::uint8_t*>(out.data()), out.size()};
}

void ArrowBatchReader::skip(const ArrowField& field, bool asValues)
{
    const bool indices = field.dictionary && !asValues;
    if (!indices && !field.steppable)
        fail("field '" + field.name + "' has type " + field.typeText + ", which LoRA Lab can neither read nor step over");
    nextNode(field, 0);
    const std::size_t buffers = indices ? 2 : static_cast<std::size_t>(field.buffers);
    if (buffers > m_buffers.size() - m_nextBuffer) fail("the batch has fewer buffers than its fields need (at field '" + field.name + "')");
    m_nextBuffer += buffers;
    if (!indices)
        for (const ArrowField& child : field.children) skip(child);
}

void ArrowBatchReader::append(const ArrowField& field, ColumnData& column, std::int64_t begin, std::int64_t count,
                              const ArrowDictionaries& dictionaries, bool asValues)
{
    const bool indices = field.dictionary && !asValues;
    if (!indices && field.type == ArrowType::Unreadable)
        fail("field '" + field.name + "' has type " + field.typeText + ", which LoRA Lab does not read");
    if (begin < 0 || count < 0 || begin > kMaxInt64 - count) fail("field '" + field.name + "': entries out of range");
    const std::int64_t end = begin + count;
    const Node node = nextNode(field, end);
    if (!indices && field.type == ArrowType::Null) {
        for (std::int64_t i = 0; i < count; ++i) appendNull(column, m_budget);
        return;
    }
    const Buffer validity = nextBuffer(field);
    if (validity.size == 0 && node.nullCount > 0) fail("field '" + field.name + "' has nulls but no validity bitmap");
    if (validity.size > 0 && static_cast<std::int64_t>(validity.size) < (end + 7) / 8)
        fail("field '" + field.name + "': its validity bitmap is shorter than its entries");
    const auto present = [&](std::int64_t i) { return validity.size == 0 || ((validity.data[i / 8] >> (i % 8)) & 1) != 0; };

    if (indices) {
        const Buffer idx = nextBuffer(field);
        const int width = field.indexBits / 8;
        needValues(field, idx.size, end, width, "index");
        const auto found = dictionaries.find(field.dictionaryId);
        if (found == dictionaries.end())
            fail("field '" + field.name + "' uses dictionary " + std::to_string(field.dictionaryId) + ", which was not sent before the batch");
        const ColumnData& dictionary = found->second;
        for (std::int64_t i = begin; i < end; ++i) {
            if (!present(i)) {
                appendNull(column, m_budget);
                continue;
            }
            const std::int64_t index = loadInt(idx.data + i * width, width, field.indexSigned);
            if (index < 0 || index >= dictionary.length)
                fail("field '" + field.name + "': dictionary index " + std::to_string(index) + " is out of range (the dictionary has " +
                     std::to_string(dictionary.length) + " entries)");
            appendEntry(column, dictionary, index, m_budget);
        }
        return;
    }

    switch (field.type) {
    case ArrowType::Bool:
    case ArrowType::Int:
    case ArrowType::Float: {
        const Buffer values = nextBuffer(field);
        if (field.type == ArrowType::Bool) {
            if (static_cast<std::int64_t>(values.size) < (end + 7) / 8) fail("field '" + field.name + "': its values are shorter than its entries");
        } else {
            needValues(field, values.size, end, field.bitWidth / 8, "values");
        }
        const int width = field.bitWidth / 8;
        for (std::int64_t i = begin; i < end; ++i) {
            if (!present(i)) {
                appendNull(column, m_budget);
                continue;
            }
            m_budget.charge(kEntryBytes);
            if (field.type == ArrowType::Bool) appendInt(column, (values.data[i / 8] >> (i % 8)) & 1);
            else if (field.type == ArrowType::Int) appendInt(column, loadInt(values.data + i * width, width, field.isSigned));
            else if (width == 4) appendFloat(column, static_cast<double>(loadLe<float>(values.data + i * 4)));
            else appendFloat(column, loadLe<double>(values.data + i * 8));
        }
        return;
    }
    case ArrowType::Utf8:
    case ArrowType::LargeUtf8:
    case ArrowType::Binary:
    case ArrowType::LargeBinary: {
        const Buffer offsets = nextBuffer(field);
        const Buffer data = nextBuffer(field);
        if (count == 0) return;
        const int width = field.type == ArrowType::LargeUtf8 || field.type == ArrowType::LargeBinary ? 8 : 4;
        needValues(field, offsets.size, end + 1, width, "offsets");
        for (std::int64_t i = begin; i < end; ++i) {
            if (!present(i)) {
                appendNull(column, m_budget);
                continue;
            }
            const std::int64_t from = loadInt(offsets.data + i * width, width, true);
            const std::int64_t to = loadInt(offsets.data + (i + 1) * width, width, true);
            if (from < 0 || to < from || to > static_cast<std::int64_t>(data.size))
                fail("field '" + field.name + "': entry " + std::to_string(i) + " spans bytes " + std::to_string(from) + " to " +
                     std::to_string(to) + " of a data buffer of " + std::to_string(data.size));
            appendBytes(column, std::string_view(reinterpret_cast<const char*>(data.data + from), static_cast<std::size_t>(to - from)),
                        m_budget);
        }
        return;
    }
    case ArrowType::FixedSizeBinary: {
        const Buffer values = nextBuffer(field);
        needValues(field, values.size, end, field.fixedSize, "values");
        const auto width = static_cast<std::size_t>(field.fixedSize);
        for (std::int64_t i = begin; i < end; ++i) {
            if (!present(i)) appendNull(column, m_budget);
            else appendBytes(column, std::string_view(reinterpret_cast<const char*>(values.data) + static_cast<std::size_t>(i) * width, width), m_budget);
        }
        return;
    }
    case ArrowType::List:
    case ArrowType::LargeList:
    case ArrowType::FixedSizeList: {
        std::int64_t childBegin = 0;
        std::int64_t childCount = 0;
        const std::int64_t size = field.fixedSize;
        Buffer offsets;
        int width = field.type == ArrowType::LargeList ? 8 : 4;
        if (field.type == ArrowType::FixedSizeList) {
            if (size > 0 && end > kMaxInt64 / size) fail("field '" + field.name + "': its lists hold too many elements");
            childBegin = begin * size;
            childCount = count * size;
        } else {
            offsets = nextBuffer(field);
            if (count > 0) {
                needValues(field, offsets.size, end + 1, width, "offsets");
                childBegin = loadInt(offsets.data + begin * width, width, true);
                std::int64_t previous = childBegin;
                for (std::int64_t i = begin + 1; i <= end; ++i) {
                    const std::int64_t next = loadInt(offsets.data + i * width, width, true);
                    if (next < previous) fail("field '" + field.name + "': its list offsets decrease");
                    previous = next;
                }
                if (childBegin < 0) fail("field '" + field.name + "': a list offset is negative");
                childCount = previous - childBegin;
            }
        }
        ColumnData& elements = column.children[0];
        const std::int64_t base = elements.length;
        append(field.children[0], elements, childBegin, childCount, dictionaries);
        for (std::int64_t i = begin; i < end; ++i) {
            m_budget.charge(kEntryBytes);
            const std::int64_t to = field.type == ArrowType::FixedSizeList ? (i + 1) * size : loadInt(offsets.data + (i + 1) * width, width, true);
            ++column.length;
            column.valid.push_back(present(i) ? 1 : 0);
            column.offsets.push_back(base + to - childBegin);
        }
        return;
    }
    case ArrowType::Struct:
        for (std::size_t f = 0; f < field.children.size(); ++f) append(field.children[f], column.children[f], begin, count, dictionaries);
        for (std::int64_t i = begin; i < end; ++i) {
            m_budget.charge(kEntryBytes);
            ++column.length;
            column.valid.push_back(present(i) ? 1 : 0);
        }
        return;
    default: fail("field '" + field.name + "' has a type LoRA Lab does not read");
    }
}

} // namespace loralab::columnar
