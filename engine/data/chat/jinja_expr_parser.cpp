// Chat-template expressions: see jinja_expr_parser.h.
#include "engine/data/chat/jinja_expr_parser.h"

#include "engine/data/chat/jinja_builtins.h"

#include <algorithm>

namespace loralab::jinja {

// ---------------------------------------------------------------------------
// TokenStream

bool TokenStream::skipOp(const char* op)
{
    if (!isOp(op)) return false;
    next();
    return true;
}

bool TokenStream::skipName(const char* name)
{
    if (!isName(name)) return false;
    next();
    return true;
}

void TokenStream::expectOp(const char* op)
{
    if (!skipOp(op)) fail(std::string("expected '") + op + "', found " + describe(current()));
}

std::string TokenStream::expectName(const char* what)
{
    if (current().type != TokenType::Name) fail(std::string("expected ") + what + ", found " + describe(current()));
    std::string name = current().text;
    next();
    return name;
}

std::string TokenStream::describe(const Token& token)
{
    switch (token.type) {
    case TokenType::End: return "the end of the template";
    case TokenType::VariableBegin: return "'{{'";
    case TokenType::VariableEnd: return "'}}'";
    case TokenType::BlockBegin: return "'{%'";
    case TokenType::BlockEnd: return "'%}'";
    case TokenType::Data: return "text";
    case TokenType::String: return "a string";
    default: return "'" + token.text + "'";
    }
}

TokenStream::Depth::Depth(TokenStream& stream) : m_stream(stream)
{
    if (++m_stream.m_depth > kMaxNesting) {
        --m_stream.m_depth;
        m_stream.fail("the template is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    }
}

// ---------------------------------------------------------------------------
// Expressions

ExprPtr ExpressionParser::node(ExprKind kind, int line) const
{
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
}

ExprPtr ExpressionParser::finish(ExprPtr e) const
{
    int deepest = 0;
    for (const ExprPtr& child : e->children)
        if (child) deepest = std::max(deepest, child->depth);
    for (const auto& keyword : e->keywords) deepest = std::max(deepest, keyword.second->depth);
    e->depth = deepest + 1;
    // Chains (a + b + c ..., x.a.b ..., x | f | g ...) are built in loops,
    // not by recursion; the tree they make is bounded here, since
    // evaluating and freeing it recurse.
    if (e->depth > kMaxExpressionDepth)
        throw TemplateError(e->line, "an expression is nested too deeply (more than " + std::to_string(kMaxExpressionDepth) + " levels)");
    return e;
}

ExprPtr ExpressionParser::parseTuple(bool withCondition, bool explicitParens, std::initializer_list<const char*> extraEnds)
{
    const int line = m_in.current().line;
    std::vector<ExprPtr> items;
    bool isTuple = false;
    while (true) {
        if (!items.empty()) m_in.expectOp(",");
        const TokenType type = m_in.current().type;
        if (type == TokenType::VariableEnd || type == TokenType::BlockEnd || m_in.isOp(")")) break;
        bool extraEnd = false;
        for (const char* end : extraEnds) extraEnd = extraEnd || m_in.isName(end);
        if (extraEnd) break;
        items.push_back(parseExpression(withCondition));
        if (!m_in.isOp(",")) break;
        isTuple = true;
    }
    if (!isTuple) {
        if (!items.empty()) return std::move(items.front());
        if (!explicitParens) m_in.fail("expected an expression, found " + TokenStream::describe(m_in.current()));
    }
    auto tuple = node(ExprKind::Tuple, line);
    tuple->children = std::move(items);
    return finish(std::move(tuple));
}

ExprPtr ExpressionParser::parseConditional()
{
    TokenStream::Depth depth(m_in);
    ExprPtr value = parseOr();
    while (m_in.isName("if")) {
        auto conditional = node(ExprKind::Conditional, m_in.current().line);
        m_in.next();
        conditional->children.push_back(std::move(value));
        conditional->children.push_back(parseOr());
        conditional->children.push_back(m_in.skipName("else") ? parseConditional() : nullptr);
        value = finish(std::move(conditional));
    }
    return value;
}

ExprPtr ExpressionParser::parseOr()
{
    ExprPtr left = parseAnd();
    while (m_in.isName("or")) {
        auto combined = node(ExprKind::Or, m_in.current().line);
        m_in.next();
        combined->children.push_back(std::move(left));
        combined->children.push_back(parseAnd());
        left = finish(std::move(combined));
    }
    return left;
}

ExprPtr ExpressionParser::parseAnd()
{
    ExprPtr left = parseNot();
    while (m_in.isName("and")) {
        auto combined = node(ExprKind::And, m_in.current().line);
        m_in.next();
        combined->children.push_back(std::move(left));
        combined->children.push_back(parseNot());
        left = finish(std::move(combined));
    }
    return left;
}

ExprPtr ExpressionParser::parseNot()
{
    TokenStream::Depth depth(m_in);
    if (m_in.isName("not")) {
        auto negation = node(ExprKind::Not, m_in.current().line);
        m_in.next();
        negation->children.push_back(parseNot());
        return finish(std::move(negation));
    }
    return parseCompare();
}

ExprPtr ExpressionParser::parseCompare()
{
    static const std::pair<const char*, BinaryOp> kOps[] = {{"==", BinaryOp::Eq}, {"!=", BinaryOp::Ne}, {"<", BinaryOp::Lt},
                                                            {"<=", BinaryOp::Le}, {">", BinaryOp::Gt},  {">=", BinaryOp::Ge}};
    ExprPtr first = parseBinary(0);
    auto chain = node(ExprKind::Compare, first->line);
    while (true) {
        bool found = false;
        for (const auto& [text, op] : kOps) {
            if (m_in.skipOp(text)) {
                chain->ops.push_back(op);
                found = true;
                break;
            }
        }
        if (!found && m_in.skipName("in")) {
            chain->ops.push_back(BinaryOp::In);
            found = true;
        }
        if (!found && m_in.isName("not") && m_in.peek().type == TokenType::Name && m_in.peek().text == "in") {
            m_in.next();
            m_in.next();
            chain->ops.push_back(BinaryOp::NotIn);
            found = true;
        }
        if (!found) break;
        if (chain->children.empty()) chain->children.push_back(std::move(first));
        chain->children.push_back(parseBinary(0));
    }
    return chain->ops.empty() ? std::move(first) : finish(std::move(chain));
}

// parse_math1 (+ -), parse_concat (~), parse_math2 (* / // %) and parse_pow
// (**), each left-associative over the next level.
ExprPtr ExpressionParser::parseBinary(int level)
{
    static const std::vector<std::pair<const char*, BinaryOp>> kLevels[] = {
        {{"+", BinaryOp::Add}, {"-", BinaryOp::Sub}},
        {{"~", BinaryOp::Concat}},
        {{"*", BinaryOp::Mul}, {"/", BinaryOp::Div}, {"//", BinaryOp::FloorDiv}, {"%", BinaryOp::Mod}},
        {{"**", BinaryOp::Pow}},
    };
    const auto operand = [&] { return level == 3 ? parseUnary(true) : parseBinary(level + 1); };
    ExprPtr left = operand();
    while (true) {
        bool found = false;
        for (const auto& [text, op] : kLevels[level]) {
            if (!m_in.isOp(text)) continue;
            auto combined = node(ExprKind::Binary, m_in.current().line);
            m_in.next();
            combined->op = op;
            combined->children.push_back(std::move(left));
            combined->children.push_back(operand());
            left = finish(std::move(combined));
            found = true;
            break;
        }
        if (!found) return left;
    }
}

ExprPtr ExpressionParser::parseUnary(bool withFilter)
{
    TokenStream::Depth depth(m_in);
    ExprPtr value;
    if (m_in.isOp("-") || m_in.isOp("+")) {
        value = node(m_in.isOp("-") ? ExprKind::Negate : ExprKind::Plus, m_in.current().line);
        m_in.next();
        value->children.push_back(parseUnary(false));
        value = finish(std::move(value));
    } else {
        value = parsePrimary();
    }
    value = parsePostfix(std::move(value));
    return withFilter ? parseFilterExpr(std::move(value)) : std::move(value);
}

ExprPtr ExpressionParser::parsePrimary()
{
    TokenStream::Depth depth(m_in);
    const Token& token = m_in.current();
    const int line = token.line;
    if (token.type == TokenType::Name) {
        auto value = node(ExprKind::Literal, line);
        const std::string& name = token.text;
        if (name == "true" || name == "True") value->value = Value(true);
        else if (name == "false" || name == "False") value->value = Value(false);
        else if (name == "none" || name == "None") value->value = Value(nullptr);
        else {
            value->kind = ExprKind::Name;
            value->name = name;
        }
        m_in.next();
        return value;
    }
    if (token.type == TokenType::String) {
        std::string text;
        while (m_in.current().type == TokenType::String) { // "a" "b" is "ab", as in Python
            text += m_in.current().text;
            m_in.next();
        }
        auto value = node(ExprKind::Literal, line);
        value->value = Value(std::move(text));
        return value;
    }
    if (token.type == TokenType::Integer || token.type == TokenType::Float) {
        auto value = node(ExprKind::Literal, line);
        value->value = token.type == TokenType::Integer ? Value(token.integer) : Value(token.number);
        m_in.next();
        return value;
    }
    if (m_in.skipOp("(")) {
        ExprPtr inner = parseTuple(true, true, {});
        m_in.expectOp(")");
        return inner;
    }
    if (m_in.skipOp("[")) return parseList(line, "]", ExprKind::List);
    if (m_in.skipOp("{")) return parseDict(line);
    m_in.fail("unexpected " + TokenStream::describe(token));
}

ExprPtr ExpressionParser::parseList(int line, const char* close, ExprKind kind)
{
    auto list = node(kind, line);
    while (!m_in.isOp(close)) {
        if (!list->children.empty()) m_in.expectOp(",");
        if (m_in.isOp(close)) break;
        list->children.push_back(parseExpression(true));
    }
    m_in.expectOp(close);
    return finish(std::move(list));
}

ExprPtr ExpressionParser::parseDict(int line)
{
    auto dict = node(ExprKind::Dict, line);
    while (!m_in.isOp("}")) {
        if (!dict->children.empty()) m_in.expectOp(",");
        if (m_in.isOp("}")) break;
        dict->children.push_back(parseExpression(true));
        m_in.expectOp(":");
        dict->children.push_back(parseExpression(true));
    }
    m_in.expectOp("}");
    return finish(std::move(dict));
}

ExprPtr ExpressionParser::parsePostfix(ExprPtr value)
{
    while (true) {
        if (m_in.isOp(".") || m_in.isOp("[")) value = parseSubscript(std::move(value));
        else if (m_in.isOp("(")) value = parseCall(std::move(value));
        else return value;
    }
}

ExprPtr ExpressionParser::parseFilterChain()
{
    auto input = node(ExprKind::Name, m_in.current().line);
    input->name = kFilterBlockInput;
    return parseFilterExpr(std::move(input), true);
}

ExprPtr ExpressionParser::parseFilterExpr(ExprPtr value, bool inlineFirst)
{
    while (true) {
        if (m_in.isOp("|") || inlineFirst) {
            auto filter = node(ExprKind::Filter, m_in.current().line);
            if (!inlineFirst) m_in.next();
            inlineFirst = false;
            filter->name = dottedName("a filter name");
            if (!isSupportedFilter(filter->name)) m_in.fail("the filter '" + filter->name + "' is not supported");
            filter->children.push_back(std::move(value));
            if (m_in.isOp("(")) parseCallArgs(*filter);
            value = finish(std::move(filter));
        } else if (m_in.isName("is")) {
            auto test = node(ExprKind::Test, m_in.current().line);
            m_in.next();
            const bool negated = m_in.skipName("not");
            test->name = dottedName("a test name");
            if (!isSupportedTest(test->name)) m_in.fail("the test '" + test->name + "' is not supported");
            test->children.push_back(std::move(value));
            const Token& arg = m_in.current();
            const bool argStarts = arg.type == TokenType::Name || arg.type == TokenType::String ||
                                   arg.type == TokenType::Integer || arg.type == TokenType::Float ||
                                   m_in.isOp("[") || m_in.isOp("{");
            if (m_in.isOp("(")) {
                parseCallArgs(*test);
            } else if (argStarts && !m_in.isName("else") && !m_in.isName("or") && !m_in.isName("and")) {
                if (m_in.isName("is")) m_in.fail("tests cannot be chained with 'is'");
                test->children.push_back(parsePostfix(parsePrimary()));
            }
            value = finish(std::move(test));
            if (negated) {
                auto negation = node(ExprKind::Not, value->line);
                negation->children.push_back(std::move(value));
                value = finish(std::move(negation));
            }
        } else if (m_in.isOp("(")) {
            value = parseCall(std::move(value));
        } else {
            return value;
        }
    }
}

ExprPtr ExpressionParser::parseSubscript(ExprPtr value)
{
    TokenStream::Depth depth(m_in);
    const int line = m_in.current().line;
    if (m_in.skipOp(".")) {
        const Token& attribute = m_in.current();
        if (attribute.type == TokenType::Name) {
            auto access = node(ExprKind::GetAttr, line);
            access->name = attribute.text;
            access->children.push_back(std::move(value));
            m_in.next();
            return finish(std::move(access));
        }
        if (attribute.type != TokenType::Integer) m_in.fail("expected a name or a number after '.'");
        auto access = node(ExprKind::GetItem, line);
        access->children.push_back(std::move(value));
        auto index = node(ExprKind::Literal, line);
        index->value = Value(attribute.integer);
        access->children.push_back(std::move(index));
        m_in.next();
        return finish(std::move(access));
    }
    m_in.expectOp("[");
    std::vector<ExprPtr> keys;
    while (!m_in.isOp("]")) {
        if (!keys.empty()) m_in.expectOp(",");
        keys.push_back(parseSubscribed());
    }
    m_in.expectOp("]");
    if (keys.empty()) m_in.fail("expected an index or a slice inside '[]'");
    auto access = node(ExprKind::GetItem, line);
    access->children.push_back(std::move(value));
    if (keys.size() == 1) {
        access->children.push_back(std::move(keys.front()));
    } else {
        auto tuple = node(ExprKind::Tuple, line);
        tuple->children = std::move(keys);
        access->children.push_back(finish(std::move(tuple)));
    }
    return finish(std::move(access));
}

// One index inside [], or a slice start:stop:step with any part left out.
ExprPtr ExpressionParser::parseSubscribed()
{
    const int line = m_in.current().line;
    ExprPtr start;
    if (!m_in.isOp(":")) {
        start = parseExpression(true);
        if (!m_in.isOp(":")) return start;
    }
    m_in.next(); // the first ':'
    auto slice = node(ExprKind::Slice, line);
    slice->children.push_back(std::move(start));
    const auto bound = [&]() -> ExprPtr {
        if (m_in.isOp("]") || m_in.isOp(",") || m_in.isOp(":")) return nullptr;
        return parseExpression(true);
    };
    slice->children.push_back(bound());
    slice->children.push_back(m_in.skipOp(":") ? bound() : nullptr);
    return finish(std::move(slice));
}

ExprPtr ExpressionParser::parseCall(ExprPtr callee)
{
    TokenStream::Depth depth(m_in);
    auto call = node(ExprKind::Call, m_in.current().line);
    if (callee->kind == ExprKind::Name) {
        m_calledNames.emplace_back(callee->name, call->line);
    } else if (callee->kind == ExprKind::GetAttr && !isSupportedMethod(callee->name)) {
        m_in.fail("the method '" + callee->name + "' is not supported");
    }
    call->children.push_back(std::move(callee));
    parseCallArgs(*call);
    return finish(std::move(call));
}

void ExpressionParser::parseCallArgs(Expr& call)
{
    m_in.expectOp("(");
    bool first = true;
    while (!m_in.isOp(")")) {
        if (!first) m_in.expectOp(",");
        first = false;
        if (m_in.isOp(")")) break;
        if (m_in.isOp("*") || m_in.isOp("**")) m_in.fail("*args and **kwargs in calls are not supported");
        if (m_in.current().type == TokenType::Name && m_in.peek().type == TokenType::Operator && m_in.peek().text == "=") {
            std::string name = m_in.current().text;
            m_in.next();
            m_in.next();
            call.keywords.emplace_back(std::move(name), parseExpression(true));
        } else {
            if (!call.keywords.empty()) m_in.fail("a positional argument after a keyword argument");
            call.children.push_back(parseExpression(true));
        }
    }
    m_in.expectOp(")");
}

std::string ExpressionParser::dottedName(const char* what)
{
    std::string name = m_in.expectName(what);
    while (m_in.isOp(".") && m_in.peek().type == TokenType::Name) {
        m_in.next();
        name += "." + m_in.expectName(what);
    }
    return name;
}

} // namespace loralab::jinja
