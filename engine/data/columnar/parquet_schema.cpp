// The schema tree with definition and repetition levels; see parquet_schema.h.
//
// Levels, after the Dremel paper as Parquet uses them: every OPTIONAL or
// REPEATED field on a value's path adds one definition level, every REPEATED
// one a repetition level. A node's entry exists from its slot level on (a
// struct's fields have an entry wherever the struct has one, null or not; a
// list's element only where the list holds at least one element) and is not
// null from `def` on.
#include "engine/data/columnar/parquet_schema.h"

#include "engine/data/columnar/columnar_bytes.h"

namespace loralab::columnar {
namespace {

constexpr int kMaxSchemaDepth = 64;

struct RawNode {
    const SchemaElement* element = nullptr;
    std::vector<RawNode> children;
};

RawNode readRaw(const std::vector<SchemaElement>& schema, std::size_t& next, int depth)
{
    if (depth > kMaxSchemaDepth) fail("the schema nests deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    if (next >= schema.size()) fail("the schema ends before all the fields its groups announce");
    RawNode node;
    node.element = &schema[next++];
    const std::int32_t n = node.element->numChildren;
    if (n < 0 || static_cast<std::size_t>(n) > schema.size() - next)
        fail("schema field '" + node.element->name + "' announces " + std::to_string(n) + " children");
    for (std::int32_t i = 0; i < n; ++i) node.children.push_back(readRaw(schema, next, depth + 1));
    return node;
}

bool isGroup(const RawNode& n) { return n.element->type < 0 || !n.children.empty(); }

std::string intName(int bits, bool isSigned) { return (isSigned ? "int" : "uint") + std::to_string(bits); }

// Sets a leaf's value kind and type text from its physical type and annotations.
void describeLeaf(ParquetNode& leaf, const SchemaElement& e)
{
    leaf.physical = e.type;
    leaf.typeLength = e.typeLength;
    const int ct = e.convertedType;
    const LogicalKind lk = e.logical;
    const auto unreadable = [&](const std::string& type) {
        leaf.kind = ParquetNode::Kind::Unreadable;
        leaf.type = type;
    };
    const auto set = [&](ValueKind kind, const std::string& type) {
        leaf.value = kind;
        leaf.type = type;
    };
    if (lk == LogicalKind::Unknown) return set(ValueKind::Null, "null");
    if (lk == LogicalKind::Decimal || ct == converted::kDecimal) return unreadable("decimal");
    if (lk == LogicalKind::Date || ct == converted::kDate) return unreadable("date");
    if (lk == LogicalKind::Time || ct == converted::kTimeMillis || ct == converted::kTimeMicros) return unreadable("time");
    if (lk == LogicalKind::Timestamp || ct == converted::kTimestampMillis || ct == converted::kTimestampMicros)
        return unreadable("timestamp");
    if (lk == LogicalKind::Uuid) return unreadable("uuid");
    if (lk == LogicalKind::Float16) return unreadable("float16");
    if (ct == converted::kInterval) return unreadable("interval");
    if (lk == LogicalKind::Other) return unreadable("an unknown logical type");
    switch (static_cast<PhysicalType>(e.type)) {
    case PhysicalType::Boolean: return set(ValueKind::Bool, "bool");
    case PhysicalType::Int32:
    case PhysicalType::Int64: {
        int bits = e.type == static_cast<int>(PhysicalType::Int32) ? 32 : 64;
        bool isSigned = true;
        if (lk == LogicalKind::Integer) {
            bits = e.intBitWidth;
            isSigned = e.intSigned;
        } else if (ct >= converted::kUint8 && ct <= converted::kInt64) {
            static const int widths[] = {8, 16, 32, 64, 8, 16, 32, 64};
            bits = widths[ct - converted::kUint8];
            isSigned = ct >= converted::kInt8;
        }
        if (bits != 8 && bits != 16 && bits != 32 && bits != 64) return unreadable("an integer of " + std::to_string(bits) + " bits");
        return set(isSigned ? ValueKind::Int : ValueKind::UInt, intName(bits, isSigned));
    }
    case PhysicalType::Int96: return unreadable("int96 (a legacy timestamp)");
    case PhysicalType::Float: return set(ValueKind::Float, "float");
    case PhysicalType::Double: return set(ValueKind::Float, "double");
    case PhysicalType::ByteArray:
        if (lk == LogicalKind::String || lk == LogicalKind::Enum || lk == LogicalKind::Json || ct == converted::kUtf8 ||
            ct == converted::kEnum || ct == converted::kJson)
            return set(ValueKind::String, "string");
        return set(ValueKind::Binary, "binary");
    case PhysicalType::FixedLenByteArray:
        if (e.typeLength < 0) fail("schema field '" + e.name + "' has a negative fixed length");
        return set(ValueKind::Binary, "fixed_size_binary[" + std::to_string(e.typeLength) + "]");
    }
    fail("schema field '" + e.name + "' has the unknown physical type " + std::to_string(e.type));
}

struct Levels {
    int slotDef = 0;              // the node's slot level
    int baseDef = 0;              // the presence level of what holds it
    std::vector<int> elementDefs; // of the lists above
    std::string path;             // of what holds it
};

ParquetNode makeNode(const RawNode& raw, const Levels& at, std::size_t& nextLeaf, bool forceRequired = false);

// A list whose element is `element` (its repeated layer already counted in `elementAt`).
ParquetNode makeList(ParquetNode list, const RawNode& element, const Levels& elementAt, std::size_t& nextLeaf, bool required)
{
    list.kind = ParquetNode::Kind::List;
    list.children.push_back(makeNode(element, elementAt, nextLeaf, required));
    list.type = "list<" + list.children[0].type + ">";
    return list;
}

ParquetNode makeNode(const RawNode& raw, const Levels& at, std::size_t& nextLeaf, bool forceRequired)
{
    const SchemaElement& e = *raw.element;
    const int repetition = forceRequired ? static_cast<int>(Repetition::Required) : e.repetition;
    if (repetition < 0 || repetition > 2) fail("schema field '" + e.name + "' has the unknown repetition " + std::to_string(repetition));
    ParquetNode node;
    node.name = e.name;
    node.slotDef = at.slotDef;
    node.def = at.baseDef + (repetition == static_cast<int>(Repetition::Optional) ? 1 : 0);
    node.repDepth = static_cast<int>(at.elementDefs.size());
    node.firstLeaf = nextLeaf;
    const std::string path = at.path.empty() ? e.name : at.path + "." + e.name;

    // The element's levels when this node is (or holds) a list's repeated layer.
    const auto elementLevels = [&](int listDef, const std::string& elementPath) {
        Levels inner;
        inner.slotDef = inner.baseDef = listDef + 1;
        inner.elementDefs = at.elementDefs;
        inner.elementDefs.push_back(listDef + 1);
        inner.path = elementPath;
        return inner;
    };

    if (repetition == static_cast<int>(Repetition::Repeated)) {
        // A bare repeated field: a list of required values that is never null.
        node.def = at.baseDef;
        const Levels inner = elementLevels(node.def, at.path);
        node = makeList(std::move(node), raw, inner, nextLeaf, true);
    } else if (e.convertedType == converted::kMap || e.convertedType == converted::kMapKeyValue || e.logical == LogicalKind::Map) {
        node.kind = ParquetNode::Kind::Unreadable;
        node.type = "map";
    } else if (isGroup(raw) && (e.convertedType == converted::kList || e.logical == LogicalKind::List)) {
        if (raw.children.size() != 1 || raw.children[0].element->repetition != static_cast<int>(Repetition::Repeated))
            fail("list '" + path + "' does not hold exactly one repeated field");
        const RawNode& repeated = raw.children[0];
        const std::string repeatedPath = path + "." + repeated.element->name;
        // Three levels (list > repeated group > element), unless the repeated
        // field is itself the element: a primitive, a group of several fields,
        // or one of the older writers' names for a one-field element struct.
        const bool threeLevel = isGroup(repeated) && repeated.children.size() == 1 && repeated.element->name != "array" &&
                                repeated.element->name != e.name + "_tuple";
        const Levels inner = elementLevels(node.def, threeLevel ? repeatedPath : path);
        if (threeLevel) node = makeList(std::move(node), repeated.children[0], inner, nextLeaf, false);
        else node = makeList(std::move(node), repeated, inner, nextLeaf, true);
    } else if (isGroup(raw)) {
        node.kind = ParquetNode::Kind::Struct;
        Levels inner;
        inner.slotDef = node.slotDef;
        inner.baseDef = node.def;
        inner.elementDefs = at.elementDefs;
        inner.path = path;
        node.type = "struct<";
        for (const RawNode& child : raw.children) {
            node.children.push_back(makeNode(child, inner, nextLeaf));
            node.type += (node.children.size() > 1 ? ", " : "") + child.element->name + ": " + node.children.back().type;
        }
        node.type += ">";
    } else {
        describeLeaf(node, e);
        node.elementDefs = at.elementDefs;
        node.path = path;
        node.leafCount = 1;
        ++nextLeaf;
        return node;
    }
    // Leaves under a map or another unreadable group still occupy column chunks.
    if (node.kind == ParquetNode::Kind::Unreadable) {
        std::size_t count = 0;
        std::vector<const RawNode*> stack{&raw};
        while (!stack.empty()) {
            const RawNode* n = stack.back();
            stack.pop_back();
            if (!isGroup(*n)) ++count;
            for (const RawNode& c : n->children) stack.push_back(&c);
        }
        nextLeaf += count;
    }
    node.leafCount = nextLeaf - node.firstLeaf;
    return node;
}

} // namespace

bool ParquetNode::readable() const
{
    if (kind == Kind::Unreadable) return false;
    for (const ParquetNode& c : children)
        if (!c.readable()) return false;
    return true;
}

ParquetSchema buildParquetSchema(const FileMetaData& meta)
{
    if (meta.schema.empty()) fail("the footer has no schema");
    std::size_t next = 0;
    const RawNode root = readRaw(meta.schema, next, 0);
    if (next != meta.schema.size()) fail("the schema holds fields outside its root");
    ParquetSchema schema;
    Levels top;
    for (const RawNode& child : root.children) schema.columns.push_back(makeNode(child, top, schema.leafCount));
    return schema;
}

ColumnData emptyColumnFor(const ParquetNode& node)
{
    switch (node.kind) {
    case ParquetNode::Kind::List: {
        ColumnData c = makeColumn(ValueKind::List, node.name);
        c.children.push_back(emptyColumnFor(node.children[0]));
        return c;
    }
    case ParquetNode::Kind::Struct: {
        ColumnData c = makeColumn(ValueKind::Struct, node.name);
        for (const ParquetNode& child : node.children) c.children.push_back(emptyColumnFor(child));
        return c;
    }
    default: return makeColumn(node.value, node.name);
    }
}

} // namespace loralab::columnar
