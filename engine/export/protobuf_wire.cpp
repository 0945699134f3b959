// Protocol buffers wire format; see protobuf_wire.h. All multi-byte fixed
// fields are little-endian, as the format defines them.
#include "engine/export/protobuf_wire.h"

#include "engine/util/error.h"

#include <cstring>
#include <type_traits>
#include <utility>

namespace loralab {
namespace {

template <typename T>
void appendLittleEndian(std::string& out, T value)
{
    static_assert(std::is_integral<T>::value, "integers only");
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

} // namespace

void ProtoWriter::varint(std::uint64_t value)
{
    while (value >= 0x80) {
        m_bytes.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    m_bytes.push_back(static_cast<char>(value));
}

void ProtoWriter::tag(int field, WireType type)
{
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(type));
}

void ProtoWriter::addVarint(int field, std::uint64_t value)
{
    tag(field, WireType::Varint);
    varint(value);
}

void ProtoWriter::addDouble(int field, double value)
{
    tag(field, WireType::Fixed64);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    appendLittleEndian(m_bytes, bits);
}

void ProtoWriter::addFloat(int field, float value)
{
    tag(field, WireType::Fixed32);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    appendLittleEndian(m_bytes, bits);
}

void ProtoWriter::addBytes(int field, std::string_view bytes)
{
    tag(field, WireType::LengthDelimited);
    varint(bytes.size());
    m_bytes.append(bytes.data(), bytes.size());
}

ProtoReader::ProtoReader(std::string_view bytes, std::string source) : m_bytes(bytes), m_source(std::move(source)) {}

void ProtoReader::fail(const std::string& why) const
{
    throw fileError(m_source, why + " at byte " + std::to_string(m_pos) + " (not a valid protocol buffer)");
}

std::uint64_t ProtoReader::readVarint()
{
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (m_pos >= m_bytes.size()) fail("truncated varint");
        const auto byte = static_cast<std::uint8_t>(m_bytes[m_pos++]);
        value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) return value;
    }
    fail("varint longer than 10 bytes");
}

bool ProtoReader::next()
{
    if (m_pos >= m_bytes.size()) return false;
    const std::uint64_t key = readVarint();
    const auto type = static_cast<std::uint8_t>(key & 7);
    if (type != 0 && type != 1 && type != 2 && type != 5) fail("unsupported wire type " + std::to_string(type));
    if ((key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) fail("invalid field number");
    m_field = static_cast<int>(key >> 3);
    m_type = static_cast<WireType>(type);
    return true;
}

void ProtoReader::expect(WireType type) const
{
    if (m_type != type)
        fail("field " + std::to_string(m_field) + " has wire type " + std::to_string(static_cast<int>(m_type)) + ", expected " +
             std::to_string(static_cast<int>(type)));
}

std::uint64_t ProtoReader::varint()
{
    expect(WireType::Varint);
    return readVarint();
}

float ProtoReader::fixed32Float()
{
    expect(WireType::Fixed32);
    if (m_bytes.size() - m_pos < 4) fail("truncated 32-bit field");
    std::uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(m_bytes[m_pos + i])) << (8 * i);
    m_pos += 4;
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

double ProtoReader::fixed64Double()
{
    expect(WireType::Fixed64);
    if (m_bytes.size() - m_pos < 8) fail("truncated 64-bit field");
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(m_bytes[m_pos + i])) << (8 * i);
    m_pos += 8;
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

std::string_view ProtoReader::bytes()
{
    expect(WireType::LengthDelimited);
    const std::uint64_t size = readVarint();
    if (size > m_bytes.size() - m_pos) fail("field " + std::to_string(m_field) + " runs past the end");
    const std::string_view out = m_bytes.substr(m_pos, static_cast<std::size_t>(size));
    m_pos += static_cast<std::size_t>(size);
    return out;
}

void ProtoReader::skip()
{
    switch (m_type) {
    case WireType::Varint: readVarint(); return;
    case WireType::Fixed64: fixed64Double(); return;
    case WireType::Fixed32: fixed32Float(); return;
    case WireType::LengthDelimited: bytes(); return;
    }
}

} // namespace loralab
