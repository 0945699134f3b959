// Python's str methods on UTF-8 text: see jinja_strings.h.
#include "engine/data/chat/jinja_strings.h"

#include "engine/data/chat/jinja_interpreter.h"
#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace loralab::jinja {
namespace {

// The code point starting at `pos` and its length.
char32_t at(std::string_view text, std::size_t pos, std::size_t& length)
{
    std::size_t next = pos;
    const char32_t cp = decodeUtf8(text, next);
    length = next - pos;
    return cp;
}

std::size_t previousStart(std::string_view text, std::size_t pos)
{
    std::size_t start = pos - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return start;
}

bool isSpaceAt(std::string_view text, std::size_t pos, std::size_t& length) { return isPythonSpace(at(text, pos, length)); }

template <typename Map>
std::string mapCodePoints(std::string_view text, Map map)
{
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) appendUtf8(out, map(decodeUtf8(text, pos), pos));
    return out;
}

bool isCased(char32_t cp) { return toLowerCase(cp) != cp || toUpperCase(cp) != cp || toTitleCase(cp) != cp; }

const Value* optionalArg(const CallArgs& args, std::size_t index, const char* name)
{
    const Value* value = args.get(index, name);
    return value && !value->isNone() ? value : nullptr;
}

const std::string& requireString(const Value* value, const std::string& method, const char* what)
{
    if (!value || !value->isString())
        throw EvalError(method + "() needs a string " + what + (value ? " (got " + value->typeName() + ")" : ""));
    return value->asString();
}

std::int64_t optionalInt(const CallArgs& args, std::size_t index, const char* name, std::int64_t fallback)
{
    const Value* value = optionalArg(args, index, name);
    if (!value) return fallback;
    if (!value->isInteger()) throw EvalError(std::string("'") + name + "' must be an integer");
    return value->asInt();
}

// The byte range [begin, end) that Python's text[start:end] covers.
std::pair<std::size_t, std::size_t> byteRange(std::string_view text, const CallArgs& args, std::size_t firstIndex)
{
    const auto count = static_cast<std::int64_t>(codePointCount(text));
    const auto clamp = [&](std::int64_t i) {
        if (i < 0) i = std::max<std::int64_t>(0, i + count);
        return static_cast<std::size_t>(std::min(i, count));
    };
    const std::size_t start = clamp(optionalInt(args, firstIndex, "start", 0));
    const std::size_t end = clamp(optionalInt(args, firstIndex + 1, "end", count));
    const std::size_t begin = codePointOffset(text, start);
    return {begin, std::max(begin, codePointOffset(text, end))};
}

ValueList splitLines(std::string_view text, bool keepEnds)
{
    ValueList lines;
    std::size_t lineStart = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t length = 0;
        const char32_t cp = at(text, pos, length);
        const bool breaks = cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || (cp >= 0x1C && cp <= 0x1E) ||
                            cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!breaks) {
            pos += length;
            continue;
        }
        std::size_t end = pos + length;
        if (cp == '\r' && end < text.size() && text[end] == '\n') ++end;
        lines.emplace_back(std::string(text.substr(lineStart, (keepEnds ? end : pos) - lineStart)));
        lineStart = pos = end;
    }
    if (lineStart < text.size()) lines.emplace_back(std::string(text.substr(lineStart)));
    return lines;
}

bool affixMatches(std::string_view text, const Value& affix, bool prefix, const std::string& method)
{
    const auto one = [&](const Value& candidate) {
        const std::string& s = requireString(&candidate, method, "or a tuple of strings");
        if (s.size() > text.size()) return false;
        return prefix ? text.compare(0, s.size(), s) == 0 : text.compare(text.size() - s.size(), s.size(), s) == 0;
    };
    if (!affix.isList()) return one(affix);
    return std::any_of(affix.asList().begin(), affix.asList().end(), one);
}

} // namespace

std::string pythonStrip(std::string_view text, const Value* chars, bool left, bool right)
{
    std::set<char32_t> set;
    const bool whitespace = !chars || chars->isNone() || chars->isUndefined();
    if (!whitespace) {
        if (!chars->isString()) throw EvalError("strip arg must be None or str, not " + chars->typeName());
        std::size_t pos = 0;
        while (pos < chars->asString().size()) set.insert(decodeUtf8(chars->asString(), pos));
    }
    const auto strips = [&](char32_t cp) { return whitespace ? isPythonSpace(cp) : set.count(cp) > 0; };
    std::size_t begin = 0;
    std::size_t end = text.size();
    std::size_t length = 0;
    while (left && begin < end && strips(at(text, begin, length))) begin += length;
    while (right && end > begin) {
        const std::size_t start = previousStart(text, end);
        if (!strips(at(text, start, length))) break;
        end = start;
    }
    return std::string(text.substr(begin, end - begin));
}

ValueList pythonSplit(std::string_view text, const Value* separator, std::int64_t maxSplit, bool fromRight)
{
    ValueList parts;
    const auto piece = [&](std::size_t begin, std::size_t end) { parts.emplace_back(std::string(text.substr(begin, end - begin))); };
    std::int64_t splits = 0;
    if (!separator || separator->isNone()) {
        std::size_t length = 0;
        if (!fromRight) {
            std::size_t pos = 0;
            while (true) {
                while (pos < text.size() && isSpaceAt(text, pos, length)) pos += length;
                if (pos == text.size()) break;
                if (maxSplit >= 0 && splits == maxSplit) {
                    piece(pos, text.size());
                    break;
                }
                std::size_t end = pos;
                while (end < text.size() && !isSpaceAt(text, end, length)) end += length;
                piece(pos, end);
                ++splits;
                pos = end;
            }
            return parts;
        }
        std::size_t end = text.size();
        while (true) {
            while (end > 0 && isSpaceAt(text, previousStart(text, end), length)) end = previousStart(text, end);
            if (end == 0) break;
            if (maxSplit >= 0 && splits == maxSplit) {
                piece(0, end);
                break;
            }
            std::size_t begin = end;
            while (begin > 0 && !isSpaceAt(text, previousStart(text, begin), length)) begin = previousStart(text, begin);
            piece(begin, end);
            ++splits;
            end = begin;
        }
        std::reverse(parts.begin(), parts.end());
        return parts;
    }
    if (!separator->isString()) throw EvalError("must be str or None, not " + separator->typeName());
    const std::string& sep = separator->asString();
    if (sep.empty()) throw EvalError("empty separator");
    if (!fromRight) {
        std::size_t pos = 0;
        for (std::size_t found = text.find(sep); found != std::string_view::npos && (maxSplit < 0 || splits < maxSplit);
             found = text.find(sep, pos), ++splits) {
            piece(pos, found);
            pos = found + sep.size();
        }
        piece(pos, text.size());
        return parts;
    }
    std::size_t end = text.size();
    while (maxSplit < 0 || splits < maxSplit) {
        if (end < sep.size()) break;
        const std::size_t found = text.rfind(sep, end - sep.size());
        if (found == std::string_view::npos) break;
        piece(found + sep.size(), end);
        end = found;
        ++splits;
    }
    piece(0, end);
    std::reverse(parts.begin(), parts.end());
    return parts;
}

std::string pythonReplace(std::string_view text, std::string_view old, std::string_view replacement, std::int64_t count)
{
    std::string out;
    std::int64_t done = 0;
    if (old.empty()) {
        std::size_t pos = 0;
        while (count < 0 || done < count) {
            out += replacement;
            ++done;
            if (pos >= text.size()) break;
            std::size_t length = 0;
            at(text, pos, length);
            out += text.substr(pos, length);
            pos += length;
        }
        return out + std::string(text.substr(std::min(pos, text.size())));
    }
    std::size_t pos = 0;
    for (std::size_t found = text.find(old); found != std::string_view::npos && (count < 0 || done < count);
         found = text.find(old, pos), ++done) {
        out += text.substr(pos, found - pos);
        out += replacement;
        pos = found + old.size();
    }
    return out + std::string(text.substr(pos));
}

// U+00DF (sharp s) and U+0130 (capital I with dot) are the one-to-many
// mappings text actually meets; Python writes them as two characters.
std::string upperCase(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char32_t cp = decodeUtf8(text, pos);
        if (cp == 0xDF) out += "SS";
        else appendUtf8(out, toUpperCase(cp));
    }
    return out;
}

std::string lowerCase(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char32_t cp = decodeUtf8(text, pos);
        if (cp == 0x130) out += "i\xCC\x87"; // i and U+0307
        else appendUtf8(out, toLowerCase(cp));
    }
    return out;
}

std::string capitalizeCase(std::string_view text)
{
    bool first = true;
    return mapCodePoints(text, [&](char32_t cp, std::size_t) {
        const char32_t mapped = first ? toTitleCase(cp) : toLowerCase(cp);
        first = false;
        return mapped;
    });
}

std::string titleCase(std::string_view text)
{
    bool previousCased = false;
    return mapCodePoints(text, [&](char32_t cp, std::size_t) {
        const char32_t mapped = previousCased ? toLowerCase(cp) : toTitleCase(cp);
        previousCased = isCased(cp);
        return mapped;
    });
}

std::string percentFormat(const std::string& format, const ValueList& args)
{
    std::string out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out.push_back(format[i]);
            continue;
        }
        // %[flags][width][.precision]conversion, widths and precisions of at
        // most three digits (a hostile format must not ask for gigabytes).
        std::size_t j = i + 1;
        std::string flags;
        while (j < format.size() && std::string_view("-+ 0#").find(format[j]) != std::string_view::npos) flags += format[j++];
        int width = 0;
        for (int digits = 0; j < format.size() && format[j] >= '0' && format[j] <= '9'; ++j, ++digits)
            if (digits < 3) width = width * 10 + (format[j] - '0');
        int precision = -1;
        if (j < format.size() && format[j] == '.') {
            precision = 0;
            for (int digits = 0; ++j < format.size() && format[j] >= '0' && format[j] <= '9'; ++digits)
                if (digits < 3) precision = precision * 10 + (format[j] - '0');
        }
        if (j >= format.size()) throw EvalError("incomplete format");
        const char conversion = format[j];
        i = j;
        if (conversion == '%') {
            out.push_back('%');
            continue;
        }
        if (next >= args.size()) throw EvalError("not enough arguments for format string");
        const Value& arg = args[next++];
        std::string spec = "%" + flags + (width ? std::to_string(width) : "");
        if (precision >= 0) spec += "." + std::to_string(precision);
        char buffer[2048];
        if (conversion == 's' || conversion == 'r') {
            std::string text = conversion == 's' ? toStr(arg) : toRepr(arg);
            if (precision >= 0) text.resize(codePointOffset(text, static_cast<std::size_t>(precision)));
            const std::size_t length = codePointCount(text);
            const std::string pad(width > static_cast<int>(length) ? static_cast<std::size_t>(width) - length : 0, ' ');
            out += flags.find('-') != std::string::npos ? text + pad : pad + text;
        } else if (conversion == 'd' || conversion == 'i') {
            if (!arg.isNumber()) throw EvalError("%d format: a real number is required, not " + arg.typeName());
            const double f = arg.asFloat();
            if (arg.kind() == Value::Kind::Float && !(f > -9.2e18 && f < 9.2e18))
                throw EvalError("%d format: the number is out of range");
            const long long n = arg.kind() == Value::Kind::Float ? static_cast<long long>(f) : static_cast<long long>(arg.asInt());
            std::snprintf(buffer, sizeof buffer, (spec + "lld").c_str(), n);
            out += buffer;
        } else if (conversion == 'f' || conversion == 'F') {
            if (!arg.isNumber()) throw EvalError("%f format: a real number is required, not " + arg.typeName());
            if (std::abs(arg.asFloat()) >= 1e300) throw EvalError("%f format: the number is too large to print");
            std::snprintf(buffer, sizeof buffer, (spec + "f").c_str(), arg.asFloat());
            out += buffer;
        } else {
            throw EvalError(std::string("unsupported format character '") + conversion + "'");
        }
    }
    if (next < args.size()) throw EvalError("not all arguments converted during string formatting");
    return out;
}

Value stringMethod(const std::string& text, const std::string& name, const CallArgs& args, Interpreter& interpreter)
{
    if (name == "strip" || name == "lstrip" || name == "rstrip")
        return Value(pythonStrip(text, args.get(0, "chars"), name != "rstrip", name != "lstrip"));
    if (name == "split" || name == "rsplit")
        return Value::list(pythonSplit(text, optionalArg(args, 0, "sep"), optionalInt(args, 1, "maxsplit", -1), name == "rsplit"));
    if (name == "startswith" || name == "endswith") {
        const Value* affix = args.get(0, name == "startswith" ? "prefix" : "suffix");
        if (!affix) throw EvalError(name + "() needs an argument");
        const auto [begin, end] = byteRange(text, args, 1);
        return Value(affixMatches(std::string_view(text).substr(begin, end - begin), *affix, name == "startswith", name));
    }
    if (name == "upper") return Value(upperCase(text));
    if (name == "lower") return Value(lowerCase(text));
    if (name == "title") return Value(titleCase(text));
    if (name == "capitalize") return Value(capitalizeCase(text));
    if (name == "replace") {
        const std::string& old = requireString(args.get(0, "old"), name, "to replace");
        const std::string& replacement = requireString(args.get(1, "new"), name, "to put in");
        std::string out = pythonReplace(text, old, replacement, optionalInt(args, 2, "count", -1));
        interpreter.checkSize(out.size());
        return Value(std::move(out));
    }
    if (name == "find" || name == "rfind" || name == "count") {
        const std::string& sub = requireString(args.get(0, "sub"), name, "to look for");
        const auto [begin, end] = byteRange(text, args, 1);
        const std::string_view range = std::string_view(text).substr(begin, end - begin);
        if (name == "count") {
            if (sub.empty()) return Value(static_cast<std::int64_t>(codePointCount(range) + 1));
            std::int64_t count = 0;
            for (std::size_t pos = range.find(sub); pos != std::string_view::npos; pos = range.find(sub, pos + sub.size())) ++count;
            return Value(count);
        }
        const std::size_t found = name == "find" ? range.find(sub) : range.rfind(sub);
        if (found == std::string_view::npos) return Value(std::int64_t{-1});
        return Value(static_cast<std::int64_t>(codePointCount(std::string_view(text).substr(0, begin + found))));
    }
    if (name == "join") {
        const Value* items = args.get(0, "iterable");
        if (!items) throw EvalError("join() needs an iterable");
        std::string out;
        const ValueList list = iterate(*items);
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].isString())
                throw EvalError("sequence item " + std::to_string(i) + ": expected str instance, " + list[i].typeName() + " found");
            if (i) out += text;
            out += list[i].asString();
            interpreter.checkSize(out.size());
        }
        return Value(std::move(out));
    }
    if (name == "splitlines") {
        const Value* keep = args.get(0, "keepends");
        return Value::list(splitLines(text, keep && keep->truthy()));
    }
    if (name == "isspace") {
        if (text.empty()) return Value(false);
        std::size_t pos = 0;
        std::size_t length = 0;
        for (; pos < text.size(); pos += length)
            if (!isSpaceAt(text, pos, length)) return Value(false);
        return Value(true);
    }
    throw EvalError("'str' object has no method '" + name + "'");
}

} // namespace loralab::jinja
