// A bounds-checked reader of FlatBuffers tables, the encoding of Arrow IPC's
// metadata (Message, Schema, RecordBatch, Footer). A table starts with a
// signed offset back to its vtable, whose 16-bit entries give each field's
// position inside the table (0: absent, the default applies); tables,
// vectors and strings are reached through unsigned 32-bit offsets forward.
// Every position is checked against the buffer before it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace loralab::columnar {

class FlatTable;

// A vector of tables or of fixed-size structs.
class FlatVector {
public:
    FlatVector() = default;
    FlatVector(const std::uint8_t* buf, std::size_t size, std::size_t first, std::size_t length, std::size_t elementSize)
        : m_buf(buf), m_size(size), m_first(first), m_length(length), m_elementSize(elementSize)
    {
    }
    std::size_t size() const { return m_length; }
    // Element i of a vector of tables.
    FlatTable table(std::size_t i) const;
    // Element i of a vector of structs: m_elementSize bytes.
    const std::uint8_t* element(std::size_t i) const { return m_buf + m_first + i * m_elementSize; }

private:
    const std::uint8_t* m_buf = nullptr;
    std::size_t m_size = 0;
    std::size_t m_first = 0;
    std::size_t m_length = 0;
    std::size_t m_elementSize = 0;
};

class FlatTable {
public:
    FlatTable() = default;
    // The table at `pos`; throws FormatError when its vtable lies outside the buffer.
    FlatTable(const std::uint8_t* buf, std::size_t size, std::size_t pos);
    // The root table of a buffer.
    static FlatTable root(const std::uint8_t* buf, std::size_t size);

    bool present() const { return m_buf != nullptr; }
    bool has(int field) const { return fieldOffset(field) != 0; }

    std::int64_t integer(int field, int width, bool isSigned, std::int64_t fallback) const;
    bool boolean(int field, bool fallback) const { return integer(field, 1, false, fallback ? 1 : 0) != 0; }
    // An absent field gives a table that is not present().
    FlatTable table(int field) const;
    std::string_view string(int field) const;
    // An absent field gives an empty vector.
    FlatVector vector(int field, std::size_t elementSize) const;

private:
    std::size_t fieldOffset(int field) const;
    // The position a uoffset field points to, checked.
    std::size_t target(int field) const;

    const std::uint8_t* m_buf = nullptr;
    std::size_t m_size = 0;
    std::size_t m_pos = 0;
    std::size_t m_vtable = 0;
    std::size_t m_vtableSize = 0;
    std::size_t m_tableSize = 0;
};

} // namespace loralab::columnar
