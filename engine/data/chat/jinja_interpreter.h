// Runs a parsed chat template over a set of variables (messages,
// add_generation_prompt, bos_token, ...) and returns the text, with the byte
// ranges each {% generation %} block wrote. Scoping is Jinja's: a for loop's
// body gets fresh variables each iteration (which is why templates carry
// state across iterations in a namespace()), if blocks share their
// surroundings, macros see the template's top level. Everything is bounded:
// output size, loop iterations and items built, macro call depth.
#pragma once

#include "engine/data/chat/jinja_ast.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace loralab::jinja {

struct RenderLimits {
    std::size_t maxOutputBytes = std::size_t{16} << 20; // rendered text, and any one string value
    std::size_t maxSteps = std::size_t{1} << 22;        // loop iterations plus items built (range, *), per render
    int maxCallDepth = 32;                              // macro calls inside macro calls
};

struct RenderOutput {
    std::string text;
    // [begin, end) byte offsets into `text` of each {% generation %} block's
    // output, in the order the blocks ran.
    std::vector<std::pair<std::size_t, std::size_t>> generationSpans;
};

class Interpreter {
public:
    Interpreter(const Template& program, const RenderLimits& limits) : m_program(program), m_limits(limits) {}

    // Throws TemplateError (with the line) for any failure, including
    // raise_exception() and the limits.
    RenderOutput render(const Dict& variables);

    // For the built-in functions: counts work against maxSteps, and refuses
    // a string or list that would be larger than the limits allow.
    void countSteps(std::size_t steps);
    void checkSize(std::size_t bytes) const;
    const RenderLimits& limits() const { return m_limits; }

private:
    enum class Flow { Normal, Break, Continue };
    using Frame = std::vector<std::pair<std::string, Value>>;

    Flow execute(const Body& body);
    Flow execute(const Stmt& stmt);
    void executeFor(const Stmt& stmt);
    void assign(const Stmt& stmt, Value value);
    void defineMacro(const Stmt& stmt);
    Value callMacro(const Stmt& macro, const CallArgs& args);
    std::string capture(const Body& body);

    Value eval(const Expr& expr);
    Value evalInner(const Expr& expr);
    Value evalCall(const Expr& expr);
    CallArgs evalArgs(const Expr& expr, std::size_t firstArg);
    bool compareStep(BinaryOp op, const Value& left, const Value& right);

    Value lookup(const std::string& name) const;
    void setVariable(const std::string& name, Value value);
    void append(std::string_view text);

    const Template& m_program;
    RenderLimits m_limits;
    std::vector<Frame> m_frames; // [0]: the variables given, [1]: the template's top level, then loops and macros
    std::string m_main;
    std::string* m_out = &m_main; // the main text, or a capture ({% set %} block, macro call)
    std::vector<std::pair<std::size_t, std::size_t>> m_spans;
    std::size_t m_steps = 0;
    int m_callDepth = 0;
};

} // namespace loralab::jinja
