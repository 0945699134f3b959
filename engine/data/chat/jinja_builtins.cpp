// Attribute and item access, Python's operators, the string / dict / list
// methods and the global functions of chat templates: see jinja_builtins.h.
// The filters and tests are in jinja_filters.cpp.
#include "engine/data/chat/jinja_builtins.h"

#include "engine/data/chat/jinja_interpreter.h"
#include "engine/data/chat/jinja_strings.h"

#include <cmath>
#include <ctime>
#include <set>

namespace loralab::jinja {
namespace {

const std::set<std::string_view>& stringMethods()
{
    static const std::set<std::string_view> names = {"strip", "lstrip", "rstrip", "split", "rsplit", "startswith",
                                                     "endswith", "upper", "lower", "title", "capitalize", "replace",
                                                     "find", "rfind", "count", "join", "splitlines", "isspace"};
    return names;
}

const std::set<std::string_view>& dictMethods()
{
    static const std::set<std::string_view> names = {"items", "keys", "values", "get"};
    return names;
}

const std::set<std::string_view>& listMethods()
{
    static const std::set<std::string_view> names = {"index", "count"};
    return names;
}

bool hasMethod(const Value& object, std::string_view name)
{
    switch (object.kind()) {
    case Value::Kind::String: return stringMethods().count(name) > 0;
    case Value::Kind::Dict: return dictMethods().count(name) > 0;
    case Value::Kind::List: return listMethods().count(name) > 0;
    default: return false;
    }
}

const std::string& stringArg(const CallArgs& args, std::size_t index, const char* name, const char* method)
{
    const Value* value = args.get(index, name);
    if (!value || !value->isString())
        throw EvalError(std::string(method) + "() needs a string for '" + name + "'" +
                        (value ? " (got " + value->typeName() + ")" : ""));
    return value->asString();
}

// A Python index (negative counts from the end) checked against `size`;
// -1 when it is out of range.
std::int64_t pythonIndex(const Value& key, std::size_t size)
{
    std::int64_t i = key.asInt();
    if (i < 0) i += static_cast<std::int64_t>(size);
    return i >= 0 && i < static_cast<std::int64_t>(size) ? i : -1;
}

Value itemsOf(const Dict& dict)
{
    ValueList items;
    for (const auto& [key, value] : dict.items()) items.push_back(Value::list({key, value}, true));
    return Value::list(std::move(items));
}

std::int64_t checkedInt(long double value)
{
    if (!(value >= -9.2e18L && value <= 9.2e18L)) throw EvalError("integer overflow");
    return static_cast<std::int64_t>(value);
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b)
{
    const bool ints = a.isInteger() && b.isInteger();
    const std::int64_t x = a.asInt();
    const std::int64_t y = b.asInt();
    const double fx = a.asFloat();
    const double fy = b.asFloat();
    switch (op) {
    case BinaryOp::Add: return ints ? Value(checkedInt(static_cast<long double>(x) + y)) : Value(fx + fy);
    case BinaryOp::Sub: return ints ? Value(checkedInt(static_cast<long double>(x) - y)) : Value(fx - fy);
    case BinaryOp::Mul: return ints ? Value(checkedInt(static_cast<long double>(x) * y)) : Value(fx * fy);
    case BinaryOp::Div:
        if (fy == 0.0) throw EvalError("division by zero");
        return Value(fx / fy);
    case BinaryOp::FloorDiv:
    case BinaryOp::Mod: {
        if (ints ? y == 0 : fy == 0.0) throw EvalError(op == BinaryOp::Mod ? "modulo by zero" : "division by zero");
        if (ints) {
            if (x == INT64_MIN && y == -1) throw EvalError("integer overflow");
            std::int64_t q = x / y;
            std::int64_t r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) { // Python floors toward negative infinity
                --q;
                r += y;
            }
            return op == BinaryOp::FloorDiv ? Value(q) : Value(r);
        }
        // Python's float divmod.
        double r = std::fmod(fx, fy);
        if (r != 0.0 && ((r < 0) != (fy < 0))) r += fy;
        if (op == BinaryOp::Mod) return Value(r);
        const double quotient = (fx - r) / fy;
        double floored = std::floor(quotient);
        if (quotient - floored > 0.5) floored += 1.0;
        return Value(floored);
    }
    case BinaryOp::Pow:
        if (ints && y >= 0) {
            if (x == 0 || x == 1) return Value(y == 0 ? std::int64_t{1} : x);
            if (x == -1) return Value(y % 2 == 0 ? std::int64_t{1} : std::int64_t{-1});
            long double result = 1; // |x| >= 2 overflows int64 within 63 steps
            for (std::int64_t i = 0; i < y; ++i) result = static_cast<long double>(checkedInt(result * x));
            return Value(checkedInt(result));
        }
        if (fx == 0.0 && fy < 0) throw EvalError("0.0 cannot be raised to a negative power");
        return Value(std::pow(fx, fy));
    default: return Value();
    }
}

Value repeat(const Value& sequence, std::int64_t times, Interpreter& interpreter)
{
    if (times <= 0) return sequence.isString() ? Value("") : Value::list({}, sequence.isTuple());
    const std::size_t unit = sequence.isString() ? sequence.asString().size() : sequence.asList().size();
    const auto count = static_cast<std::size_t>(times);
    if (unit > 0 && count > interpreter.limits().maxOutputBytes / unit) interpreter.checkSize(interpreter.limits().maxOutputBytes + 1);
    if (sequence.isString()) {
        interpreter.checkSize(unit * count);
        std::string out;
        out.reserve(unit * count);
        for (std::size_t i = 0; i < count; ++i) out += sequence.asString();
        return Value(std::move(out));
    }
    interpreter.countSteps(unit * count);
    ValueList out;
    for (std::size_t i = 0; i < count; ++i) out.insert(out.end(), sequence.asList().begin(), sequence.asList().end());
    return Value::list(std::move(out), sequence.isTuple());
}

std::string operandError(const char* op, const Value& a, const Value& b)
{
    return std::string("unsupported operand type(s) for ") + op + ": '" + a.typeName() + "' and '" + b.typeName() + "'";
}

} // namespace

// ---------------------------------------------------------------------------
// Names the parser accepts

bool isSupportedMethod(std::string_view name)
{
    return stringMethods().count(name) || dictMethods().count(name) || listMethods().count(name) || name == "cycle";
}

bool isGlobalFunction(std::string_view name)
{
    return name == "raise_exception" || name == "strftime_now" || name == "namespace" || name == "range" || name == "dict";
}

// ---------------------------------------------------------------------------
// Access

Value getAttribute(const Value& object, const std::string& name)
{
    if (object.isUndefined()) throw EvalError(object.undefinedWhat());
    if (object.kind() == Value::Kind::Namespace) {
        const Value* found = object.namespaceAttributes().find(name);
        return found ? *found : Value::undefined("'Namespace' object has no attribute '" + name + "'");
    }
    if (hasMethod(object, name)) {
        const Value self = object;
        return Value::function(name, [self, name](const CallArgs& args, Interpreter& interpreter) {
            return callMethod(self, name, args, interpreter);
        });
    }
    if (object.isDict()) {
        const Value* found = object.asDict().find(name);
        if (found) return *found;
    }
    return Value::undefined("'" + object.typeName() + " object' has no attribute '" + name + "'");
}

Value getItem(const Value& object, const Value& key)
{
    if (object.isUndefined()) throw EvalError(object.undefinedWhat());
    if (object.isDict()) {
        const Value* found = object.asDict().find(key);
        if (found) return *found;
    } else if ((object.isList() || object.isString()) && key.isInteger()) {
        const bool isString = object.isString();
        const std::size_t size = isString ? codePointCount(object.asString()) : object.asList().size();
        const std::int64_t i = pythonIndex(key, size);
        if (i >= 0) {
            if (!isString) return object.asList()[static_cast<std::size_t>(i)];
            const std::string& s = object.asString();
            const std::size_t begin = codePointOffset(s, static_cast<std::size_t>(i));
            return Value(s.substr(begin, codePointOffset(std::string_view(s).substr(begin), 1)));
        }
        return Value::undefined("'" + object.typeName() + " object' has no element " + std::to_string(key.asInt()));
    }
    if (key.isString()) return getAttribute(object, key.asString());
    return Value::undefined("'" + object.typeName() + " object' has no element " + toRepr(key));
}

Value getSlice(const Value& object, const Value& start, const Value& stop, const Value& step)
{
    if (object.isUndefined()) throw EvalError(object.undefinedWhat());
    if (!object.isList() && !object.isString()) throw EvalError("'" + object.typeName() + "' object is not subscriptable");
    for (const Value* bound : {&start, &stop, &step})
        if (!bound->isNone() && !bound->isUndefined() && !bound->isInteger())
            throw EvalError("slice indices must be integers or None");
    const std::int64_t by = step.isInteger() ? step.asInt() : 1;
    if (by == 0) throw EvalError("slice step cannot be zero");
    std::vector<std::size_t> offsets; // string: byte offset of each code point, then the end
    if (object.isString()) {
        const std::string& s = object.asString();
        for (std::size_t pos = 0; pos < s.size(); ++pos)
            if ((static_cast<unsigned char>(s[pos]) & 0xC0) != 0x80) offsets.push_back(pos);
        offsets.push_back(s.size());
    }
    const auto size = static_cast<std::int64_t>(object.isString() ? offsets.size() - 1 : object.asList().size());
    // Python's slice.indices().
    const auto clamp = [&](const Value& bound, std::int64_t fallback) {
        if (!bound.isInteger()) return fallback;
        std::int64_t i = bound.asInt();
        if (i < 0) i = std::max<std::int64_t>(i + size, by < 0 ? -1 : 0);
        return std::min<std::int64_t>(i, by < 0 ? size - 1 : size);
    };
    const std::int64_t from = clamp(start, by < 0 ? size - 1 : 0);
    const std::int64_t to = clamp(stop, by < 0 ? -1 : size);
    std::vector<std::int64_t> picked;
    for (std::int64_t i = from; by > 0 ? i < to : i > to; i += by) picked.push_back(i);
    if (object.isString()) {
        std::string out;
        for (const std::int64_t i : picked)
            out.append(object.asString(), offsets[static_cast<std::size_t>(i)],
                       offsets[static_cast<std::size_t>(i) + 1] - offsets[static_cast<std::size_t>(i)]);
        return Value(std::move(out));
    }
    ValueList out;
    for (const std::int64_t i : picked) out.push_back(object.asList()[static_cast<std::size_t>(i)]);
    return Value::list(std::move(out), object.isTuple());
}

// ---------------------------------------------------------------------------
// Operators

bool contains(const Value& container, const Value& item)
{
    switch (container.kind()) {
    case Value::Kind::Undefined: return false;
    case Value::Kind::String:
        if (!item.isString())
            throw EvalError("'in <string>' requires string as left operand, not " + item.typeName());
        return container.asString().find(item.asString()) != std::string::npos;
    case Value::Kind::List:
        for (const Value& element : container.asList())
            if (equals(element, item)) return true;
        return false;
    case Value::Kind::Dict: return container.asDict().find(item) != nullptr;
    default: throw EvalError("argument of type '" + container.typeName() + "' is not iterable");
    }
}

Value binaryOperation(BinaryOp op, const Value& a, const Value& b, Interpreter& interpreter)
{
    if (op == BinaryOp::Concat) {
        std::string text = toStr(a) + toStr(b);
        interpreter.checkSize(text.size());
        return Value(std::move(text));
    }
    if (a.isUndefined()) throw EvalError(a.undefinedWhat());
    if (b.isUndefined()) throw EvalError(b.undefinedWhat());
    static const char* const kSymbols[] = {"+", "-", "*", "/", "//", "%", "**"};
    const char* symbol = kSymbols[static_cast<int>(op)];
    if (a.isNumber() && b.isNumber()) return arithmetic(op, a, b);
    if (op == BinaryOp::Add && a.isString() && b.isString()) {
        interpreter.checkSize(a.asString().size() + b.asString().size());
        return Value(a.asString() + b.asString());
    }
    if (op == BinaryOp::Add && a.isList() && b.isList() && a.isTuple() == b.isTuple()) {
        interpreter.countSteps(a.asList().size() + b.asList().size());
        ValueList items = a.asList();
        items.insert(items.end(), b.asList().begin(), b.asList().end());
        return Value::list(std::move(items), a.isTuple());
    }
    if (op == BinaryOp::Mul && (a.isString() || a.isList()) && b.isInteger()) return repeat(a, b.asInt(), interpreter);
    if (op == BinaryOp::Mul && (b.isString() || b.isList()) && a.isInteger()) return repeat(b, a.asInt(), interpreter);
    if (op == BinaryOp::Mod && a.isString()) {
        const ValueList args = b.isList() && b.isTuple() ? b.asList() : ValueList{b};
        return Value(percentFormat(a.asString(), args));
    }
    if (op == BinaryOp::Add && a.isString())
        throw EvalError("can only concatenate str (not \"" + b.typeName() + "\") to str");
    throw EvalError(operandError(symbol, a, b));
}

// ---------------------------------------------------------------------------
// Global functions

Value globalFunction(const std::string& name)
{
    if (name == "raise_exception")
        return Value::function(name, [](const CallArgs& args, Interpreter&) -> Value {
            const Value* message = args.get(0, "message");
            throw EvalError("the template raised an error: " + (message ? toStr(*message) : std::string()));
        });
    if (name == "strftime_now")
        return Value::function(name, [](const CallArgs& args, Interpreter&) {
            const std::string& format = stringArg(args, 0, "format", "strftime_now");
            const std::time_t now = std::time(nullptr);
            std::tm local{};
            localtime_r(&now, &local);
            char buffer[256];
            const std::size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &local);
            return Value(std::string(buffer, n));
        });
    if (name == "namespace" || name == "dict")
        return Value::function(name, [name](const CallArgs& args, Interpreter&) {
            Dict attributes;
            for (const Value& positional : args.positional) {
                if (!positional.isDict()) throw EvalError(name + "() takes a dict or keyword arguments");
                for (const auto& [key, value] : positional.asDict().items()) attributes.set(key, value);
            }
            for (const auto& [key, value] : args.keywords) attributes.set(Value(key), value);
            return name == "dict" ? Value::dict(std::move(attributes)) : Value::makeNamespace(std::move(attributes));
        });
    if (name == "range")
        return Value::function(name, [](const CallArgs& args, Interpreter& interpreter) {
            const auto& p = args.positional;
            if (p.empty() || p.size() > 3 || !args.keywords.empty()) throw EvalError("range() takes 1 to 3 integers");
            for (const Value& v : p)
                if (!v.isInteger()) throw EvalError("range() takes integers, not " + v.typeName());
            const std::int64_t start = p.size() == 1 ? 0 : p[0].asInt();
            const std::int64_t stop = p.size() == 1 ? p[0].asInt() : p[1].asInt();
            const std::int64_t step = p.size() == 3 ? p[2].asInt() : 1;
            if (step == 0) throw EvalError("range() arg 3 must not be zero");
            const long double count = std::max<long double>(0, std::ceil((static_cast<long double>(stop) - start) / step));
            if (count > static_cast<long double>(interpreter.limits().maxSteps))
                interpreter.countSteps(interpreter.limits().maxSteps + 1); // over the limit: the usual error
            interpreter.countSteps(static_cast<std::size_t>(count));
            ValueList items;
            for (std::int64_t i = 0; i < static_cast<std::int64_t>(count); ++i) items.emplace_back(start + i * step);
            return Value::list(std::move(items));
        });
    return Value::undefined("'" + name + "' is undefined");
}

// ---------------------------------------------------------------------------
// Methods

Value callMethod(const Value& object, const std::string& name, const CallArgs& args, Interpreter& interpreter)
{
    if (!hasMethod(object, name))
        throw EvalError("'" + object.typeName() + "' object has no method '" + name + "'");
    if (object.isDict()) {
        const Dict& dict = object.asDict();
        if (name == "items") return itemsOf(dict);
        if (name == "get") {
            const Value* key = args.get(0, "key");
            if (!key) throw EvalError("get() needs a key");
            const Value* found = dict.find(*key);
            if (found) return *found;
            const Value* fallback = args.get(1, "default");
            return fallback ? *fallback : Value(nullptr);
        }
        ValueList out;
        for (const auto& [key, value] : dict.items()) out.push_back(name == "keys" ? key : value);
        return Value::list(std::move(out));
    }
    if (object.isList()) {
        const Value* item = args.get(0, "value");
        if (!item) throw EvalError(name + "() needs a value");
        std::int64_t count = 0;
        for (std::size_t i = 0; i < object.asList().size(); ++i) {
            if (!equals(object.asList()[i], *item)) continue;
            if (name == "index") return Value(static_cast<std::int64_t>(i));
            ++count;
        }
        if (name == "index") throw EvalError(toRepr(*item) + " is not in list");
        return Value(count);
    }
    return stringMethod(object.asString(), name, args, interpreter);
}

} // namespace loralab::jinja
