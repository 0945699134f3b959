// The statement half of the chat-template parser: see jinja_parser.h; the
// expressions are parsed by jinja_expr_parser.h. Tags follow Jinja2's
// parser: if/elif/else, for (with "if" filters and an else branch), set
// (names, tuples, namespace attributes, and {% set x %}...{% endset %}),
// macro, filter blocks, break/continue (Jinja's loopcontrols extension, which transformers
// loads) and transformers' {% generation %}.
#include "engine/data/chat/jinja_parser.h"

#include "engine/data/chat/jinja_builtins.h"
#include "engine/data/chat/jinja_expr_parser.h"

#include <set>

namespace loralab::jinja {
namespace {

class StatementParser {
public:
    explicit StatementParser(std::vector<Token> tokens) : m_in(std::move(tokens)), m_expressions(m_in) {}

    Template run()
    {
        Template result;
        result.body = subparse({});
        result.hasGeneration = m_hasGeneration;
        for (const auto& [name, line] : m_expressions.calledNames())
            if (!isGlobalFunction(name) && m_macros.count(name) == 0)
                throw TemplateError(line, "the function '" + name + "' is not supported");
        return result;
    }

private:
    void expectBlockEnd()
    {
        if (m_in.current().type != TokenType::BlockEnd)
            m_in.fail("expected '%}', found " + TokenStream::describe(m_in.current()));
        m_in.next();
    }

    // Statements until a {% name %} with a name in `ends` (the stream is left
    // on that name) or the end of the template.
    Body subparse(std::initializer_list<const char*> ends)
    {
        TokenStream::Depth depth(m_in);
        Body body;
        while (true) {
            const Token& token = m_in.current();
            if (token.type == TokenType::End) {
                for (const char* end : ends)
                    if (std::string_view(end).rfind("end", 0) == 0)
                        m_in.fail(std::string("the template ends before {% ") + end + " %} closes the block");
                return body;
            }
            if (token.type == TokenType::Data) {
                auto s = statement(StmtKind::Text, token.line);
                s->text = token.text;
                body.push_back(std::move(s));
                m_in.next();
            } else if (token.type == TokenType::VariableBegin) {
                auto s = statement(StmtKind::Output, token.line);
                m_in.next();
                s->expr = m_expressions.parseTuple(true, false, {});
                if (m_in.current().type != TokenType::VariableEnd)
                    m_in.fail("expected '}}', found " + TokenStream::describe(m_in.current()));
                m_in.next();
                body.push_back(std::move(s));
            } else if (token.type == TokenType::BlockBegin) {
                const Token& name = m_in.peek();
                for (const char* end : ends) {
                    if (name.type == TokenType::Name && name.text == end) {
                        m_in.next();
                        return body;
                    }
                }
                m_in.next();
                body.push_back(tag());
            } else {
                m_in.fail("unexpected " + TokenStream::describe(token));
            }
        }
    }

    static StmtPtr statement(StmtKind kind, int line)
    {
        auto s = std::make_unique<Stmt>();
        s->kind = kind;
        s->line = line;
        return s;
    }

    StmtPtr tag()
    {
        if (m_in.current().type != TokenType::Name)
            m_in.fail("expected a tag name, found " + TokenStream::describe(m_in.current()));
        const std::string name = m_in.current().text;
        auto s = statement(StmtKind::Text, m_in.current().line);
        m_in.next();
        if (name == "if") ifTag(*s);
        else if (name == "for") forTag(*s);
        else if (name == "set") setTag(*s);
        else if (name == "macro") macroTag(*s);
        else if (name == "filter") {
            s->kind = StmtKind::FilterBlock;
            s->expr = m_expressions.parseFilterChain();
            expectBlockEnd();
            s->body = subparse({"endfilter"});
            m_in.expectName("'endfilter'");
        } else if (name == "generation") {
            s->kind = StmtKind::Generation;
            m_hasGeneration = true;
            expectBlockEnd();
            s->body = subparse({"endgeneration"});
            m_in.expectName("'endgeneration'");
        } else if (name == "break" || name == "continue") {
            if (m_loops == 0) throw TemplateError(s->line, "'" + name + "' outside a for loop");
            s->kind = name == "break" ? StmtKind::Break : StmtKind::Continue;
        } else if (name.rfind("end", 0) == 0 || name == "elif" || name == "else") {
            throw TemplateError(s->line, "unexpected '" + name + "' (no open block it could close)");
        } else {
            throw TemplateError(s->line, "the tag '" + name + "' is not supported");
        }
        expectBlockEnd();
        return s;
    }

    void ifTag(Stmt& s)
    {
        s.kind = StmtKind::If;
        while (true) {
            IfBranch branch;
            branch.condition = m_expressions.parseTuple(false, false, {});
            expectBlockEnd();
            branch.body = subparse({"elif", "else", "endif"});
            s.branches.push_back(std::move(branch));
            if (m_in.skipName("elif")) continue;
            if (m_in.skipName("else")) {
                expectBlockEnd();
                IfBranch otherwise;
                otherwise.body = subparse({"endif"});
                s.branches.push_back(std::move(otherwise));
            }
            m_in.expectName("'endif'");
            return;
        }
    }

    void forTag(Stmt& s)
    {
        s.kind = StmtKind::For;
        s.targets = assignTargets(false, s.attribute);
        if (!m_in.skipName("in")) m_in.fail("expected 'in', found " + TokenStream::describe(m_in.current()));
        s.expr = m_expressions.parseTuple(false, false, {"if", "recursive"});
        if (m_in.isName("recursive")) m_in.fail("recursive for loops are not supported");
        if (m_in.skipName("if")) s.filter = m_expressions.parseExpression(true);
        expectBlockEnd();
        ++m_loops;
        s.body = subparse({"endfor", "else"});
        --m_loops;
        if (m_in.skipName("else")) {
            expectBlockEnd();
            s.elseBody = subparse({"endfor"});
        }
        m_in.expectName("'endfor'");
    }

    void setTag(Stmt& s)
    {
        s.targets = assignTargets(true, s.attribute);
        if (m_in.skipOp("=")) {
            s.kind = StmtKind::Set;
            s.expr = m_expressions.parseTuple(true, false, {});
            return;
        }
        if (s.targets.size() != 1 || !s.attribute.empty()) m_in.fail("a {% set %} block assigns one name");
        if (m_in.current().type != TokenType::BlockEnd) m_in.fail("filters on a {% set %} block are not supported");
        s.kind = StmtKind::SetBlock;
        expectBlockEnd();
        s.body = subparse({"endset"});
        m_in.expectName("'endset'");
    }

    void macroTag(Stmt& s)
    {
        s.kind = StmtKind::Macro;
        s.name = m_in.expectName("a macro name");
        m_macros.insert(s.name);
        m_in.expectOp("(");
        while (!m_in.isOp(")")) {
            if (!s.params.empty()) m_in.expectOp(",");
            if (m_in.isOp(")")) break;
            std::string param = m_in.expectName("a parameter name");
            ExprPtr fallback;
            if (m_in.skipOp("=")) fallback = m_expressions.parseExpression(true);
            s.params.emplace_back(std::move(param), std::move(fallback));
        }
        m_in.expectOp(")");
        expectBlockEnd();
        const int loops = m_loops;
        m_loops = 0; // break and continue do not reach out of a macro
        s.body = subparse({"endmacro"});
        m_loops = loops;
        m_in.expectName("'endmacro'");
    }

    // "name", "a, b", "(a, b)" or, where allowed, "ns.attribute".
    std::vector<std::string> assignTargets(bool allowNamespace, std::string& attribute)
    {
        std::vector<std::string> names;
        const bool parenthesized = m_in.skipOp("(");
        do {
            if (parenthesized && m_in.isOp(")")) break;
            names.push_back(m_in.expectName("a variable name"));
            if (allowNamespace && names.size() == 1 && !parenthesized && m_in.skipOp(".")) {
                attribute = m_in.expectName("an attribute name");
                return names;
            }
        } while (m_in.skipOp(","));
        if (parenthesized) m_in.expectOp(")");
        for (const auto& n : names)
            if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None" || n == "loop")
                m_in.fail("cannot assign to '" + n + "'");
        return names;
    }

    TokenStream m_in;
    ExpressionParser m_expressions;
    int m_loops = 0;
    bool m_hasGeneration = false;
    std::set<std::string> m_macros;
};

} // namespace

Template parseTemplate(std::string_view source) { return StatementParser(tokenize(source)).run(); }

} // namespace loralab::jinja
