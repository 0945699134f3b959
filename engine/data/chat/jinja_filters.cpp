// The filters and tests chat templates use, with Jinja 3.1's meaning and
// transformers' tojson (json.dumps with ensure_ascii=False and no HTML
// escaping): see jinja_builtins.h.
#include "engine/data/chat/jinja_builtins.h"

#include "engine/data/chat/jinja_interpreter.h"
#include "engine/data/chat/jinja_strings.h"
#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

namespace loralab::jinja {
namespace {

const std::set<std::string_view>& filterNames()
{
    static const std::set<std::string_view> names = {
        "abs",     "attr",      "capitalize", "count", "d",      "default", "dictsort", "e",      "escape",
        "first",   "float",     "format",     "indent", "int",   "items",   "join",     "last",   "length",
        "list",    "lower",     "map",        "max",   "min",    "reject",  "rejectattr", "replace", "reverse",
        "round",   "safe",      "select",     "selectattr", "sort", "string", "sum",    "title",  "tojson",
        "trim",    "unique",    "upper",      "wordcount"};
    return names;
}

const std::set<std::string_view>& testNames()
{
    static const std::set<std::string_view> names = {
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "float",
        "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<", "lessthan",
        "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper"};
    return names;
}

const Value* arg(const CallArgs& args, std::size_t index, const char* name) { return args.get(index, name); }
bool flag(const CallArgs& args, std::size_t index, const char* name)
{
    const Value* value = arg(args, index, name);
    return value && value->truthy();
}

// Jinja's attribute paths ("a.b", "0") for map, sort, selectattr and the like.
Value attributePath(const Value& item, const std::string& path)
{
    Value current = item;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const bool digits = !part.empty() && part.size() < 18 && part.find_first_not_of("0123456789") == std::string::npos;
        current = digits ? getItem(current, Value(static_cast<std::int64_t>(std::stoll(part)))) : getItem(current, Value(part));
        if (dot == std::string::npos) return current;
        start = dot + 1;
    }
}

std::string requireAttribute(const CallArgs& args, std::size_t index, const char* filter)
{
    const Value* name = arg(args, index, "attribute");
    if (!name || !name->isString()) throw EvalError(std::string(filter) + " needs the attribute's name as a string");
    return name->asString();
}

// sort / min / max / unique compare strings without case unless told.
Value sortKey(const Value& item, bool caseSensitive)
{
    return !caseSensitive && item.isString() ? Value(lowerCase(item.asString())) : item;
}

ValueList sorted(ValueList items, bool caseSensitive, const std::string& attribute, bool reverse)
{
    std::vector<std::pair<Value, Value>> keyed;
    for (Value& item : items)
        keyed.emplace_back(sortKey(attribute.empty() ? item : attributePath(item, attribute), caseSensitive), std::move(item));
    std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
        return reverse ? compare(b.first, a.first, "<") < 0 : compare(a.first, b.first, "<") < 0;
    });
    ValueList out;
    for (auto& entry : keyed) out.push_back(std::move(entry.second));
    return out;
}

std::string htmlEscape(const std::string& text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

std::string indent(const std::string& text, const Value* widthArg, bool first, bool blank)
{
    std::string pad = "    ";
    if (widthArg && widthArg->isString()) pad = widthArg->asString();
    else if (widthArg && widthArg->isInteger())
        pad.assign(static_cast<std::size_t>(std::clamp<std::int64_t>(widthArg->asInt(), 0, 256)), ' ');
    std::string out;
    std::size_t lineStart = 0;
    bool firstLine = true;
    while (lineStart <= text.size()) {
        const std::size_t newline = text.find('\n', lineStart);
        const std::size_t end = newline == std::string::npos ? text.size() : newline;
        const bool empty = end == lineStart;
        if ((firstLine ? first : true) && (blank || !empty)) out += pad;
        out.append(text, lineStart, end - lineStart);
        if (newline == std::string::npos) break;
        out.push_back('\n');
        lineStart = newline + 1;
        firstLine = false;
    }
    return out;
}

Value number(const Value& value, bool integer, const Value* fallback)
{
    const Value otherwise = fallback ? *fallback : integer ? Value(std::int64_t{0}) : Value(0.0);
    // Floats beyond int64 are clamped: Python's int() would give a big integer.
    const auto truncated = [](double f) { return Value(static_cast<std::int64_t>(std::trunc(std::clamp(f, -9.2e18, 9.2e18)))); };
    if (value.isNumber()) {
        if (!integer) return Value(value.asFloat());
        return value.kind() == Value::Kind::Float ? truncated(value.asFloat()) : Value(value.asInt());
    }
    if (!value.isString()) return otherwise;
    const std::string text = pythonStrip(value.asString(), nullptr, true, true);
    if (text.empty()) return otherwise;
    char* end = nullptr;
    if (integer) {
        errno = 0;
        const long long n = std::strtoll(text.c_str(), &end, 10);
        if (*end == '\0' && errno == 0) return Value(static_cast<std::int64_t>(n));
        const double f = std::strtod(text.c_str(), &end); // Jinja's int() also reads "3.5"
        return *end == '\0' && std::isfinite(f) ? truncated(f) : otherwise;
    }
    const double f = std::strtod(text.c_str(), &end);
    return *end == '\0' ? Value(f) : otherwise;
}

// select / reject / selectattr / rejectattr: the test and its arguments come
// after the filter's own argument(s).
ValueList selectItems(const Value& subject, const CallArgs& args, bool byAttribute, bool keep)
{
    std::size_t next = 0;
    std::string attribute;
    if (byAttribute) {
        const Value* name = arg(args, next++, "attribute");
        if (!name || !name->isString()) throw EvalError("selectattr / rejectattr need the attribute's name as a string");
        attribute = name->asString();
    }
    std::string test;
    CallArgs testArgs;
    if (next < args.positional.size()) {
        if (!args.positional[next].isString()) throw EvalError("the test's name must be a string");
        test = args.positional[next++].asString();
        if (!isSupportedTest(test)) throw EvalError("the test '" + test + "' is not supported");
        testArgs.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end());
    }
    ValueList out;
    for (const Value& item : iterate(subject)) {
        const Value value = byAttribute ? attributePath(item, attribute) : item;
        const bool passes = test.empty() ? value.truthy() : applyTest(test, value, testArgs);
        if (passes == keep) out.push_back(item);
    }
    return out;
}

} // namespace

bool isSupportedFilter(std::string_view name) { return filterNames().count(name) > 0; }
bool isSupportedTest(std::string_view name) { return testNames().count(name) > 0; }

Value applyFilter(const std::string& name, const Value& subject, const CallArgs& args, Interpreter& interpreter)
{
    if (name == "default" || name == "d") {
        const Value* fallback = arg(args, 0, "default_value");
        const bool replace = subject.isUndefined() || (flag(args, 1, "boolean") && !subject.truthy());
        return replace ? (fallback ? *fallback : Value("")) : subject;
    }
    if (name == "length" || name == "count") {
        if (subject.isString()) return Value(static_cast<std::int64_t>(codePointCount(subject.asString())));
        if (subject.isDict() || subject.kind() == Value::Kind::Namespace)
            return Value(static_cast<std::int64_t>(subject.asDict().size()));
        if (subject.isList()) return Value(static_cast<std::int64_t>(subject.asList().size()));
        if (subject.isUndefined()) return Value(std::int64_t{0});
        throw EvalError("object of type '" + subject.typeName() + "' has no len()");
    }
    if (name == "tojson") {
        const Value* indentArg = arg(args, 0, "indent");
        const int indentWidth =
            indentArg && indentArg->isInteger() ? static_cast<int>(std::clamp<std::int64_t>(indentArg->asInt(), 0, 64)) : -1;
        std::string json = toJson(subject, indentWidth, flag(args, 3, "sort_keys"));
        interpreter.checkSize(json.size());
        return Value(std::move(json));
    }
    if (name == "string") return Value(toStr(subject));
    if (name == "safe") return subject;
    if (name == "e" || name == "escape") return Value(htmlEscape(toStr(subject)));
    if (name == "trim") return Value(pythonStrip(toStr(subject), arg(args, 0, "chars"), true, true));
    if (name == "upper") return Value(upperCase(toStr(subject)));
    if (name == "lower") return Value(lowerCase(toStr(subject)));
    if (name == "capitalize") return Value(capitalizeCase(toStr(subject)));
    if (name == "title") {
        // Jinja's title: each word's first character upper-cased, the rest
        // lower-cased; words begin after "-", whitespace or an opening bracket.
        const std::string text = toStr(subject);
        std::string out;
        bool wordStart = true;
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t start = pos;
            const char32_t cp = decodeUtf8(text, pos);
            const bool separator = isPythonSpace(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
            const std::string character = text.substr(start, pos - start);
            out += separator ? character : wordStart ? upperCase(character) : lowerCase(character);
            wordStart = separator;
        }
        return Value(std::move(out));
    }
    if (name == "replace") {
        const Value* old = arg(args, 0, "old");
        const Value* replacement = arg(args, 1, "new");
        if (!old || !replacement) throw EvalError("replace needs the text to replace and its replacement");
        const Value* count = arg(args, 2, "count");
        const std::int64_t times = count && count->isInteger() ? count->asInt() : -1;
        std::string out = pythonReplace(toStr(subject), toStr(*old), toStr(*replacement), times);
        interpreter.checkSize(out.size());
        return Value(std::move(out));
    }
    if (name == "indent") return Value(indent(toStr(subject), arg(args, 0, "width"), flag(args, 1, "first"), flag(args, 2, "blank")));
    if (name == "wordcount") {
        std::int64_t words = 0;
        bool inWord = false;
        const std::string text = toStr(subject);
        std::size_t pos = 0;
        while (pos < text.size()) {
            const char32_t cp = decodeUtf8(text, pos);
            const bool wordChar = isAlphanumeric(cp) || cp == '_';
            words += wordChar && !inWord;
            inWord = wordChar;
        }
        return Value(words);
    }
    if (name == "format") {
        if (!subject.isString()) throw EvalError("format needs a string");
        return Value(percentFormat(subject.asString(), args.positional));
    }
    if (name == "int" || name == "float") return number(subject, name == "int", arg(args, 0, "default"));
    if (name == "abs") {
        if (!subject.isNumber()) throw EvalError("bad operand type for abs(): '" + subject.typeName() + "'");
        if (subject.kind() == Value::Kind::Float) return Value(std::fabs(subject.asFloat()));
        if (subject.asInt() == INT64_MIN) throw EvalError("integer overflow");
        return Value(static_cast<std::int64_t>(std::llabs(subject.asInt())));
    }
    if (name == "round") {
        if (!subject.isNumber()) throw EvalError("round needs a number, not " + subject.typeName());
        const Value* digits = arg(args, 0, "precision");
        const Value* method = arg(args, 1, "method");
        const std::int64_t places = digits && digits->isInteger() ? std::clamp<std::int64_t>(digits->asInt(), -20, 20) : 0;
        const double scale = std::pow(10.0, static_cast<double>(places));
        const std::string how = method && method->isString() ? method->asString() : "common";
        const double x = subject.asFloat() * scale;
        const double r = how == "ceil" ? std::ceil(x) : how == "floor" ? std::floor(x) : std::nearbyint(x);
        return Value(r / scale);
    }
    if (name == "attr") return getAttribute(subject, requireAttribute(args, 0, "attr"));
    if (name == "items") {
        if (subject.isUndefined()) return Value::list({});
        if (!subject.isDict()) throw EvalError("items needs a mapping, not " + subject.typeName());
        return callMethod(subject, "items", {}, interpreter);
    }
    if (name == "dictsort") {
        if (!subject.isDict()) throw EvalError("dictsort needs a mapping, not " + subject.typeName());
        const Value* by = arg(args, 1, "by");
        const bool byValue = by && by->isString() && by->asString() == "value";
        return Value::list(sorted(callMethod(subject, "items", {}, interpreter).asList(), flag(args, 0, "case_sensitive"),
                                  byValue ? "1" : "0", flag(args, 2, "reverse")));
    }
    // The rest walk the items of a sequence.
    ValueList items = iterate(subject);
    interpreter.countSteps(items.size());
    if (name == "list") return Value::list(std::move(items));
    if (name == "first") return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
    if (name == "last") return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
    if (name == "reverse") {
        if (subject.isString()) return getSlice(subject, Value(nullptr), Value(nullptr), Value(std::int64_t{-1}));
        std::reverse(items.begin(), items.end());
        return Value::list(std::move(items));
    }
    if (name == "join") {
        const Value* separator = arg(args, 0, "d");
        const Value* attribute = arg(args, 1, "attribute");
        std::string out;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i && separator) out += toStr(*separator);
            out += toStr(attribute && attribute->isString() ? attributePath(items[i], attribute->asString()) : items[i]);
            interpreter.checkSize(out.size());
        }
        return Value(std::move(out));
    }
    if (name == "map") {
        ValueList out;
        const Value* attribute = arg(args, args.positional.empty() ? 0 : 99, "attribute");
        if (attribute) {
            const Value* fallback = arg(args, 99, "default");
            for (const Value& item : items) {
                Value value = attributePath(item, toStr(*attribute));
                out.push_back(value.isUndefined() && fallback ? *fallback : value);
            }
            return Value::list(std::move(out));
        }
        if (args.positional.empty() || !args.positional[0].isString()) throw EvalError("map needs a filter name or attribute=");
        const std::string filter = args.positional[0].asString();
        if (!isSupportedFilter(filter) || filter == "map") throw EvalError("the filter '" + filter + "' is not supported");
        CallArgs rest;
        rest.positional.assign(args.positional.begin() + 1, args.positional.end());
        rest.keywords = args.keywords;
        for (const Value& item : items) out.push_back(applyFilter(filter, item, rest, interpreter));
        return Value::list(std::move(out));
    }
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
        return Value::list(selectItems(subject, args, name.size() > 6, name.rfind("select", 0) == 0));
    const Value* attribute = arg(args, 99, "attribute");
    const std::string path = attribute && attribute->isString() ? attribute->asString() : "";
    if (name == "sort") return Value::list(sorted(std::move(items), flag(args, 1, "case_sensitive"), path, flag(args, 0, "reverse")));
    if (name == "unique") {
        ValueList out;
        std::vector<Value> seen;
        for (const Value& item : items) {
            const Value key = sortKey(path.empty() ? item : attributePath(item, path), flag(args, 0, "case_sensitive"));
            if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return Value::list(std::move(out));
    }
    if (name == "min" || name == "max") {
        if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
        const ValueList order = sorted(std::move(items), flag(args, 0, "case_sensitive"), path, false);
        return name == "min" ? order.front() : order.back();
    }
    if (name == "sum") {
        const Value* start = arg(args, 1, "start");
        Value total = start ? *start : Value(std::int64_t{0});
        for (const Value& item : items)
            total = binaryOperation(BinaryOp::Add, total, path.empty() ? item : attributePath(item, path), interpreter);
        return total;
    }
    throw EvalError("the filter '" + name + "' is not supported");
}

bool applyTest(const std::string& name, const Value& subject, const CallArgs& args)
{
    const Value* other = arg(args, 0, "value");
    const auto needOther = [&]() -> const Value& {
        if (!other) throw EvalError("the test '" + name + "' needs a value to compare with");
        return *other;
    };
    const Value::Kind kind = subject.kind();
    if (name == "defined") return !subject.isUndefined();
    if (name == "undefined") return subject.isUndefined();
    if (name == "none") return subject.isNone();
    if (name == "string") return subject.isString();
    if (name == "number") return subject.isNumber();
    if (name == "integer") return kind == Value::Kind::Int;
    if (name == "float") return kind == Value::Kind::Float;
    if (name == "boolean") return kind == Value::Kind::Bool;
    if (name == "true") return kind == Value::Kind::Bool && subject.asBool();
    if (name == "false") return kind == Value::Kind::Bool && !subject.asBool();
    if (name == "mapping") return subject.isDict();
    if (name == "sequence") return subject.isString() || subject.isList() || subject.isDict() || subject.isUndefined();
    if (name == "iterable") return subject.isString() || subject.isList() || subject.isDict() || subject.isUndefined();
    if (name == "callable") return kind == Value::Kind::Function;
    if (name == "escaped") return false;
    if (name == "lower" || name == "upper") {
        const std::string text = toStr(subject);
        const std::string lower = lowerCase(text);
        const std::string upper = upperCase(text);
        const bool cased = lower != upper;
        return cased && (name == "lower" ? text == lower : text == upper);
    }
    if (name == "odd" || name == "even" || name == "divisibleby") {
        if (!subject.isInteger()) throw EvalError("the test '" + name + "' needs an integer, not " + subject.typeName());
        const std::int64_t divisor = name == "divisibleby" ? needOther().asInt() : 2;
        if (divisor == 0) throw EvalError("divisibleby(0)");
        const bool divisible = divisor == -1 || subject.asInt() % divisor == 0;
        return name == "odd" ? !divisible : divisible;
    }
    if (name == "in") return contains(needOther(), subject);
    if (name == "eq" || name == "equalto" || name == "==") return equals(subject, needOther());
    if (name == "ne" || name == "!=") return !equals(subject, needOther());
    if (name == "sameas") {
        const Value& o = needOther();
        // Containers are the same object only if they share their items.
        if (subject.kind() != o.kind()) return false;
        if (subject.isList()) return &subject.asList() == &o.asList();
        if (subject.isDict() || kind == Value::Kind::Namespace) return &subject.asDict() == &o.asDict();
        return equals(subject, o);
    }
    const char* op = name == "lt" || name == "<" || name == "lessthan" ? "<"
                     : name == "le" || name == "<="                     ? "<="
                     : name == "gt" || name == ">" || name == "greaterthan" ? ">"
                                                                          : ">=";
    const int order = compare(subject, needOther(), op);
    if (op[0] == '<') return op[1] ? order <= 0 : order < 0;
    return op[1] ? order >= 0 : order > 0;
}

} // namespace loralab::jinja
