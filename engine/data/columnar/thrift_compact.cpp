// The Thrift compact protocol; see thrift_compact.h. The encoding: integers
// are zigzag varints; a field header is one byte, the field id's delta from
// the previous field in the high nibble (0: the id follows as a varint) and
// the type in the low nibble; a list header is the size in the high nibble
// (15: the size follows as a varint) and the element type in the low nibble.
#include "engine/data/columnar/thrift_compact.h"

#include "engine/data/columnar/columnar_bytes.h"

#include <limits>

namespace loralab::columnar {
namespace {

// Deeper than any Parquet structure; keeps recursion in skip() bounded.
constexpr int kMaxNesting = 64;

std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

bool isKnownType(std::uint8_t t) { return t <= static_cast<std::uint8_t>(ThriftType::Struct); }

} // namespace

std::uint8_t ThriftReader::readByte()
{
    if (m_pos >= m_size) fail("the Thrift data ends early (at byte " + std::to_string(m_pos) + ")");
    return m_data[m_pos++];
}

std::uint64_t ThriftReader::readVarint()
{
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const std::uint8_t b = readByte();
        value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return value;
    }
    fail("a Thrift varint is longer than 10 bytes (at byte " + std::to_string(m_pos) + ")");
}

void ThriftReader::beginStruct()
{
    if (m_lastFieldIds.size() >= static_cast<std::size_t>(kMaxNesting)) fail("Thrift structs nest too deeply");
    m_lastFieldIds.push_back(0);
}

void ThriftReader::endStruct() { m_lastFieldIds.pop_back(); }

bool ThriftReader::nextField(ThriftField& field)
{
    const std::uint8_t header = readByte();
    const std::uint8_t type = header & 0x0f;
    if (type == 0) return false;
    if (!isKnownType(type)) fail("unknown Thrift type " + std::to_string(type) + " (at byte " + std::to_string(m_pos - 1) + ")");
    const int delta = header >> 4;
    std::int64_t id = delta != 0 ? m_lastFieldIds.back() + delta : unzigzag(readVarint());
    if (id < std::numeric_limits<std::int16_t>::min() || id > std::numeric_limits<std::int16_t>::max())
        fail("a Thrift field id is out of range");
    field.id = static_cast<std::int16_t>(id);
    field.type = static_cast<ThriftType>(type);
    m_lastFieldIds.back() = field.id;
    return true;
}

std::int64_t ThriftReader::readInt(ThriftType type)
{
    switch (type) {
    case ThriftType::Byte: return static_cast<std::int8_t>(readByte());
    case ThriftType::I16:
    case ThriftType::I32:
    case ThriftType::I64: return unzigzag(readVarint());
    default: fail("a Thrift field that should be an integer has type " + std::to_string(static_cast<int>(type)));
    }
}

std::int32_t ThriftReader::readI32(ThriftType type)
{
    const std::int64_t v = readInt(type);
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
        fail("a 32-bit Thrift integer holds " + std::to_string(v));
    return static_cast<std::int32_t>(v);
}

bool ThriftReader::readBool(ThriftType type)
{
    if (type == ThriftType::BoolTrue) return true;
    if (type == ThriftType::BoolFalse) return false;
    if (type == ThriftType::Byte) return readByte() == 1;
    fail("a Thrift field that should be a bool has type " + std::to_string(static_cast<int>(type)));
}

std::string_view ThriftReader::readBinary()
{
    const std::uint64_t n = readVarint();
    if (n > m_size - m_pos)
        fail("a Thrift string of " + std::to_string(n) + " bytes runs past the end (" + std::to_string(m_size - m_pos) + " bytes left)");
    const std::string_view s(reinterpret_cast<const char*>(m_data + m_pos), static_cast<std::size_t>(n));
    m_pos += static_cast<std::size_t>(n);
    return s;
}

ThriftList ThriftReader::readListHeader()
{
    const std::uint8_t header = readByte();
    ThriftList list;
    const std::uint8_t type = header & 0x0f;
    // A list of bools sends its element type as 1 or 2; both mean bool.
    if (!isKnownType(type) || type == 0) fail("a Thrift list has the unknown element type " + std::to_string(type));
    list.elementType = static_cast<ThriftType>(type);
    std::uint64_t size = header >> 4;
    if (size == 15) size = readVarint();
    // Every element takes at least one byte: a larger count cannot be real.
    if (size > m_size - m_pos)
        fail("a Thrift list of " + std::to_string(size) + " elements runs past the end (" + std::to_string(m_size - m_pos) +
             " bytes left)");
    list.size = static_cast<std::size_t>(size);
    return list;
}

void ThriftReader::skip(ThriftType type)
{
    if (++m_skipDepth > kMaxNesting) fail("Thrift values nest too deeply");
    switch (type) {
    case ThriftType::BoolTrue:
    case ThriftType::BoolFalse: break;
    case ThriftType::Byte: readByte(); break;
    case ThriftType::I16:
    case ThriftType::I32:
    case ThriftType::I64: readVarint(); break;
    case ThriftType::Double:
        if (m_size - m_pos < 8) fail("the Thrift data ends early (in a double)");
        m_pos += 8;
        break;
    case ThriftType::Binary: readBinary(); break;
    case ThriftType::List:
    case ThriftType::Set: {
        const ThriftList list = readListHeader();
        for (std::size_t i = 0; i < list.size; ++i) {
            // Bools in a list are a byte each.
            if (list.elementType == ThriftType::BoolTrue || list.elementType == ThriftType::BoolFalse) readByte();
            else skip(list.elementType);
        }
        break;
    }
    case ThriftType::Map: {
        const std::uint64_t size = readVarint();
        if (size > m_size - m_pos) fail("a Thrift map runs past the end");
        if (size > 0) {
            const std::uint8_t types = readByte();
            const std::uint8_t keyType = types >> 4;
            const std::uint8_t valueType = types & 0x0f;
            if (!isKnownType(keyType) || !isKnownType(valueType) || keyType == 0 || valueType == 0)
                fail("a Thrift map has an unknown key or value type");
            for (std::uint64_t i = 0; i < size; ++i) {
                for (const std::uint8_t t : {keyType, valueType}) {
                    if (t == 1 || t == 2) readByte();
                    else skip(static_cast<ThriftType>(t));
                }
            }
        }
        break;
    }
    case ThriftType::Struct: {
        beginStruct();
        ThriftField f;
        while (nextField(f)) skip(f.type);
        endStruct();
        break;
    }
    case ThriftType::Stop: fail("a Thrift value has type stop");
    }
    --m_skipDepth;
}

} // namespace loralab::columnar
