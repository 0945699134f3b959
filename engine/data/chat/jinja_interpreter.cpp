// The chat-template interpreter: see jinja_interpreter.h.
#include "engine/data/chat/jinja_interpreter.h"

#include "engine/data/chat/jinja_builtins.h"
#include "engine/data/chat/jinja_expr_parser.h"

namespace loralab::jinja {

RenderOutput Interpreter::render(const Dict& variables)
{
    m_frames.clear();
    m_frames.emplace_back();
    for (const auto& [key, value] : variables.items()) m_frames.back().emplace_back(key.asString(), value);
    m_frames.emplace_back();
    m_main.clear();
    m_out = &m_main;
    m_spans.clear();
    m_steps = 0;
    m_callDepth = 0;
    execute(m_program.body);
    RenderOutput out;
    out.text = std::move(m_main);
    out.generationSpans = std::move(m_spans);
    return out;
}

void Interpreter::countSteps(std::size_t steps)
{
    m_steps += steps;
    if (m_steps > m_limits.maxSteps)
        throw EvalError("the template ran more than " + std::to_string(m_limits.maxSteps) +
                        " loop iterations and built items (the limit for one conversation)");
}

void Interpreter::checkSize(std::size_t bytes) const
{
    if (bytes > m_limits.maxOutputBytes)
        throw EvalError("the template built a value of more than " + std::to_string(m_limits.maxOutputBytes) +
                        " bytes (the limit for one conversation)");
}

void Interpreter::append(std::string_view text)
{
    if (m_out->size() + text.size() > m_limits.maxOutputBytes)
        throw EvalError("the rendered text is longer than " + std::to_string(m_limits.maxOutputBytes) +
                        " bytes (the limit for one conversation)");
    m_out->append(text);
}

// ---------------------------------------------------------------------------
// Variables

Value Interpreter::lookup(const std::string& name) const
{
    for (auto frame = m_frames.rbegin(); frame != m_frames.rend(); ++frame)
        for (auto it = frame->rbegin(); it != frame->rend(); ++it)
            if (it->first == name) return it->second;
    if (isGlobalFunction(name)) return globalFunction(name);
    return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::setVariable(const std::string& name, Value value)
{
    Frame& frame = m_frames.back();
    for (auto& entry : frame) {
        if (entry.first == name) {
            entry.second = std::move(value);
            return;
        }
    }
    frame.emplace_back(name, std::move(value));
}

// ---------------------------------------------------------------------------
// Statements

Interpreter::Flow Interpreter::execute(const Body& body)
{
    for (const StmtPtr& stmt : body) {
        const Flow flow = execute(*stmt);
        if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::execute(const Stmt& stmt)
{
    try {
        switch (stmt.kind) {
        case StmtKind::Text: append(stmt.text); break;
        case StmtKind::Output: append(toStr(eval(*stmt.expr))); break;
        case StmtKind::If:
            for (const IfBranch& branch : stmt.branches)
                if (!branch.condition || eval(*branch.condition).truthy()) return execute(branch.body);
            break;
        case StmtKind::For: executeFor(stmt); break;
        case StmtKind::Set: assign(stmt, eval(*stmt.expr)); break;
        case StmtKind::SetBlock: setVariable(stmt.targets.front(), Value(capture(stmt.body))); break;
        case StmtKind::Macro: defineMacro(stmt); break;
        case StmtKind::Generation: {
            // transformers' AssistantTracker: the block's output is measured
            // against the text rendered so far at the top level.
            const std::size_t begin = m_main.size();
            const std::string text = capture(stmt.body);
            m_spans.emplace_back(begin, begin + text.size());
            append(text);
            break;
        }
        case StmtKind::FilterBlock: {
            std::string text = capture(stmt.body);
            m_frames.emplace_back();
            m_frames.back().emplace_back(kFilterBlockInput, Value(std::move(text)));
            Value filtered;
            try {
                filtered = eval(*stmt.expr);
            } catch (...) {
                m_frames.pop_back();
                throw;
            }
            m_frames.pop_back();
            append(toStr(filtered));
            break;
        }
        case StmtKind::Break: return Flow::Break;
        case StmtKind::Continue: return Flow::Continue;
        }
    } catch (const EvalError& e) {
        throw TemplateError(stmt.line, e.what());
    }
    return Flow::Normal;
}

std::string Interpreter::capture(const Body& body)
{
    std::string buffer;
    std::string* saved = m_out;
    m_out = &buffer;
    try {
        execute(body);
    } catch (...) {
        m_out = saved;
        throw;
    }
    m_out = saved;
    return buffer;
}

void Interpreter::assign(const Stmt& stmt, Value value)
{
    if (!stmt.attribute.empty()) {
        const Value target = lookup(stmt.targets.front());
        if (target.kind() != Value::Kind::Namespace)
            throw EvalError("cannot set the attribute '" + stmt.attribute + "' of '" + stmt.targets.front() +
                            "', which is not a namespace()");
        if (value.holdsNamespace()) throw EvalError("a namespace cannot hold another namespace");
        target.namespaceAttributes().set(Value(stmt.attribute), std::move(value));
        return;
    }
    if (stmt.targets.size() == 1) {
        setVariable(stmt.targets.front(), std::move(value));
        return;
    }
    const ValueList items = iterate(value);
    if (items.size() != stmt.targets.size())
        throw EvalError("cannot unpack " + std::to_string(items.size()) + " values into " +
                        std::to_string(stmt.targets.size()) + " names");
    for (std::size_t i = 0; i < items.size(); ++i) setVariable(stmt.targets[i], items[i]);
}

void Interpreter::executeFor(const Stmt& stmt)
{
    const auto bind = [&](const Value& item) {
        if (stmt.targets.size() == 1) {
            setVariable(stmt.targets.front(), item);
            return;
        }
        const ValueList parts = iterate(item);
        if (parts.size() != stmt.targets.size())
            throw EvalError("cannot unpack " + std::to_string(parts.size()) + " values into " +
                            std::to_string(stmt.targets.size()) + " loop variables");
        for (std::size_t i = 0; i < parts.size(); ++i) setVariable(stmt.targets[i], parts[i]);
    };
    ValueList items = iterate(eval(*stmt.expr));
    if (stmt.filter) {
        ValueList kept;
        for (const Value& item : items) {
            countSteps(1);
            m_frames.emplace_back();
            try {
                bind(item);
                if (eval(*stmt.filter).truthy()) kept.push_back(item);
            } catch (...) {
                m_frames.pop_back();
                throw;
            }
            m_frames.pop_back();
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        execute(stmt.elseBody);
        return;
    }
    const auto length = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < length; ++i) {
        countSteps(1);
        Dict loop;
        loop.set("index", Value(i + 1));
        loop.set("index0", Value(i));
        loop.set("revindex", Value(length - i));
        loop.set("revindex0", Value(length - i - 1));
        loop.set("first", Value(i == 0));
        loop.set("last", Value(i == length - 1));
        loop.set("length", Value(length));
        loop.set("depth", Value(1));
        loop.set("depth0", Value(0));
        loop.set("previtem", i > 0 ? items[static_cast<std::size_t>(i - 1)] : Value::undefined("there is no previous item"));
        loop.set("nextitem", i + 1 < length ? items[static_cast<std::size_t>(i + 1)] : Value::undefined("there is no next item"));
        loop.set("cycle", Value::function("loop.cycle", [i](const CallArgs& args, Interpreter&) {
                     if (args.positional.empty()) throw EvalError("loop.cycle() needs at least one value");
                     return args.positional[static_cast<std::size_t>(i) % args.positional.size()];
                 }));
        m_frames.emplace_back();
        Flow flow = Flow::Normal;
        try {
            bind(items[static_cast<std::size_t>(i)]);
            setVariable("loop", Value::dict(std::move(loop)));
            flow = execute(stmt.body);
        } catch (...) {
            m_frames.pop_back();
            throw;
        }
        m_frames.pop_back();
        if (flow == Flow::Break) break;
    }
}

void Interpreter::defineMacro(const Stmt& stmt)
{
    const Stmt* macro = &stmt;
    setVariable(stmt.name, Value::function(stmt.name, [macro](const CallArgs& args, Interpreter& self) {
                    return self.callMacro(*macro, args);
                }));
}

Value Interpreter::callMacro(const Stmt& macro, const CallArgs& args)
{
    if (m_callDepth >= m_limits.maxCallDepth)
        throw EvalError("macro calls are nested more than " + std::to_string(m_limits.maxCallDepth) + " deep");
    if (args.positional.size() > macro.params.size())
        throw EvalError("macro '" + macro.name + "' takes not more than " + std::to_string(macro.params.size()) +
                        " argument(s)");
    for (const auto& keyword : args.keywords) {
        bool known = false;
        for (const auto& param : macro.params) known = known || param.first == keyword.first;
        if (!known) throw EvalError("macro '" + macro.name + "' takes no keyword argument '" + keyword.first + "'");
    }
    // The macro sees the variables given and the template's top level, not
    // the loops it is called from.
    std::vector<Frame> saved(m_frames.begin() + 2, m_frames.end());
    m_frames.resize(2);
    m_frames.emplace_back();
    ++m_callDepth;
    std::string text;
    try {
        for (std::size_t i = 0; i < macro.params.size(); ++i) {
            const Value* given = args.get(i, macro.params[i].first);
            if (given) setVariable(macro.params[i].first, *given);
            else if (macro.params[i].second) setVariable(macro.params[i].first, eval(*macro.params[i].second));
            else setVariable(macro.params[i].first, Value::undefined("parameter '" + macro.params[i].first + "' was not provided"));
        }
        text = capture(macro.body);
    } catch (...) {
        --m_callDepth;
        m_frames.resize(2);
        m_frames.insert(m_frames.end(), saved.begin(), saved.end());
        throw;
    }
    --m_callDepth;
    m_frames.resize(2);
    m_frames.insert(m_frames.end(), saved.begin(), saved.end());
    return Value(std::move(text));
}

// ---------------------------------------------------------------------------
// Expressions

Value Interpreter::eval(const Expr& expr)
{
    try {
        return evalInner(expr);
    } catch (const EvalError& e) {
        throw TemplateError(expr.line, e.what());
    }
}

Value Interpreter::evalInner(const Expr& expr)
{
    const auto child = [&](std::size_t i) { return eval(*expr.children[i]); };
    switch (expr.kind) {
    case ExprKind::Literal: return expr.value;
    case ExprKind::Name: return lookup(expr.name);
    case ExprKind::List:
    case ExprKind::Tuple: {
        ValueList items;
        for (std::size_t i = 0; i < expr.children.size(); ++i) items.push_back(child(i));
        return Value::list(std::move(items), expr.kind == ExprKind::Tuple);
    }
    case ExprKind::Dict: {
        Dict dict;
        for (std::size_t i = 0; i + 1 < expr.children.size(); i += 2) dict.set(child(i), child(i + 1));
        return Value::dict(std::move(dict));
    }
    case ExprKind::GetAttr: return getAttribute(child(0), expr.name);
    case ExprKind::GetItem: {
        const Value object = child(0);
        const Expr& key = *expr.children[1];
        if (key.kind != ExprKind::Slice) return getItem(object, eval(key));
        const auto bound = [&](std::size_t i) { return key.children[i] ? eval(*key.children[i]) : Value(nullptr); };
        return getSlice(object, bound(0), bound(1), bound(2));
    }
    case ExprKind::Slice: throw EvalError("a slice outside []");
    case ExprKind::Call: return evalCall(expr);
    case ExprKind::Filter: return applyFilter(expr.name, child(0), evalArgs(expr, 1), *this);
    case ExprKind::Test: return Value(applyTest(expr.name, child(0), evalArgs(expr, 1)));
    case ExprKind::Not: return Value(!child(0).truthy());
    case ExprKind::Negate:
    case ExprKind::Plus: {
        const Value operand = child(0);
        if (operand.isUndefined()) throw EvalError(operand.undefinedWhat());
        if (!operand.isNumber())
            throw EvalError(std::string("bad operand type for unary ") + (expr.kind == ExprKind::Negate ? "-" : "+") +
                            ": '" + operand.typeName() + "'");
        if (expr.kind == ExprKind::Plus) return operand.kind() == Value::Kind::Float ? operand : Value(operand.asInt());
        if (operand.kind() == Value::Kind::Float) return Value(-operand.asFloat());
        if (operand.asInt() == INT64_MIN) throw EvalError("integer overflow");
        return Value(-operand.asInt());
    }
    case ExprKind::Binary: return binaryOperation(expr.op, child(0), child(1), *this);
    case ExprKind::Compare: {
        Value left = child(0);
        for (std::size_t i = 0; i < expr.ops.size(); ++i) {
            Value right = child(i + 1);
            if (!compareStep(expr.ops[i], left, right)) return Value(false);
            left = std::move(right);
        }
        return Value(true);
    }
    case ExprKind::And: {
        Value left = child(0);
        return left.truthy() ? child(1) : left;
    }
    case ExprKind::Or: {
        Value left = child(0);
        return left.truthy() ? left : child(1);
    }
    case ExprKind::Conditional:
        if (child(1).truthy()) return child(0);
        if (expr.children[2]) return child(2);
        return Value::undefined("the inline if expression evaluated to false and has no else branch");
    }
    return Value();
}

bool Interpreter::compareStep(BinaryOp op, const Value& left, const Value& right)
{
    switch (op) {
    case BinaryOp::Eq: return equals(left, right);
    case BinaryOp::Ne: return !equals(left, right);
    case BinaryOp::In: return contains(right, left);
    case BinaryOp::NotIn: return !contains(right, left);
    default: break;
    }
    if (left.isUndefined()) throw EvalError(left.undefinedWhat());
    if (right.isUndefined()) throw EvalError(right.undefinedWhat());
    const char* text = op == BinaryOp::Lt ? "<" : op == BinaryOp::Le ? "<=" : op == BinaryOp::Gt ? ">" : ">=";
    const int order = compare(left, right, text);
    switch (op) {
    case BinaryOp::Lt: return order < 0;
    case BinaryOp::Le: return order <= 0;
    case BinaryOp::Gt: return order > 0;
    default: return order >= 0;
    }
}

CallArgs Interpreter::evalArgs(const Expr& expr, std::size_t firstArg)
{
    CallArgs args;
    for (std::size_t i = firstArg; i < expr.children.size(); ++i) args.positional.push_back(eval(*expr.children[i]));
    for (const auto& [name, value] : expr.keywords) args.keywords.emplace_back(name, eval(*value));
    return args;
}

Value Interpreter::evalCall(const Expr& expr)
{
    // A method call is an attribute that is a bound method: getAttribute
    // makes one for a string's, dict's or list's methods.
    const Value function = eval(*expr.children[0]);
    if (function.isUndefined()) throw EvalError(function.undefinedWhat());
    if (function.kind() != Value::Kind::Function) throw EvalError("'" + function.typeName() + "' object is not callable");
    return function.asFunction().call(evalArgs(expr, 1), *this);
}

} // namespace loralab::jinja
