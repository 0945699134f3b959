// FlatBuffers tables, read with every offset checked; see flatbuffer_table.h.
#include "engine/data/columnar/flatbuffer_table.h"

#include "engine/data/columnar/columnar_bytes.h"

#include <string>

namespace loralab::columnar {

FlatTable::FlatTable(const std::uint8_t* buf, std::size_t size, std::size_t pos) : m_buf(buf), m_size(size), m_pos(pos)
{
    if (pos > size || size - pos < 4) fail("a FlatBuffers table lies outside its buffer");
    const std::int64_t vtable = static_cast<std::int64_t>(pos) - loadLe<std::int32_t>(buf + pos);
    if (vtable < 0 || vtable > static_cast<std::int64_t>(size) - 4) fail("a FlatBuffers vtable lies outside its buffer");
    m_vtable = static_cast<std::size_t>(vtable);
    m_vtableSize = loadLe<std::uint16_t>(buf + m_vtable);
    m_tableSize = loadLe<std::uint16_t>(buf + m_vtable + 2);
    if (m_vtableSize < 4 || m_vtableSize % 2 != 0 || m_vtableSize > size - m_vtable) fail("a FlatBuffers vtable is malformed");
    if (m_tableSize < 4 || m_tableSize > size - pos) fail("a FlatBuffers table runs past its buffer");
}

FlatTable FlatTable::root(const std::uint8_t* buf, std::size_t size)
{
    if (size < 4) fail("the FlatBuffers metadata is shorter than 4 bytes");
    return FlatTable(buf, size, loadLe<std::uint32_t>(buf));
}

std::size_t FlatTable::fieldOffset(int field) const
{
    if (!m_buf) return 0;
    const std::size_t entry = 4 + 2 * static_cast<std::size_t>(field);
    if (entry + 2 > m_vtableSize) return 0;
    return loadLe<std::uint16_t>(m_buf + m_vtable + entry);
}

std::int64_t FlatTable::integer(int field, int width, bool isSigned, std::int64_t fallback) const
{
    const std::size_t offset = fieldOffset(field);
    if (offset == 0) return fallback;
    if (offset + static_cast<std::size_t>(width) > m_tableSize) fail("a FlatBuffers field runs past its table");
    const std::uint8_t* p = m_buf + m_pos + offset;
    switch (width) {
    case 1: return isSigned ? std::int64_t(static_cast<std::int8_t>(*p)) : std::int64_t(*p);
    case 2: return isSigned ? std::int64_t(loadLe<std::int16_t>(p)) : std::int64_t(loadLe<std::uint16_t>(p));
    case 4: return isSigned ? std::int64_t(loadLe<std::int32_t>(p)) : std::int64_t(loadLe<std::uint32_t>(p));
    default: return loadLe<std::int64_t>(p);
    }
}

std::size_t FlatTable::target(int field) const
{
    const std::size_t offset = fieldOffset(field);
    if (offset + 4 > m_tableSize) fail("a FlatBuffers offset runs past its table");
    const std::size_t at = m_pos + offset;
    const std::uint32_t forward = loadLe<std::uint32_t>(m_buf + at);
    if (forward == 0 || forward > m_size - at) fail("a FlatBuffers offset points outside its buffer");
    return at + forward;
}

FlatTable FlatTable::table(int field) const
{
    if (!has(field)) return {};
    return FlatTable(m_buf, m_size, target(field));
}

std::string_view FlatTable::string(int field) const
{
    if (!has(field)) return {};
    const std::size_t at = target(field);
    if (m_size - at < 4) fail("a FlatBuffers string lies outside its buffer");
    const std::uint32_t length = loadLe<std::uint32_t>(m_buf + at);
    if (length > m_size - at - 4) fail("a FlatBuffers string of " + std::to_string(length) + " bytes runs past its buffer");
    return std::string_view(reinterpret_cast<const char*>(m_buf + at + 4), length);
}

FlatVector FlatTable::vector(int field, std::size_t elementSize) const
{
    if (!has(field)) return {};
    const std::size_t at = target(field);
    if (m_size - at < 4) fail("a FlatBuffers vector lies outside its buffer");
    const std::uint32_t length = loadLe<std::uint32_t>(m_buf + at);
    if (length > (m_size - at - 4) / elementSize)
        fail("a FlatBuffers vector of " + std::to_string(length) + " elements runs past its buffer");
    return FlatVector(m_buf, m_size, at + 4, length, elementSize);
}

FlatTable FlatVector::table(std::size_t i) const
{
    const std::size_t at = m_first + 4 * i;
    const std::uint32_t forward = loadLe<std::uint32_t>(m_buf + at);
    if (forward == 0 || forward > m_size - at) fail("a FlatBuffers vector element points outside its buffer");
    return FlatTable(m_buf, m_size, at + forward);
}

} // namespace loralab::columnar
