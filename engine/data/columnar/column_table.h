// Columns read from Parquet and Arrow IPC files, held the way Arrow lays them
// out (validity, offsets, values, child columns), and turned into one JSON
// object per row for the dataset loader, which maps columns like JSONL keys:
// a `messages: list<struct<role, content>>` column gives
// [{"role": "...", "content": "..."}, ...] for each row.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

// What one entry of a column holds. Integers of every width are Int (UInt
// for the unsigned ones), floats and doubles are Float.
enum class ValueKind { Null, Bool, Int, UInt, Float, String, Binary, List, Struct };

// One column, or one nested part of a column. Every kind keeps `length`
// entries and `valid`; the other members are used by the kinds named.
struct ColumnData {
    ValueKind kind = ValueKind::Null;
    std::string name;                  // the field's name (struct members key their values by it)
    std::int64_t length = 0;           // entries
    std::vector<std::uint8_t> valid;   // [length], 1 where the entry is not null
    std::vector<std::int64_t> offsets; // String, Binary, List: [length + 1]; entry i spans [offsets[i], offsets[i + 1])
                                       // of `bytes` or of the element column
    std::vector<std::int64_t> ints;    // Bool (0 or 1), Int, UInt (a uint64's bits): [length]
    std::vector<double> floats;        // Float: [length]
    std::string bytes;                 // String, Binary: every value's bytes, back to back
    std::vector<ColumnData> children;  // List: [1], the elements; Struct: its fields, in order

    bool isValid(std::int64_t i) const { return valid[static_cast<std::size_t>(i)] != 0; }
    // Entry i as JSON: null, a bool, a number, a string, binary, an array or an
    // object. Strings are the file's bytes as they are: their UTF-8 is not
    // checked here (the dataset loader checks it, as it does for JSONL lines).
    nlohmann::ordered_json value(std::int64_t i) const;
};

// An empty column of the given kind, ready to be appended to: offsets hold the leading 0.
ColumnData makeColumn(ValueKind kind, std::string name);

// A table of whole columns, each `rows` entries long.
struct ColumnTable {
    std::vector<std::string> columnNames; // in the order they were asked for (else the file's)
    std::vector<ColumnData> columns;      // [columnNames.size()]
    std::int64_t rows = 0;

    // Row i as {"column": value, ...}, in column order.
    nlohmann::ordered_json row(std::int64_t i) const;
    // The column of that name, or nullptr.
    const ColumnData* column(const std::string& name) const;
};

// A column as a file's schema describes it: for listing, and for "the column
// X is not there; columns are a, b, c".
struct ColumnInfo {
    std::string name;
    std::string type;     // "string", "int64", "list<struct<role: string, content: string>>", "timestamp[ms]"
    bool readable = true; // false for types LoRA Lab does not read (decimals, timestamps, maps, ...)
};

// What a read materialises at most, unless told otherwise: 4 GiB.
constexpr std::int64_t kDefaultMaxReadBytes = std::int64_t(4) << 30;

struct ColumnarReadOptions {
    std::vector<std::string> columns;               // top-level columns to read; empty: all of them
    std::int64_t maxRows = -1;                      // the first rows only; -1: all
    std::int64_t maxBytes = kDefaultMaxReadBytes;   // what the columns read may hold in memory
};

// "a (string), b (int64), c (list<string>)", for messages about missing columns.
std::string columnListText(const std::vector<ColumnInfo>& columns);

} // namespace loralab
