// Cuts a Jinja2 template into tokens the way Jinja's own lexer does with the
// settings transformers renders chat templates with (trim_blocks and
// lstrip_blocks on, keep_trailing_newline off): text between tags, with the
// whitespace that "-" markers, trim_blocks and lstrip_blocks remove already
// gone; the tokens inside {{ }} and {% %}; comments and {% raw %} handled
// here. Line numbers count the template's own lines from 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loralab::jinja {

enum class TokenType {
    Data,          // template text, printed as it is
    VariableBegin, // {{
    VariableEnd,   // }}
    BlockBegin,    // {%
    BlockEnd,      // %}
    Name,
    String,  // text: the literal's value, escapes decoded
    Integer, // integer: its value
    Float,   // number: its value
    Operator,
    End, // after the last token
};

struct Token {
    TokenType type = TokenType::End;
    std::string text;
    std::int64_t integer = 0;
    double number = 0.0;
    int line = 1;
};

// Throws TemplateError(line, what) for an unclosed tag, comment or string, an
// unbalanced bracket, or a character no Jinja token starts with.
std::vector<Token> tokenize(std::string_view source);

} // namespace loralab::jinja
