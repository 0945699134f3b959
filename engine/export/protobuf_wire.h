// The protocol buffers wire format, by hand, for the few messages LoRA Lab
// writes (TensorBoard's Event and Summary) and reads (a sentencepiece
// tokenizer.model): varints, 64-bit and 32-bit fixed fields, and
// length-delimited fields (strings, bytes, nested messages). No schema and
// no generated code; callers name the field numbers of the .proto they follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loralab {

enum class WireType : std::uint8_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

// Appends fields to a byte string. Nested messages are encoded on their own
// and added with addMessage (their length goes first, so it must be known).
class ProtoWriter {
public:
    void addVarint(int field, std::uint64_t value);
    void addInt64(int field, std::int64_t value) { addVarint(field, static_cast<std::uint64_t>(value)); }
    void addBool(int field, bool value) { addVarint(field, value ? 1 : 0); }
    void addDouble(int field, double value);
    void addFloat(int field, float value);
    void addBytes(int field, std::string_view bytes);
    void addString(int field, std::string_view text) { addBytes(field, text); }
    void addMessage(int field, const ProtoWriter& message) { addBytes(field, message.bytes()); }

    const std::string& bytes() const { return m_bytes; }

private:
    void tag(int field, WireType type);
    void varint(std::uint64_t value);
    std::string m_bytes;
};

// Reads fields one after another from a message's bytes; every read is
// checked against the end, so truncated or corrupt input is an Error (naming
// `source` and the byte offset), never a read past the buffer.
class ProtoReader {
public:
    ProtoReader(std::string_view bytes, std::string source);

    // Moves to the next field; false at the end of the message.
    bool next();
    int field() const { return m_field; }
    WireType wireType() const { return m_type; }

    std::uint64_t varint();
    float fixed32Float();
    double fixed64Double();
    std::string_view bytes(); // a length-delimited field's contents (a view into the input)
    void skip();              // the current field's value, whatever its type

    const std::string& source() const { return m_source; }

private:
    std::uint64_t readVarint();
    [[noreturn]] void fail(const std::string& why) const;
    void expect(WireType type) const;

    std::string_view m_bytes;
    std::string m_source;
    std::size_t m_pos = 0;
    int m_field = 0;
    WireType m_type = WireType::Varint;
};

} // namespace loralab
