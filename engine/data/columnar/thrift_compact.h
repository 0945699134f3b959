// A reader of the Thrift compact protocol, the encoding of Parquet's footer
// (FileMetaData) and page headers. It reads structs field by field and skips
// what the caller does not ask for; every length is checked against the bytes
// left, and nesting is capped so that a crafted footer cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loralab::columnar {

enum class ThriftType : std::uint8_t {
    Stop = 0,
    BoolTrue = 1,
    BoolFalse = 2,
    Byte = 3,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    Double = 7,
    Binary = 8,
    List = 9,
    Set = 10,
    Map = 11,
    Struct = 12,
};

struct ThriftField {
    std::int16_t id = 0;
    ThriftType type = ThriftType::Stop;
};

struct ThriftList {
    ThriftType elementType = ThriftType::Stop;
    std::size_t size = 0;
};

class ThriftReader {
public:
    ThriftReader(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}

    // A struct is read as beginStruct(), nextField() until it returns false
    // (each field read with the call for its type, or skip(field.type)), endStruct().
    void beginStruct();
    bool nextField(ThriftField& field);
    void endStruct();

    // Integers of any width as the field's type says (byte, i16, i32, i64).
    std::int64_t readInt(ThriftType type);
    std::int32_t readI32(ThriftType type); // refuses values outside int32
    // A struct field's bool is its type; a list element's is a byte.
    bool readBool(ThriftType type);
    std::string_view readBinary();
    std::string readString() { return std::string(readBinary()); }
    ThriftList readListHeader();
    void skip(ThriftType type);

    std::size_t position() const { return m_pos; }

private:
    std::uint64_t readVarint();
    std::uint8_t readByte();

    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    std::vector<std::int16_t> m_lastFieldIds; // one per open struct
    int m_skipDepth = 0;
};

} // namespace loralab::columnar
