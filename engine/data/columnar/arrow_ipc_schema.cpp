// Arrow IPC schemas from FlatBuffers; see arrow_ipc_schema.h. Table and field
// numbers follow Arrow's Schema.fbs (format version 5).
#include "engine/data/columnar/arrow_ipc_schema.h"

#include "engine/data/columnar/columnar_bytes.h"

namespace loralab::columnar {
namespace {

// Deeper than any dataset; bounds the recursion over crafted metadata.
constexpr int kMaxFieldDepth = 64;

// Field table: name 0, nullable 1, type_type 2, type 3, dictionary 4, children 5.
constexpr int kFieldName = 0, kFieldTypeType = 2, kFieldType = 3, kFieldDictionary = 4, kFieldChildren = 5;

void unreadable(ArrowField& f, const std::string& name, int buffers, bool steppable = true)
{
    f.type = ArrowType::Unreadable;
    f.typeText = name;
    f.buffers = buffers;
    f.steppable = steppable;
}

void describeType(ArrowField& f, int typeId, const FlatTable& type)
{
    switch (typeId) {
    case 1: f.type = ArrowType::Null; f.typeText = "null"; f.buffers = 0; return;
    case 2: { // Int: bitWidth 0, is_signed 1
        f.bitWidth = static_cast<int>(type.integer(0, 4, true, 0));
        f.isSigned = type.boolean(1, false);
        f.buffers = 2;
        if (f.bitWidth != 8 && f.bitWidth != 16 && f.bitWidth != 32 && f.bitWidth != 64)
            return unreadable(f, "an integer of " + std::to_string(f.bitWidth) + " bits", 2);
        f.type = ArrowType::Int;
        f.typeText = (f.isSigned ? "int" : "uint") + std::to_string(f.bitWidth);
        return;
    }
    case 3: { // FloatingPoint: precision 0 (HALF 0, SINGLE 1, DOUBLE 2)
        const std::int64_t precision = type.integer(0, 2, true, 0);
        f.buffers = 2;
        if (precision == 0) return unreadable(f, "halffloat", 2);
        f.type = ArrowType::Float;
        f.bitWidth = precision == 1 ? 32 : 64;
        f.typeText = precision == 1 ? "float" : "double";
        return;
    }
    case 4: f.type = ArrowType::Binary; f.typeText = "binary"; f.buffers = 3; return;
    case 5: f.type = ArrowType::Utf8; f.typeText = "string"; f.buffers = 3; return;
    case 6: f.type = ArrowType::Bool; f.typeText = "bool"; f.buffers = 2; return;
    case 7: return unreadable(f, "decimal", 2);
    case 8: return unreadable(f, "date", 2);
    case 9: return unreadable(f, "time", 2);
    case 10: return unreadable(f, "timestamp", 2);
    case 11: return unreadable(f, "interval", 2);
    case 12: f.type = ArrowType::List; f.buffers = 2; return;
    case 13: f.type = ArrowType::Struct; f.buffers = 1; return;
    case 14: // Union: mode 0 (Sparse 0: type ids; Dense 1: type ids and offsets)
        return unreadable(f, "union", type.integer(0, 2, true, 0) == 1 ? 2 : 1);
    case 15: // FixedSizeBinary: byteWidth 0
        f.type = ArrowType::FixedSizeBinary;
        f.fixedSize = type.integer(0, 4, true, 0);
        f.buffers = 2;
        f.typeText = "fixed_size_binary[" + std::to_string(f.fixedSize) + "]";
        if (f.fixedSize < 0) fail("a fixed-size binary type has a negative width");
        return;
    case 16: // FixedSizeList: listSize 0
        f.type = ArrowType::FixedSizeList;
        f.fixedSize = type.integer(0, 4, true, 0);
        f.buffers = 1;
        if (f.fixedSize < 0) fail("a fixed-size list type has a negative size");
        return;
    case 17: return unreadable(f, "map", 2);
    case 18: return unreadable(f, "duration", 2);
    case 19: f.type = ArrowType::LargeBinary; f.typeText = "large_binary"; f.buffers = 3; return;
    case 20: f.type = ArrowType::LargeUtf8; f.typeText = "large_string"; f.buffers = 3; return;
    case 21: f.type = ArrowType::LargeList; f.buffers = 2; return;
    case 22: return unreadable(f, "run_end_encoded", 0);
    case 23: return unreadable(f, "binary_view", 2, false);
    case 24: return unreadable(f, "string_view", 2, false);
    case 25: return unreadable(f, "list_view", 3);
    case 26: return unreadable(f, "large_list_view", 3);
    default: return unreadable(f, "an unknown type (" + std::to_string(typeId) + ")", 0, false);
    }
}

ArrowField parseField(const FlatTable& t, int depth)
{
    if (depth > kMaxFieldDepth) fail("the schema nests deeper than " + std::to_string(kMaxFieldDepth) + " levels");
    ArrowField f;
    f.name = std::string(t.string(kFieldName));
    describeType(f, static_cast<int>(t.integer(kFieldTypeType, 1, false, 0)), t.table(kFieldType));
    const FlatVector children = t.vector(kFieldChildren, 4);
    for (std::size_t i = 0; i < children.size(); ++i) f.children.push_back(parseField(children.table(i), depth + 1));

    const std::size_t wanted = f.type == ArrowType::List || f.type == ArrowType::LargeList || f.type == ArrowType::FixedSizeList ? 1 : 0;
    if (f.type == ArrowType::Struct) {
        f.typeText = "struct<";
        for (std::size_t i = 0; i < f.children.size(); ++i)
            f.typeText += (i ? ", " : "") + f.children[i].name + ": " + f.children[i].typeText;
        f.typeText += ">";
    } else if (f.type != ArrowType::Unreadable && f.children.size() != wanted) {
        fail("field '" + f.name + "' of type " + f.typeText + " has " + std::to_string(f.children.size()) + " children");
    }
    if (f.type == ArrowType::List) f.typeText = "list<" + f.children[0].typeText + ">";
    if (f.type == ArrowType::LargeList) f.typeText = "large_list<" + f.children[0].typeText + ">";
    if (f.type == ArrowType::FixedSizeList)
        f.typeText = "fixed_size_list<" + f.children[0].typeText + ">[" + std::to_string(f.fixedSize) + "]";

    const FlatTable dictionary = t.table(kFieldDictionary);
    if (dictionary.present()) { // DictionaryEncoding: id 0, indexType 1 (Int), isOrdered 2
        f.dictionary = true;
        f.dictionaryId = dictionary.integer(0, 8, true, 0);
        const FlatTable index = dictionary.table(1);
        f.indexBits = index.present() ? static_cast<int>(index.integer(0, 4, true, 32)) : 32;
        f.indexSigned = index.present() ? index.boolean(1, false) : true;
        if (f.indexBits != 8 && f.indexBits != 16 && f.indexBits != 32 && f.indexBits != 64)
            fail("field '" + f.name + "' has dictionary indices of " + std::to_string(f.indexBits) + " bits");
        f.typeText = "dictionary<" + f.typeText + ">";
    }
    return f;
}

} // namespace

bool ArrowField::readable() const
{
    if (type == ArrowType::Unreadable) return false;
    for (const ArrowField& c : children)
        if (!c.readable()) return false;
    return true;
}

ValueKind ArrowField::valueKind() const
{
    switch (type) {
    case ArrowType::Bool: return ValueKind::Bool;
    case ArrowType::Int: return isSigned ? ValueKind::Int : ValueKind::UInt;
    case ArrowType::Float: return ValueKind::Float;
    case ArrowType::Utf8:
    case ArrowType::LargeUtf8: return ValueKind::String;
    case ArrowType::Binary:
    case ArrowType::LargeBinary:
    case ArrowType::FixedSizeBinary: return ValueKind::Binary;
    case ArrowType::List:
    case ArrowType::LargeList:
    case ArrowType::FixedSizeList: return ValueKind::List;
    case ArrowType::Struct: return ValueKind::Struct;
    default: return ValueKind::Null;
    }
}

std::vector<ArrowField> parseArrowSchema(const FlatTable& schema)
{
    // Schema: endianness 0 (Little 0, Big 1), fields 1.
    if (schema.integer(0, 2, true, 0) != 0) fail("the data is big-endian, which LoRA Lab does not read");
    std::vector<ArrowField> fields;
    const FlatVector list = schema.vector(1, 4);
    for (std::size_t i = 0; i < list.size(); ++i) fields.push_back(parseField(list.table(i), 0));
    return fields;
}

ColumnData emptyColumnFor(const ArrowField& field)
{
    ColumnData c = makeColumn(field.valueKind(), field.name);
    if (c.kind == ValueKind::List || c.kind == ValueKind::Struct)
        for (const ArrowField& child : field.children) c.children.push_back(emptyColumnFor(child));
    return c;
}

void collectDictionaryFields(const ArrowField& field, std::vector<const ArrowField*>& out)
{
    if (field.dictionary) out.push_back(&field);
    for (const ArrowField& c : field.children) collectDictionaryFields(c, out);
}

} // namespace loralab::columnar
