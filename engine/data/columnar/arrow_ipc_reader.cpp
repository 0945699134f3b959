// The Arrow IPC reader's entry points; see arrow_ipc_reader.h.
//
// A stream is a sequence of encapsulated messages: 0xFFFFFFFF (absent before
// Arrow 0.15), the metadata's length (int32), a FlatBuffers Message padded to
// 8 bytes, and the message's body; a length of 0, or the end of the data,
// ends it. The Schema comes first, then dictionary and record batches. The
// file format wraps a stream in "ARROW1\0\0" ... footer, footer length, "ARROW1",
// where the footer (a FlatBuffers Footer) gives the schema and each batch's place.
#include "engine/data/columnar/arrow_ipc_reader.h"

#include "engine/data/columnar/arrow_ipc_batch.h"
#include "engine/data/columnar/arrow_ipc_schema.h"
#include "engine/data/columnar/column_builder.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <cstring>

namespace loralab {
namespace {

using namespace columnar;

enum class Header { Schema = 1, DictionaryBatch = 2, RecordBatch = 3 };

// The type text of the first field that cannot be read, for the message.
std::string unreadableType(const ArrowField& f)
{
    if (f.type == ArrowType::Unreadable) return f.typeText;
    for (const ArrowField& c : f.children)
        if (!c.readable()) return unreadableType(c);
    return f.typeText;
}

// Arrow's MetadataVersion: V4 (3) is Arrow 0.8 to 0.17, V5 (4) Arrow 1.0 on.
constexpr std::int64_t kOldestVersion = 3;

struct Message {
    bool endOfStream = false;
    std::int64_t headerType = 0;
    FlatTable header;
    const std::uint8_t* body = nullptr;
    std::size_t bodySize = 0;
    std::size_t next = 0; // where the next message starts
};

void checkVersion(std::int64_t version)
{
    if (version < kOldestVersion)
        fail("it was written with Arrow metadata version V" + std::to_string(version + 1) +
             " (before Arrow 0.8), which LoRA Lab does not read");
}

// The message at `pos` of [data, data + end).
Message readMessage(const std::uint8_t* data, std::size_t end, std::size_t pos)
{
    Message m;
    if (pos == end) {
        m.endOfStream = true; // a stream may end without its end marker
        return m;
    }
    const auto truncated = [&](const std::string& what) { fail("the message at byte " + std::to_string(pos) + " " + what + " (the file is truncated?)"); };
    if (end - pos < 4) truncated("is cut off in its header");
    std::size_t at = pos + 4;
    std::int64_t length = loadLe<std::int32_t>(data + pos);
    if (loadLe<std::uint32_t>(data + pos) == 0xffffffffu) {
        if (end - at < 4) truncated("is cut off in its header");
        length = loadLe<std::int32_t>(data + at);
        at += 4;
    }
    if (length == 0) {
        m.endOfStream = true;
        return m;
    }
    if (length < 0 || static_cast<std::uint64_t>(length) > end - at)
        truncated("claims " + std::to_string(length) + " bytes of metadata, " + std::to_string(end - at) + " remain");
    // Message: version 0, header_type 1, header 2, bodyLength 3.
    const FlatTable message = FlatTable::root(data + at, static_cast<std::size_t>(length));
    checkVersion(message.integer(0, 2, true, 0));
    m.headerType = message.integer(1, 1, false, 0);
    m.header = message.table(2);
    if (!m.header.present()) fail("the message at byte " + std::to_string(pos) + " has no header");
    const std::size_t bodyStart = at + static_cast<std::size_t>(length);
    const std::int64_t bodyLength = message.integer(3, 8, true, 0);
    if (bodyLength < 0 || static_cast<std::uint64_t>(bodyLength) > end - bodyStart)
        truncated("has a body of " + std::to_string(bodyLength) + " bytes, " + std::to_string(end - bodyStart) + " remain");
    m.body = data + bodyStart;
    m.bodySize = static_cast<std::size_t>(bodyLength);
    m.next = bodyStart + m.bodySize;
    return m;
}

// What the footer of the file format gives: the schema and the batches' places.
struct FileLayout {
    bool isFile = false;
    FlatTable schema;
    std::vector<std::size_t> dictionaries; // message offsets
    std::vector<std::size_t> recordBatches;
    std::size_t dataEnd = 0;               // where the footer starts
    std::size_t firstMessage = 0;          // streams: after the schema message
};

FileLayout openIpc(const std::uint8_t* data, std::size_t size)
{
    FileLayout layout;
    const bool fileMagic = size >= 6 && std::memcmp(data, "ARROW1", 6) == 0;
    if (!fileMagic) {
        const Message first = readMessage(data, size, 0);
        if (first.endOfStream) fail("the stream holds no schema");
        if (first.headerType != static_cast<std::int64_t>(Header::Schema)) fail("the stream does not start with a schema");
        layout.schema = first.header;
        layout.firstMessage = first.next;
        layout.dataEnd = size;
        return layout;
    }
    layout.isFile = true;
    if (size < 18 || std::memcmp(data + size - 6, "ARROW1", 6) != 0)
        fail("it starts like an Arrow IPC file but does not end with ARROW1: the file is truncated");
    const std::int32_t footerLength = loadLe<std::int32_t>(data + size - 10);
    if (footerLength <= 0 || static_cast<std::size_t>(footerLength) > size - 18)
        fail("its footer claims " + std::to_string(footerLength) + " bytes, more than the file holds");
    layout.dataEnd = size - 10 - static_cast<std::size_t>(footerLength);
    // Footer: version 0, schema 1, dictionaries 2, recordBatches 3 (Block: offset int64, metaDataLength int32, bodyLength int64).
    const FlatTable footer = FlatTable::root(data + layout.dataEnd, static_cast<std::size_t>(footerLength));
    checkVersion(footer.integer(0, 2, true, 0));
    layout.schema = footer.table(1);
    if (!layout.schema.present()) fail("its footer has no schema");
    const auto blocks = [&](int field, std::vector<std::size_t>& out) {
        const FlatVector v = footer.vector(field, 24);
        for (std::size_t i = 0; i < v.size(); ++i) {
            const std::int64_t offset = loadLe<std::int64_t>(v.element(i));
            if (offset < 8 || static_cast<std::uint64_t>(offset) >= layout.dataEnd)
                fail("its footer places a batch at byte " + std::to_string(offset) + ", outside the file's data");
            out.push_back(static_cast<std::size_t>(offset));
        }
    };
    blocks(2, layout.dictionaries);
    blocks(3, layout.recordBatches);
    return layout;
}

class IpcReader {
public:
    IpcReader(const std::uint8_t* data, std::size_t size, const ColumnarReadOptions& options)
        : m_data(data), m_layout(openIpc(data, size)), m_fields(parseArrowSchema(m_layout.schema)), m_budget(options.maxBytes)
    {
        for (const ArrowField& f : m_fields) collectDictionaryFields(f, m_dictionaryFields);
        for (const ArrowField* a : m_dictionaryFields)
            for (const ArrowField* b : m_dictionaryFields)
                if (a->dictionaryId == b->dictionaryId && a->typeText != b->typeText)
                    fail("fields '" + a->name + "' and '" + b->name + "' share dictionary " + std::to_string(a->dictionaryId) +
                         " but not its type");
        m_wanted = options.maxRows;
        select(options.columns);
    }

    std::vector<ColumnInfo> infos() const
    {
        std::vector<ColumnInfo> out;
        for (const ArrowField& f : m_fields) out.push_back({f.name, f.typeText, f.readable()});
        return out;
    }

    ColumnTable read()
    {
        const bool all = m_wanted < 0;
        if (m_layout.isFile) {
            for (const std::size_t at : m_layout.dictionaries) handle(readMessage(m_data, m_layout.dataEnd, at), Header::DictionaryBatch);
            for (const std::size_t at : m_layout.recordBatches) {
                if (!all && m_table.rows >= m_wanted) break;
                handle(readMessage(m_data, m_layout.dataEnd, at), Header::RecordBatch);
            }
        } else {
            for (std::size_t pos = m_layout.firstMessage; all || m_table.rows < m_wanted;) {
                const Message m = readMessage(m_data, m_layout.dataEnd, pos);
                if (m.endOfStream) break;
                handle(m, m.headerType == static_cast<std::int64_t>(Header::DictionaryBatch) ? Header::DictionaryBatch : Header::RecordBatch);
                pos = m.next;
            }
        }
        for (std::size_t c = 0; c < m_table.columns.size(); ++c) {
            try {
                checkColumnShape(m_table.columns[c]);
            } catch (const FormatError& e) {
                fail("column '" + m_table.columnNames[c] + "': " + e.what());
            }
        }
        return std::move(m_table);
    }

private:
    void select(const std::vector<std::string>& names)
    {
        m_selected.assign(m_fields.size(), -1);
        std::vector<std::size_t> order;
        if (names.empty())
            for (std::size_t i = 0; i < m_fields.size(); ++i) order.push_back(i);
        for (const std::string& name : names) {
            std::size_t found = m_fields.size();
            for (std::size_t i = 0; i < m_fields.size() && found == m_fields.size(); ++i)
                if (m_fields[i].name == name) found = i;
            if (found == m_fields.size()) fail("the column '" + name + "' is not there; its columns are " + columnListText(infos()));
            if (std::find(order.begin(), order.end(), found) != order.end()) fail("the column '" + name + "' is asked for twice");
            order.push_back(found);
        }
        for (const std::size_t i : order) {
            const ArrowField& f = m_fields[i];
            if (!f.readable()) {
                const std::string inner = unreadableType(f);
                fail("column '" + f.name + "' has type " + f.typeText + ", which LoRA Lab does not read" +
                     (inner == f.typeText ? "" : " (" + inner + " values)") + (names.empty() ? "; ask for the other columns by name" : ""));
            }
            m_selected[i] = static_cast<int>(m_table.columns.size());
            m_table.columnNames.push_back(f.name);
            m_table.columns.push_back(emptyColumnFor(f));
        }
    }

    void handle(const Message& m, Header expected)
    {
        const std::string where = (expected == Header::RecordBatch ? "record batch " + std::to_string(m_batches) : "a dictionary batch");
        if (m.endOfStream) fail(where + " is missing");
        if (m.headerType == static_cast<std::int64_t>(Header::Schema)) fail("it holds a second schema");
        if (m.headerType != static_cast<std::int64_t>(expected))
            fail("message type " + std::to_string(m.headerType) + " is not a record or dictionary batch where one should be");
        if (expected == Header::DictionaryBatch) dictionaryBatch(m);
        else recordBatch(m);
    }

    void dictionaryBatch(const Message& m)
    {
        // DictionaryBatch: id 0, data 1 (a RecordBatch), isDelta 2.
        const std::int64_t id = m.header.integer(0, 8, true, 0);
        const ArrowField* field = nullptr;
        for (const ArrowField* f : m_dictionaryFields)
            if (f->dictionaryId == id && !field) field = f;
        if (!field) fail("a dictionary batch has the id " + std::to_string(id) + ", which no field uses");
        const FlatTable data = m.header.table(1);
        if (!data.present()) fail("the dictionary batch for field '" + field->name + "' has no data");
        ColumnData values = emptyColumnFor(*field);
        try {
            ArrowBatchReader reader(data, m.body, m.bodySize, m_budget);
            reader.append(*field, values, 0, reader.length(), m_dictionaries, true);
            checkColumnShape(values);
        } catch (const FormatError& e) {
            fail("the dictionary of field '" + field->name + "': " + e.what());
        }
        const auto existing = m_dictionaries.find(id);
        if (m.header.boolean(2, false) && existing != m_dictionaries.end()) {
            for (std::int64_t i = 0; i < values.length; ++i) appendEntry(existing->second, values, i, m_budget);
        } else {
            m_dictionaries[id] = std::move(values);
        }
    }

    void recordBatch(const Message& m)
    {
        const std::string where = "record batch " + std::to_string(m_batches++);
        std::size_t field = m_fields.size(); // none yet: the batch's own metadata
        try {
            ArrowBatchReader reader(m.header, m.body, m.bodySize, m_budget);
            const std::int64_t take = m_wanted < 0 ? reader.length() : std::min(reader.length(), m_wanted - m_table.rows);
            std::size_t last = 0; // read no further than the last column asked for
            for (std::size_t i = 0; i < m_fields.size(); ++i)
                if (m_selected[i] >= 0) last = i + 1;
            for (field = 0; field < last; ++field) {
                if (m_selected[field] < 0) reader.skip(m_fields[field]);
                else reader.append(m_fields[field], m_table.columns[static_cast<std::size_t>(m_selected[field])], 0, take, m_dictionaries);
            }
            m_table.rows += take;
        } catch (const FormatError& e) {
            const std::string column = field < m_fields.size() ? ", column '" + m_fields[field].name + "'" : "";
            fail(where + column + ": " + e.what());
        }
    }

    const std::uint8_t* m_data;
    FileLayout m_layout;
    std::vector<ArrowField> m_fields;
    std::vector<const ArrowField*> m_dictionaryFields;
    ArrowDictionaries m_dictionaries;
    ReadBudget m_budget;
    std::vector<int> m_selected; // per schema field: its column in m_table, or -1
    ColumnTable m_table;
    std::int64_t m_wanted = -1;
    int m_batches = 0;
};

} // namespace

std::vector<ColumnInfo> arrowIpcSchemaFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label)
{
    try {
        const FileLayout layout = openIpc(data, size);
        std::vector<ColumnInfo> out;
        for (const ArrowField& f : parseArrowSchema(layout.schema)) out.push_back({f.name, f.typeText, f.readable()});
        return out;
    } catch (const FormatError& e) {
        throw fileError(label, e.what());
    }
}

ColumnTable readArrowIpcFromBytes(const std::uint8_t* data, std::size_t size, const std::string& label, const ColumnarReadOptions& options)
{
    try {
        IpcReader reader(data, size, options);
        return reader.read();
    } catch (const FormatError& e) {
        throw fileError(label, e.what());
    }
}

std::vector<ColumnInfo> arrowIpcSchema(const std::string& path)
{
    const MappedFile file(path);
    return arrowIpcSchemaFromBytes(file.data(), file.size(), path);
}

ColumnTable readArrowIpc(const std::string& path, const ColumnarReadOptions& options)
{
    const MappedFile file(path);
    return readArrowIpcFromBytes(file.data(), file.size(), path, options);
}

} // namespace loralab
