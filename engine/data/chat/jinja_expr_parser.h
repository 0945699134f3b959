// The expression half of the chat-template parser, and the token stream both
// halves read. The functions follow Jinja2's parser one for one
// (parse_tuple, parse_condexpr, parse_or, ... parse_primary), so precedence
// and associativity are Jinja's: "messages|length - 1" is
// (messages|length) - 1, "-2 ** 2" is 4, "not a is b" is not (a is b).
#pragma once

#include "engine/data/chat/jinja_ast.h"
#include "engine/data/chat/jinja_lexer.h"

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace loralab::jinja {

// Nested brackets, operators and blocks beyond this are refused: parsing and
// evaluation recurse, and a hostile template must not exhaust the stack.
constexpr int kMaxNesting = 100;
// The depth of one expression's tree, chains of operators, attributes and
// filters included.
constexpr int kMaxExpressionDepth = 400;

// The name a {% filter %} block's text goes by while its filters run; no
// template can write it.
constexpr const char* kFilterBlockInput = " filter block";

class TokenStream {
public:
    explicit TokenStream(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

    const Token& current() const { return m_tokens[m_pos]; }
    const Token& peek() const { return m_tokens[m_pos + 1 < m_tokens.size() ? m_pos + 1 : m_pos]; }
    void next()
    {
        if (m_pos + 1 < m_tokens.size()) ++m_pos;
    }
    bool isOp(const char* op) const { return current().type == TokenType::Operator && current().text == op; }
    bool isName(const char* name) const { return current().type == TokenType::Name && current().text == name; }
    bool skipOp(const char* op);
    bool skipName(const char* name);
    void expectOp(const char* op);
    std::string expectName(const char* what);

    [[noreturn]] void fail(const std::string& what) const { throw TemplateError(current().line, what); }
    static std::string describe(const Token& token);

    // Held while a parsing function recurses: too deep is a TemplateError.
    class Depth {
    public:
        explicit Depth(TokenStream& stream);
        ~Depth() { --m_stream.m_depth; }
        Depth(const Depth&) = delete;
        Depth& operator=(const Depth&) = delete;

    private:
        TokenStream& m_stream;
    };

private:
    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    int m_depth = 0;
};

class ExpressionParser {
public:
    explicit ExpressionParser(TokenStream& tokens) : m_in(tokens) {}

    // parse_tuple: one expression, or a tuple when commas separate several;
    // stops before "}}", "%}", ")" or a name in `extraEnds`.
    ExprPtr parseTuple(bool withCondition, bool explicitParens, std::initializer_list<const char*> extraEnds);
    ExprPtr parseExpression(bool withCondition) { return withCondition ? parseConditional() : parseOr(); }
    // The filters of {% filter a(x) | b %}, applied to the variable
    // kFilterBlockInput (the block's text).
    ExprPtr parseFilterChain();

    // Functions called by their name, with the line of the first call; the
    // statement parser checks them once it knows the template's macros.
    const std::vector<std::pair<std::string, int>>& calledNames() const { return m_calledNames; }

private:
    ExprPtr node(ExprKind kind, int line) const;
    // Sets a finished node's depth; too deep is a TemplateError.
    ExprPtr finish(ExprPtr e) const;
    ExprPtr parseConditional();
    ExprPtr parseOr();
    ExprPtr parseAnd();
    ExprPtr parseNot();
    ExprPtr parseCompare();
    ExprPtr parseBinary(int level);
    ExprPtr parseUnary(bool withFilter);
    ExprPtr parsePrimary();
    ExprPtr parseList(int line, const char* close, ExprKind kind);
    ExprPtr parseDict(int line);
    ExprPtr parsePostfix(ExprPtr value);
    ExprPtr parseFilterExpr(ExprPtr value, bool inlineFirst = false);
    ExprPtr parseSubscript(ExprPtr value);
    ExprPtr parseSubscribed();
    ExprPtr parseCall(ExprPtr callee);
    void parseCallArgs(Expr& call);
    std::string dottedName(const char* what);

    TokenStream& m_in;
    std::vector<std::pair<std::string, int>> m_calledNames;
};

} // namespace loralab::jinja
