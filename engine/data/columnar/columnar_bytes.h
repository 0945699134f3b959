// What the Parquet and Arrow IPC readers share inside: the error their
// decoders throw (the readers add the file, column and row group to it), a
// bounds-checked cursor over bytes, unaligned little-endian loads, and the
// budget that caps what one read may hold in memory.
#pragma once

#include "engine/util/units.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loralab::columnar {

// A problem with the data itself; the message says what, the reader that
// catches it says where (file, column, row group, page, message).
class FormatError : public std::runtime_error {
public:
    explicit FormatError(const std::string& what) : std::runtime_error(what) {}
};

[[noreturn]] inline void fail(const std::string& what) { throw FormatError(what); }

// Loads a little-endian T from memory of any alignment.
template <typename T>
T loadLe(const std::uint8_t* p)
{
    T value;
    std::memcpy(&value, p, sizeof value); // the readers refuse big-endian machines at compile time
    return value;
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the columnar readers assume a little-endian machine");

// A cursor over [data, data + size) that refuses to read past the end.
class ByteCursor {
public:
    ByteCursor(const std::uint8_t* data, std::size_t size, const char* what) : m_data(data), m_size(size), m_what(what) {}

    std::size_t remaining() const { return m_size - m_pos; }
    std::size_t position() const { return m_pos; }
    const std::uint8_t* here() const { return m_data + m_pos; }

    const std::uint8_t* take(std::size_t n)
    {
        if (n > remaining())
            fail(std::string(m_what) + " ends early (" + std::to_string(n) + " bytes needed, " + std::to_string(remaining()) +
                 " left)");
        const std::uint8_t* p = m_data + m_pos;
        m_pos += n;
        return p;
    }
    template <typename T>
    T le()
    {
        return loadLe<T>(take(sizeof(T)));
    }

private:
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    const char* m_what;
};

// Counts the bytes a read materialises and stops it, with a clear message,
// once they pass the limit; also answers whether a temporary buffer fits.
class ReadBudget {
public:
    explicit ReadBudget(std::int64_t limit) : m_limit(limit) {}

    void charge(std::int64_t bytes)
    {
        m_used += bytes;
        if (m_used > m_limit) overLimit();
    }
    // A temporary buffer of `bytes` beside what is held already.
    void require(std::int64_t bytes) const
    {
        if (bytes > m_limit - m_used) overLimit();
    }

private:
    [[noreturn]] void overLimit() const
    {
        fail("reading it would hold more than " + bytesText(m_limit) +
             " in memory (the read limit); read fewer columns or rows, or raise the limit");
    }

    std::int64_t m_limit;
    std::int64_t m_used = 0;
};

} // namespace loralab::columnar
