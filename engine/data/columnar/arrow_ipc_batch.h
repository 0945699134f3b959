// Decodes the body of one Arrow IPC record batch (or dictionary batch) into
// columns. The batch's metadata lists a node (length, null count) per field
// and the field's buffers (validity, offsets, values), depth first; the
// buffers are slices of the message body, each Zstandard compressed when the
// batch says so. Every node, buffer and offset is checked before it is used.
#pragma once

#include "engine/data/columnar/arrow_ipc_schema.h"
#include "engine/data/columnar/columnar_bytes.h"

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace loralab::columnar {

// The values of each dictionary, by id.
using ArrowDictionaries = std::map<std::int64_t, ColumnData>;

class ArrowBatchReader {
public:
    // `batch` is a RecordBatch table; [body, body + bodySize) the message body.
    ArrowBatchReader(const FlatTable& batch, const std::uint8_t* body, std::size_t bodySize, ReadBudget& budget);

    std::int64_t length() const { return m_length; }

    // Appends entries [begin, begin + count) of the next field, which has
    // type `field`, to `column`; dictionary-encoded fields are looked up in
    // `dictionaries`. `asValues`: read an encoded field as its values (a
    // dictionary batch) rather than as indices.
    void append(const ArrowField& field, ColumnData& column, std::int64_t begin, std::int64_t count, const ArrowDictionaries& dictionaries,
                bool asValues = false);
    // Steps over the next field's nodes and buffers.
    void skip(const ArrowField& field, bool asValues = false);

private:
    struct Node {
        std::int64_t length = 0;
        std::int64_t nullCount = 0;
    };
    struct Buffer {
        const std::uint8_t* data = nullptr;
        std::size_t size = 0;
    };
    Node nextNode(const ArrowField& field, std::int64_t needed);
    Buffer nextBuffer(const ArrowField& field);

    FlatVector m_nodes;
    FlatVector m_buffers;
    std::size_t m_nextNode = 0;
    std::size_t m_nextBuffer = 0;
    const std::uint8_t* m_body;
    std::size_t m_bodySize;
    std::int64_t m_length = 0;
    bool m_zstd = false;
    ReadBudget& m_budget;
    std::deque<std::string> m_decompressed; // buffers decompressed for this batch
    std::int64_t m_decompressedBytes = 0;
};

} // namespace loralab::columnar
