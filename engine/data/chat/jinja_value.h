// The values a chat template computes with, and what Python makes of them.
// Chat templates are Jinja2 run by Python, so a value prints the way Python's
// str() prints it (True, None, ['a', 1]), compares the way Python compares,
// and strings are indexed and measured in code points, not bytes. Undefined
// is Jinja's: a missing variable or key that prints as nothing, is false, and
// fails only when something is taken from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loralab::jinja {

class Value;
class Interpreter;
using ValueList = std::vector<Value>;

// Lists and dicts nest at most this deep: printing, comparing and freeing a
// value recurse into it.
constexpr int kMaxValueDepth = 100;

// A failure while evaluating: the interpreter adds the template line.
class EvalError : public std::runtime_error {
public:
    explicit EvalError(const std::string& message) : std::runtime_error(message) {}
};

// A failure with the template line it happened on (1-based).
class TemplateError : public std::runtime_error {
public:
    TemplateError(int line, const std::string& message) : std::runtime_error(message), m_line(line) {}
    int line() const { return m_line; }

private:
    int m_line;
};

// Python's dict: keys in insertion order. Dicts in chat templates are small
// (a message's fields), so an ordered list searched in turn is enough.
class Dict {
public:
    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    const Value* find(const std::string& key) const { return find(std::string_view(key)); }
    const Value* find(const char* key) const { return find(std::string_view(key)); }
    void set(Value key, Value value);
    const std::vector<std::pair<Value, Value>>& items() const { return m_items; }
    std::size_t size() const { return m_items.size(); }

private:
    std::vector<std::pair<Value, Value>> m_items;
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keywords;

    // The argument at `index` or named `name`, else nullptr.
    const Value* get(std::size_t index, std::string_view name) const;
};

using NativeFunction = std::function<Value(const CallArgs&, Interpreter&)>;

struct Function {
    std::string name;
    NativeFunction call;
};

class Value {
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

    Value() = default; // undefined
    Value(std::nullptr_t) : m_kind(Kind::None) {}
    Value(bool b) : m_kind(Kind::Bool), m_bool(b) {}
    Value(int i) : m_kind(Kind::Int), m_int(i) {}
    Value(std::int64_t i) : m_kind(Kind::Int), m_int(i) {}
    Value(double f) : m_kind(Kind::Float), m_float(f) {}
    Value(std::string s) : m_kind(Kind::String), m_string(std::move(s)) {}
    Value(const char* s) : m_kind(Kind::String), m_string(s) {}

    // `what` names what was missing ("'x' is undefined", "'dict object' has
    // no attribute 'y'"), for the error when something is taken from it.
    static Value undefined(std::string what);
    static Value list(ValueList items, bool tuple = false);
    static Value dict(Dict items);
    static Value makeNamespace(Dict attributes);
    static Value function(std::string name, NativeFunction call);

    Kind kind() const { return m_kind; }
    bool isUndefined() const { return m_kind == Kind::Undefined; }
    bool isNone() const { return m_kind == Kind::None; }
    bool isString() const { return m_kind == Kind::String; }
    bool isList() const { return m_kind == Kind::List; }
    bool isDict() const { return m_kind == Kind::Dict; }
    bool isNumber() const { return m_kind == Kind::Int || m_kind == Kind::Float || m_kind == Kind::Bool; }
    bool isInteger() const { return m_kind == Kind::Int || m_kind == Kind::Bool; }

    bool asBool() const { return m_bool; }
    std::int64_t asInt() const { return m_kind == Kind::Bool ? (m_bool ? 1 : 0) : m_int; }
    double asFloat() const { return m_kind == Kind::Float ? m_float : static_cast<double>(asInt()); }
    const std::string& asString() const { return m_string; }
    const ValueList& asList() const { return *m_list; }
    bool isTuple() const { return m_tuple; }
    const Dict& asDict() const { return *m_dict; }
    // A namespace's attributes; namespaces are the one value templates change.
    Dict& namespaceAttributes() const { return *m_dict; }
    const Function& asFunction() const { return *m_function; }
    const std::string& undefinedWhat() const { return m_string; }
    // 0 for a scalar, 1 + the deepest item for a list, dict or namespace.
    int depth() const { return m_depth; }
    // Whether a namespace is this value or inside it. A namespace may not
    // hold one (directly or in a list): namespaces are the only values a
    // template changes, so that rule keeps values free of cycles.
    bool holdsNamespace() const;

    bool truthy() const;
    // Python's type name, for error messages: 'str', 'int', 'list', ...
    std::string typeName() const;

private:
    Kind m_kind = Kind::Undefined;
    bool m_bool = false;
    bool m_tuple = false;
    std::uint8_t m_depth = 0;
    std::int64_t m_int = 0;
    double m_float = 0.0;
    std::string m_string; // the string; for undefined, what was missing
    std::shared_ptr<ValueList> m_list;
    std::shared_ptr<Dict> m_dict; // a dict's items or a namespace's attributes
    std::shared_ptr<const Function> m_function;
};

// Python's str() and repr().
std::string toStr(const Value& value);
std::string toRepr(const Value& value);
std::string floatRepr(double value);

// json.dumps(value, ensure_ascii=False, indent=..., sort_keys=...), as
// transformers' tojson filter calls it; indent < 0 is None (one line).
std::string toJson(const Value& value, int indent, bool sortKeys);

// Python's ==, and <-style ordering (negative, 0, positive); ordering values
// Python cannot order is an EvalError naming `op`.
bool equals(const Value& a, const Value& b);
int compare(const Value& a, const Value& b, const char* op);

// Strings measured and cut in code points, as Python's str is.
std::size_t codePointCount(std::string_view text);
// The byte offset of code point `index` (0..count); text.size() past the end.
std::size_t codePointOffset(std::string_view text, std::size_t index);

// The items a for loop or a filter walks: a list's items, a dict's keys, a
// string's characters; undefined gives none. Anything else is an EvalError.
ValueList iterate(const Value& value);

} // namespace loralab::jinja
