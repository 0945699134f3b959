// Jinja2 tokens for chat templates: see jinja_lexer.h. The rules follow
// Jinja's lexer: a tag opener is "{{", "{%" or "{#" with an optional "-"
// (strip all whitespace before) or "+" (keep it); lstrip_blocks removes the
// spaces and tabs between a line's start and a "{%" or "{#"; trim_blocks
// removes the newline after "%}" or "#}"; "-%}" and "-}}" remove all the
// whitespace after them. Whitespace is Python's (str.isspace).
#include "engine/data/chat/jinja_lexer.h"

#include "engine/data/chat/jinja_value.h"
#include "engine/tokenizer/unicode.h"

#include <charconv>
#include <cstdlib>

namespace loralab::jinja {
namespace {

// Jinja reads "\r\n" and "\r" as "\n" and drops one newline at the very end.
std::string normalizeNewlines(std::string_view source)
{
    std::string out;
    out.reserve(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out.push_back(source[i]);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

int hexValue(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    explicit Lexer(std::string_view source) : m_src(normalizeNewlines(source)) {}

    std::vector<Token> run()
    {
        while (m_pos < m_src.size()) {
            const std::size_t open = findOpener(m_pos);
            if (open == std::string::npos) {
                emitData(m_pos, m_src.size());
                advance(m_src.size());
                break;
            }
            const char kind = m_src[open + 1];
            std::size_t after = open + 2;
            char sign = 0;
            if (after < m_src.size() && (m_src[after] == '-' || m_src[after] == '+')) sign = m_src[after++];
            const std::size_t rawBody = kind == '%' ? rawBegin(after) : std::string::npos;
            emitData(m_pos, stripEnd(m_pos, open, sign, kind != '{'));
            advance(open);
            const int line = m_line;
            if (kind == '#') {
                skipComment(after, line);
            } else if (rawBody != std::string::npos) {
                advance(rawBody);
                rawText(line);
            } else {
                push(kind == '{' ? TokenType::VariableBegin : TokenType::BlockBegin, kind == '{' ? "{{" : "{%", line);
                advance(after);
                tagTokens(kind == '{', line);
            }
        }
        push(TokenType::End, "", m_line);
        return std::move(m_tokens);
    }

private:
    std::size_t findOpener(std::size_t from) const
    {
        for (std::size_t at = m_src.find('{', from); at != std::string::npos; at = m_src.find('{', at + 1)) {
            if (at + 1 < m_src.size() && (m_src[at + 1] == '{' || m_src[at + 1] == '%' || m_src[at + 1] == '#'))
                return at;
        }
        return std::string::npos;
    }

    // Length of the Python whitespace character at `pos`, 0 if there is none.
    std::size_t spaceAt(std::size_t pos) const
    {
        if (pos >= m_src.size()) return 0;
        std::size_t next = pos;
        return isPythonSpace(decodeUtf8(m_src, next)) ? next - pos : 0;
    }
    std::size_t skipSpaces(std::size_t pos) const
    {
        for (std::size_t n = spaceAt(pos); n > 0; n = spaceAt(pos)) pos += n;
        return pos;
    }

    // Where the text [begin, end) before a tag ends once the tag's whitespace
    // control has taken what it takes.
    std::size_t stripEnd(std::size_t begin, std::size_t end, char sign, bool lstripKind) const
    {
        if (sign == '-') {
            std::size_t cut = end;
            while (cut > begin) {
                std::size_t start = cut - 1;
                while (start > begin && (static_cast<unsigned char>(m_src[start]) & 0xC0) == 0x80) --start;
                if (spaceAt(start) != cut - start) break;
                cut = start;
            }
            return cut;
        }
        if (sign == '+' || !lstripKind || end == begin) return end;
        const std::size_t newline = m_src.rfind('\n', end - 1);
        const std::size_t lineStart = newline == std::string::npos || newline < begin ? begin : newline + 1;
        if (lineStart == begin && !m_lineStarting) return end;
        if (lineStart == end || skipSpaces(lineStart) != end) return end; // nothing, or not only whitespace
        return lineStart;
    }

    // "{% raw %}" at `after` (just past "{%" and its sign): where the raw text
    // starts, else npos.
    std::size_t rawBegin(std::size_t after) const
    {
        std::size_t pos = skipSpaces(after);
        if (m_src.compare(pos, 3, "raw") != 0) return std::string::npos;
        pos = skipSpaces(pos + 3);
        if (m_src.compare(pos, 3, "-%}") == 0) return skipSpaces(pos + 3);
        if (m_src.compare(pos, 2, "%}") == 0) return pos + 2;
        return std::string::npos;
    }

    void rawText(int line)
    {
        for (std::size_t at = m_src.find("{%", m_pos); at != std::string::npos; at = m_src.find("{%", at + 1)) {
            std::size_t pos = at + 2;
            char sign = 0;
            if (pos < m_src.size() && (m_src[pos] == '-' || m_src[pos] == '+')) sign = m_src[pos++];
            pos = skipSpaces(pos);
            if (m_src.compare(pos, 6, "endraw") != 0) continue;
            pos = skipSpaces(pos + 6);
            const std::size_t close = closeBlock(pos);
            if (close == std::string::npos) continue;
            emitData(m_pos, stripEnd(m_pos, at, sign, true));
            advance(close);
            return;
        }
        throw TemplateError(line, "a {% raw %} block is never closed with {% endraw %}");
    }

    // Past "+%}", "-%}" and the whitespace after it, or "%}" and the newline
    // trim_blocks removes; npos when none is at `pos`.
    std::size_t closeBlock(std::size_t pos)
    {
        if (m_src.compare(pos, 3, "+%}") == 0) return pos + 3;
        if (m_src.compare(pos, 3, "-%}") == 0) return skipSpaces(pos + 3);
        if (m_src.compare(pos, 2, "%}") == 0) return pos + 2 + (m_src.compare(pos + 2, 1, "\n") == 0 ? 1 : 0);
        return std::string::npos;
    }

    void skipComment(std::size_t pos, int line)
    {
        for (std::size_t at = m_src.find('#', pos); at != std::string::npos; at = m_src.find('#', at + 1)) {
            if (m_src.compare(at, 2, "#}") != 0) continue;
            const bool minus = at > pos && m_src[at - 1] == '-';
            const bool plus = at > pos && m_src[at - 1] == '+';
            std::size_t end = at + 2;
            if (minus) end = skipSpaces(end);
            else if (!plus && m_src.compare(end, 1, "\n") == 0) ++end;
            advance(end);
            return;
        }
        throw TemplateError(line, "a comment ({# ... #}) is never closed");
    }

    void tagTokens(bool variable, int line)
    {
        std::string brackets; // the closers still expected, innermost last
        while (true) {
            if (m_pos >= m_src.size())
                throw TemplateError(line, std::string("a '") + (variable ? "{{" : "{%") + "' tag is never closed");
            if (brackets.empty()) {
                std::size_t close = std::string::npos;
                if (variable) {
                    if (m_src.compare(m_pos, 3, "-}}") == 0) close = skipSpaces(m_pos + 3);
                    else if (m_src.compare(m_pos, 2, "}}") == 0) close = m_pos + 2;
                } else {
                    close = closeBlock(m_pos);
                }
                if (close != std::string::npos) {
                    push(variable ? TokenType::VariableEnd : TokenType::BlockEnd, variable ? "}}" : "%}", m_line);
                    advance(close);
                    return;
                }
            }
            if (const std::size_t space = skipSpaces(m_pos); space != m_pos) {
                advance(space);
                continue;
            }
            lexToken(brackets);
        }
    }

    void lexToken(std::string& brackets)
    {
        const char c = m_src[m_pos];
        const bool afterDot = !m_tokens.empty() && m_tokens.back().type == TokenType::Operator && m_tokens.back().text == ".";
        if (isDigit(c)) return number(afterDot);
        if (isNameStart(c)) {
            std::size_t end = m_pos;
            while (end < m_src.size() && isNameChar(m_src[end])) ++end;
            push(TokenType::Name, m_src.substr(m_pos, end - m_pos), m_line);
            return advance(end);
        }
        if (c == '\'' || c == '"') return stringLiteral(c);
        static const char* const kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char* op : kTwo) {
            if (m_src.compare(m_pos, 2, op) == 0) {
                push(TokenType::Operator, op, m_line);
                return advance(m_pos + 2);
            }
        }
        if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
            std::size_t next = m_pos;
            const char32_t cp = decodeUtf8(m_src, next);
            std::string shown;
            appendUtf8(shown, cp);
            throw TemplateError(m_line, "unexpected character '" + shown + "'");
        }
        if (c == '(' || c == '[' || c == '{') brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        if (c == ')' || c == ']' || c == '}') {
            if (brackets.empty()) throw TemplateError(m_line, std::string("unexpected '") + c + "'");
            if (brackets.back() != c)
                throw TemplateError(m_line, std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
            brackets.pop_back();
        }
        push(TokenType::Operator, std::string(1, c), m_line);
        advance(m_pos + 1);
    }

    // Digits with optional "_" between them, from `pos`; returns the end.
    std::size_t digits(std::size_t pos) const
    {
        if (pos >= m_src.size() || !isDigit(m_src[pos])) return pos;
        while (pos < m_src.size() && (isDigit(m_src[pos]) || (m_src[pos] == '_' && pos + 1 < m_src.size() && isDigit(m_src[pos + 1]))))
            ++pos;
        return pos;
    }

    void number(bool afterDot)
    {
        std::size_t end = digits(m_pos);
        bool isFloat = false;
        if (!afterDot) {
            if (end + 1 < m_src.size() && m_src[end] == '.' && isDigit(m_src[end + 1])) {
                end = digits(end + 1);
                isFloat = true;
            }
            if (end < m_src.size() && (m_src[end] == 'e' || m_src[end] == 'E')) {
                std::size_t exp = end + 1;
                if (exp < m_src.size() && (m_src[exp] == '+' || m_src[exp] == '-')) ++exp;
                if (exp < m_src.size() && isDigit(m_src[exp])) {
                    end = digits(exp);
                    isFloat = true;
                }
            }
        }
        std::string text;
        for (std::size_t i = m_pos; i < end; ++i)
            if (m_src[i] != '_') text.push_back(m_src[i]);
        Token token;
        token.line = m_line;
        token.text = text;
        if (isFloat) {
            token.type = TokenType::Float;
            token.number = std::strtod(text.c_str(), nullptr);
        } else {
            token.type = TokenType::Integer;
            const auto parsed = std::from_chars(text.data(), text.data() + text.size(), token.integer);
            if (parsed.ec != std::errc()) throw TemplateError(m_line, "the integer " + text + " is too large");
        }
        m_tokens.push_back(std::move(token));
        advance(end);
    }

    void stringLiteral(char quote)
    {
        const int line = m_line;
        std::size_t pos = m_pos + 1;
        std::string value;
        while (true) {
            if (pos >= m_src.size()) throw TemplateError(line, "a string literal is never closed");
            const char c = m_src[pos];
            if (c == quote) break;
            if (c != '\\') {
                value.push_back(c);
                ++pos;
                continue;
            }
            pos = escape(pos + 1, value, line);
        }
        push(TokenType::String, std::move(value), line);
        advance(pos + 1);
    }

    // Python's unicode-escape, as Jinja decodes string literals; `pos` is just
    // past the backslash. Returns where the literal continues.
    std::size_t escape(std::size_t pos, std::string& value, int line) const
    {
        if (pos >= m_src.size()) throw TemplateError(line, "a string literal is never closed");
        const char c = m_src[pos];
        switch (c) {
        case '\n': return pos + 1; // a line continuation
        case '\\': value.push_back('\\'); return pos + 1;
        case '\'': value.push_back('\''); return pos + 1;
        case '"': value.push_back('"'); return pos + 1;
        case 'a': value.push_back('\a'); return pos + 1;
        case 'b': value.push_back('\b'); return pos + 1;
        case 'f': value.push_back('\f'); return pos + 1;
        case 'n': value.push_back('\n'); return pos + 1;
        case 'r': value.push_back('\r'); return pos + 1;
        case 't': value.push_back('\t'); return pos + 1;
        case 'v': value.push_back('\v'); return pos + 1;
        default: break;
        }
        if (c >= '0' && c <= '7') {
            char32_t cp = 0;
            std::size_t end = pos;
            while (end < m_src.size() && end < pos + 3 && m_src[end] >= '0' && m_src[end] <= '7')
                cp = cp * 8 + static_cast<char32_t>(m_src[end++] - '0');
            appendUtf8(value, cp);
            return end;
        }
        const int width = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
        if (width == 0) {
            if (c == 'N') throw TemplateError(line, "the \\N{...} escape in a string literal is not supported");
            value.push_back('\\'); // an unknown escape stays as it is written
            return pos;
        }
        char32_t cp = 0;
        for (int i = 1; i <= width; ++i) {
            const std::size_t at = pos + static_cast<std::size_t>(i);
            const int digit = at < m_src.size() ? hexValue(m_src[at]) : -1;
            if (digit < 0) throw TemplateError(line, std::string("a truncated \\") + c + " escape in a string literal");
            cp = cp * 16 + static_cast<char32_t>(digit);
        }
        if (cp > 0x10FFFF) throw TemplateError(line, "a \\U escape beyond U+10FFFF in a string literal");
        appendUtf8(value, cp);
        return pos + 1 + static_cast<std::size_t>(width);
    }

    void emitData(std::size_t begin, std::size_t end)
    {
        if (end > begin) push(TokenType::Data, m_src.substr(begin, end - begin), m_line);
    }

    void push(TokenType type, std::string text, int line)
    {
        Token token;
        token.type = type;
        token.text = std::move(text);
        token.line = line;
        m_tokens.push_back(std::move(token));
    }

    // Moves to `pos`, counting lines; what was consumed last tells whether the
    // next text starts a line (for lstrip_blocks).
    void advance(std::size_t pos)
    {
        for (std::size_t i = m_pos; i < pos; ++i) m_line += m_src[i] == '\n';
        if (pos > m_pos) m_lineStarting = m_src[pos - 1] == '\n';
        m_pos = pos;
    }

    std::string m_src;
    std::size_t m_pos = 0;
    int m_line = 1;
    bool m_lineStarting = true;
    std::vector<Token> m_tokens;
};

} // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

} // namespace loralab::jinja
