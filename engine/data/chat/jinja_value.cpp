// Template values with Python's printing, JSON and comparison: see jinja_value.h.
#include "engine/data/chat/jinja_value.h"

#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace loralab::jinja {

// ---------------------------------------------------------------------------
// Dict, arguments, construction

const Value* Dict::find(const Value& key) const
{
    for (const auto& item : m_items)
        if (equals(item.first, key)) return &item.second;
    return nullptr;
}

const Value* Dict::find(std::string_view key) const
{
    for (const auto& item : m_items)
        if (item.first.isString() && item.first.asString() == key) return &item.second;
    return nullptr;
}

void Dict::set(Value key, Value value)
{
    for (auto& item : m_items) {
        if (equals(item.first, key)) {
            item.second = std::move(value);
            return;
        }
    }
    m_items.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::get(std::size_t index, std::string_view name) const
{
    if (index < positional.size()) return &positional[index];
    for (const auto& keyword : keywords)
        if (keyword.first == name) return &keyword.second;
    return nullptr;
}

Value Value::undefined(std::string what)
{
    Value v;
    v.m_string = std::move(what);
    return v;
}

namespace {

std::uint8_t containerDepth(int deepestItem)
{
    if (deepestItem + 1 > kMaxValueDepth)
        throw EvalError("a list or dict is nested more than " + std::to_string(kMaxValueDepth) + " deep");
    return static_cast<std::uint8_t>(deepestItem + 1);
}

} // namespace

Value Value::list(ValueList items, bool tuple)
{
    int deepest = 0;
    for (const Value& item : items) deepest = std::max(deepest, item.depth());
    Value v;
    v.m_kind = Kind::List;
    v.m_tuple = tuple;
    v.m_depth = containerDepth(deepest);
    v.m_list = std::make_shared<ValueList>(std::move(items));
    return v;
}

Value Value::dict(Dict items)
{
    int deepest = 0;
    for (const auto& [key, item] : items.items()) deepest = std::max({deepest, key.depth(), item.depth()});
    Value v;
    v.m_kind = Kind::Dict;
    v.m_depth = containerDepth(deepest);
    v.m_dict = std::make_shared<Dict>(std::move(items));
    return v;
}

bool Value::holdsNamespace() const
{
    switch (m_kind) {
    case Kind::Namespace: return true;
    case Kind::List:
        for (const Value& item : *m_list)
            if (item.holdsNamespace()) return true;
        return false;
    case Kind::Dict:
        for (const auto& [key, item] : m_dict->items())
            if (item.holdsNamespace()) return true;
        return false;
    default: return false;
    }
}

Value Value::makeNamespace(Dict attributes)
{
    for (const auto& [key, item] : attributes.items())
        if (item.holdsNamespace()) throw EvalError("a namespace cannot hold another namespace");
    // Its attributes change after this; as none is a namespace, a value
    // holding it is still at most twice kMaxValueDepth deep.
    Value v = dict(std::move(attributes));
    v.m_kind = Kind::Namespace;
    return v;
}

Value Value::function(std::string name, NativeFunction call)
{
    Value v;
    v.m_kind = Kind::Function;
    v.m_function = std::make_shared<const Function>(Function{std::move(name), std::move(call)});
    return v;
}

bool Value::truthy() const
{
    switch (m_kind) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return m_bool;
    case Kind::Int: return m_int != 0;
    case Kind::Float: return m_float != 0.0;
    case Kind::String: return !m_string.empty();
    case Kind::List: return !m_list->empty();
    case Kind::Dict: return m_dict->size() > 0;
    case Kind::Namespace:
    case Kind::Function: return true;
    }
    return false;
}

std::string Value::typeName() const
{
    switch (m_kind) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return m_tuple ? "tuple" : "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Function: return "function";
    }
    return "object";
}

// ---------------------------------------------------------------------------
// Printing

std::string floatRepr(double value)
{
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    // The shortest digits that read back as the same double, as Python's
    // repr() picks them; then Python's layout: positional from 1e-4 up to
    // 1e16, else an exponent of at least two digits.
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    const std::string text(buffer, result.ptr);
    const std::size_t e = text.find('e');
    std::string digits;
    bool negative = false;
    for (std::size_t i = 0; i < e; ++i) {
        if (text[i] == '-') negative = true;
        else if (text[i] != '.') digits.push_back(text[i]);
    }
    const int exponent = std::stoi(text.substr(e + 1));
    const int point = exponent + 1; // the value is 0.<digits> x 10^point
    const auto count = static_cast<int>(digits.size());
    std::string out = negative ? "-" : "";
    if (point > -4 && point <= 16) {
        if (point <= 0) {
            out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
        } else if (point < count) {
            out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
        } else {
            out += digits + std::string(static_cast<std::size_t>(point - count), '0') + ".0";
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (count > 1) out += "." + digits.substr(1);
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp;
}

namespace {

std::string stringRepr(const std::string& s)
{
    const bool hasSingle = s.find('\'') != std::string::npos;
    const bool hasDouble = s.find('"') != std::string::npos;
    const char quote = hasSingle && !hasDouble ? '"' : '\'';
    std::string out(1, quote);
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::size_t start = pos;
        const char32_t cp = decodeUtf8(s, pos);
        char escape[16];
        if (cp == static_cast<char32_t>(quote) || cp == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(cp));
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (!isPrintable(cp)) {
            if (cp < 0x100) std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(cp));
            else if (cp < 0x10000) std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(cp));
            else std::snprintf(escape, sizeof escape, "\\U%08x", static_cast<unsigned>(cp));
            out += escape;
        } else {
            out.append(s, start, pos - start);
        }
    }
    out.push_back(quote);
    return out;
}

std::string sequenceRepr(const Value& value)
{
    const ValueList& items = value.asList();
    std::string out = value.isTuple() ? "(" : "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toRepr(items[i]);
    if (value.isTuple() && items.size() == 1) out += ",";
    return out + (value.isTuple() ? ")" : "]");
}

std::string dictRepr(const Dict& dict)
{
    std::string out = "{";
    bool first = true;
    for (const auto& [key, item] : dict.items()) {
        out += (first ? "" : ", ") + toRepr(key) + ": " + toRepr(item);
        first = false;
    }
    return out + "}";
}

} // namespace

std::string toStr(const Value& value)
{
    switch (value.kind()) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::String: return value.asString();
    default: return toRepr(value);
    }
}

std::string toRepr(const Value& value)
{
    switch (value.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return value.asBool() ? "True" : "False";
    case Value::Kind::Int: return std::to_string(value.asInt());
    case Value::Kind::Float: return floatRepr(value.asFloat());
    case Value::Kind::String: return stringRepr(value.asString());
    case Value::Kind::List: return sequenceRepr(value);
    case Value::Kind::Dict: return dictRepr(value.asDict());
    case Value::Kind::Namespace: return "<Namespace " + dictRepr(value.asDict()) + ">";
    case Value::Kind::Function: return "<function " + value.asFunction().name + ">";
    }
    return "";
}

// ---------------------------------------------------------------------------
// JSON

namespace {

void jsonString(std::string& out, const std::string& s)
{
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char escape[8];
                std::snprintf(escape, sizeof escape, "\\u%04x", c);
                out += escape;
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

std::string jsonKey(const Value& key)
{
    switch (key.kind()) {
    case Value::Kind::String: return key.asString();
    case Value::Kind::None: return "null";
    case Value::Kind::Bool: return key.asBool() ? "true" : "false";
    case Value::Kind::Int: return std::to_string(key.asInt());
    case Value::Kind::Float: return floatRepr(key.asFloat());
    default: throw EvalError("keys must be str, int, float, bool or None, not " + key.typeName());
    }
}

void jsonValue(std::string& out, const Value& value, int indent, bool sortKeys, int depth)
{
    if (depth > 64) throw EvalError("tojson: the value is nested too deeply");
    const bool pretty = indent >= 0;
    const auto newline = [&](int level) {
        out.push_back('\n');
        out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(level), ' ');
    };
    switch (value.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += value.asBool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(value.asInt()); return;
    case Value::Kind::Float: {
        const double f = value.asFloat();
        out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f < 0 ? "-Infinity" : "Infinity") : floatRepr(f);
        return;
    }
    case Value::Kind::String: jsonString(out, value.asString()); return;
    case Value::Kind::List: {
        const ValueList& items = value.asList();
        if (items.empty()) {
            out += "[]";
            return;
        }
        out.push_back('[');
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out += pretty ? "," : ", ";
            if (pretty) newline(depth + 1);
            jsonValue(out, items[i], indent, sortKeys, depth + 1);
        }
        if (pretty) newline(depth);
        out.push_back(']');
        return;
    }
    case Value::Kind::Dict: {
        std::vector<std::pair<std::string, const Value*>> items;
        for (const auto& [key, item] : value.asDict().items()) items.emplace_back(jsonKey(key), &item);
        if (sortKeys)
            std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        if (items.empty()) {
            out += "{}";
            return;
        }
        out.push_back('{');
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out += pretty ? "," : ", ";
            if (pretty) newline(depth + 1);
            jsonString(out, items[i].first);
            out += ": ";
            jsonValue(out, *items[i].second, indent, sortKeys, depth + 1);
        }
        if (pretty) newline(depth);
        out.push_back('}');
        return;
    }
    default: throw EvalError("Object of type " + value.typeName() + " is not JSON serializable");
    }
}

} // namespace

std::string toJson(const Value& value, int indent, bool sortKeys)
{
    std::string out;
    jsonValue(out, value, indent, sortKeys, 0);
    return out;
}

// ---------------------------------------------------------------------------
// Comparison

bool equals(const Value& a, const Value& b)
{
    if (a.isNumber() && b.isNumber()) {
        if (a.isInteger() && b.isInteger()) return a.asInt() == b.asInt();
        return a.asFloat() == b.asFloat();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.asString() == b.asString();
    case Value::Kind::List: {
        if (a.isTuple() != b.isTuple() || a.asList().size() != b.asList().size()) return false;
        for (std::size_t i = 0; i < a.asList().size(); ++i)
            if (!equals(a.asList()[i], b.asList()[i])) return false;
        return true;
    }
    case Value::Kind::Dict: {
        if (a.asDict().size() != b.asDict().size()) return false;
        for (const auto& [key, item] : a.asDict().items()) {
            const Value* other = b.asDict().find(key);
            if (!other || !equals(item, *other)) return false;
        }
        return true;
    }
    case Value::Kind::Namespace: return &a.namespaceAttributes() == &b.namespaceAttributes();
    case Value::Kind::Function: return &a.asFunction() == &b.asFunction();
    default: return false;
    }
}

int compare(const Value& a, const Value& b, const char* op)
{
    if (a.isNumber() && b.isNumber()) {
        if (a.isInteger() && b.isInteger()) return a.asInt() < b.asInt() ? -1 : a.asInt() > b.asInt() ? 1 : 0;
        return a.asFloat() < b.asFloat() ? -1 : a.asFloat() > b.asFloat() ? 1 : 0;
    }
    if (a.isString() && b.isString()) return a.asString().compare(b.asString()) < 0 ? -1 : a.asString() == b.asString() ? 0 : 1;
    if (a.isList() && b.isList() && a.isTuple() == b.isTuple()) {
        const ValueList& x = a.asList();
        const ValueList& y = b.asList();
        for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
            if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    throw EvalError(std::string("'") + op + "' not supported between instances of '" + a.typeName() + "' and '" +
                    b.typeName() + "'");
}

// ---------------------------------------------------------------------------
// Strings and iteration

std::size_t codePointCount(std::string_view text)
{
    std::size_t count = 0;
    for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

std::size_t codePointOffset(std::string_view text, std::size_t index)
{
    std::size_t pos = 0;
    for (std::size_t i = 0; i < index && pos < text.size(); ++i) decodeUtf8(text, pos);
    return pos;
}

ValueList iterate(const Value& value)
{
    switch (value.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return value.asList();
    case Value::Kind::Dict: {
        ValueList keys;
        for (const auto& item : value.asDict().items()) keys.push_back(item.first);
        return keys;
    }
    case Value::Kind::String: {
        ValueList chars;
        const std::string& s = value.asString();
        std::size_t pos = 0;
        while (pos < s.size()) {
            const std::size_t start = pos;
            decodeUtf8(s, pos);
            chars.emplace_back(s.substr(start, pos - start));
        }
        return chars;
    }
    default: throw EvalError("'" + value.typeName() + "' object is not iterable");
    }
}

} // namespace loralab::jinja
