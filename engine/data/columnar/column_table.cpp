// Columns as JSON rows, and the appends both readers build columns with; see
// column_table.h and column_builder.h.
#include "engine/data/columnar/column_table.h"

#include "engine/data/columnar/column_builder.h"

namespace loralab {

using Json = nlohmann::ordered_json;

ColumnData makeColumn(ValueKind kind, std::string name)
{
    ColumnData c;
    c.kind = kind;
    c.name = std::move(name);
    if (kind == ValueKind::String || kind == ValueKind::Binary || kind == ValueKind::List) c.offsets.push_back(0);
    return c;
}

Json ColumnData::value(std::int64_t i) const
{
    if (!isValid(i)) return nullptr;
    const auto at = static_cast<std::size_t>(i);
    switch (kind) {
    case ValueKind::Null: return nullptr;
    case ValueKind::Bool: return ints[at] != 0;
    case ValueKind::Int: return ints[at];
    case ValueKind::UInt: return static_cast<std::uint64_t>(ints[at]);
    case ValueKind::Float: return floats[at];
    case ValueKind::String:
        return bytes.substr(static_cast<std::size_t>(offsets[at]), static_cast<std::size_t>(offsets[at + 1] - offsets[at]));
    case ValueKind::Binary:
        return Json::binary(std::vector<std::uint8_t>(bytes.begin() + offsets[at], bytes.begin() + offsets[at + 1]));
    case ValueKind::List: {
        Json list = Json::array();
        for (std::int64_t j = offsets[at]; j < offsets[at + 1]; ++j) list.push_back(children[0].value(j));
        return list;
    }
    case ValueKind::Struct: {
        Json object = Json::object();
        for (const ColumnData& field : children) object[field.name] = field.value(i);
        return object;
    }
    }
    return nullptr;
}

Json ColumnTable::row(std::int64_t i) const
{
    Json object = Json::object();
    for (std::size_t c = 0; c < columns.size(); ++c) object[columnNames[c]] = columns[c].value(i);
    return object;
}

const ColumnData* ColumnTable::column(const std::string& name) const
{
    for (std::size_t c = 0; c < columnNames.size(); ++c)
        if (columnNames[c] == name) return &columns[c];
    return nullptr;
}

std::string columnListText(const std::vector<ColumnInfo>& columns)
{
    std::string text;
    for (const ColumnInfo& c : columns) {
        if (!text.empty()) text += ", ";
        text += c.name + " (" + c.type + (c.readable ? "" : ", not readable") + ")";
    }
    return text.empty() ? "none" : text;
}

namespace columnar {

void appendNull(ColumnData& column, ReadBudget& budget)
{
    budget.charge(kEntryBytes);
    ++column.length;
    column.valid.push_back(0);
    switch (column.kind) {
    case ValueKind::Bool:
    case ValueKind::Int:
    case ValueKind::UInt: column.ints.push_back(0); break;
    case ValueKind::Float: column.floats.push_back(0.0); break;
    case ValueKind::String:
    case ValueKind::Binary:
    case ValueKind::List: column.offsets.push_back(column.offsets.back()); break;
    case ValueKind::Struct:
        for (ColumnData& field : column.children) appendNull(field, budget);
        break;
    case ValueKind::Null: break;
    }
}

void appendBytes(ColumnData& column, std::string_view value, ReadBudget& budget)
{
    budget.charge(kEntryBytes + static_cast<std::int64_t>(value.size()));
    ++column.length;
    column.valid.push_back(1);
    column.bytes.append(value.data(), value.size());
    column.offsets.push_back(static_cast<std::int64_t>(column.bytes.size()));
}

void appendEntry(ColumnData& column, const ColumnData& source, std::int64_t i, ReadBudget& budget)
{
    if (!source.isValid(i)) {
        appendNull(column, budget);
        return;
    }
    const auto at = static_cast<std::size_t>(i);
    switch (column.kind) {
    case ValueKind::Null: appendNull(column, budget); return;
    case ValueKind::Bool:
    case ValueKind::Int:
    case ValueKind::UInt:
        budget.charge(kEntryBytes);
        appendInt(column, source.ints[at]);
        return;
    case ValueKind::Float:
        budget.charge(kEntryBytes);
        appendFloat(column, source.floats[at]);
        return;
    case ValueKind::String:
    case ValueKind::Binary:
        appendBytes(column, std::string_view(source.bytes).substr(static_cast<std::size_t>(source.offsets[at]),
                                                                  static_cast<std::size_t>(source.offsets[at + 1] - source.offsets[at])),
                    budget);
        return;
    case ValueKind::List:
        budget.charge(kEntryBytes);
        for (std::int64_t j = source.offsets[at]; j < source.offsets[at + 1]; ++j)
            appendEntry(column.children[0], source.children[0], j, budget);
        ++column.length;
        column.valid.push_back(1);
        column.offsets.push_back(column.children[0].length);
        return;
    case ValueKind::Struct:
        budget.charge(kEntryBytes);
        for (std::size_t f = 0; f < column.children.size(); ++f) appendEntry(column.children[f], source.children[f], i, budget);
        ++column.length;
        column.valid.push_back(1);
        return;
    }
}

void checkColumnShape(const ColumnData& column)
{
    const auto length = static_cast<std::size_t>(column.length);
    const auto broken = [&](const char* why) { fail("field '" + column.name + "' is inconsistent: " + why); };
    if (column.length < 0 || column.valid.size() != length) broken("its validity does not cover its entries");
    switch (column.kind) {
    case ValueKind::Null: break;
    case ValueKind::Bool:
    case ValueKind::Int:
    case ValueKind::UInt:
        if (column.ints.size() != length) broken("it has too few values");
        break;
    case ValueKind::Float:
        if (column.floats.size() != length) broken("it has too few values");
        break;
    case ValueKind::String:
    case ValueKind::Binary:
    case ValueKind::List: {
        if (column.offsets.size() != length + 1) broken("it has too few offsets");
        const std::int64_t limit = column.kind == ValueKind::List ? (column.children.size() == 1 ? column.children[0].length : -1)
                                                                  : static_cast<std::int64_t>(column.bytes.size());
        if (column.offsets[0] < 0) broken("an offset is negative");
        for (std::size_t i = 0; i < length; ++i)
            if (column.offsets[i + 1] < column.offsets[i]) broken("its offsets decrease");
        if (column.offsets[length] > limit) broken("its offsets point past its values");
        if (column.kind == ValueKind::List) checkColumnShape(column.children[0]);
        break;
    }
    case ValueKind::Struct:
        for (const ColumnData& field : column.children) {
            if (field.length != column.length) broken("its fields hold a different number of entries");
            checkColumnShape(field);
        }
        break;
    }
}

} // namespace columnar
} // namespace loralab
