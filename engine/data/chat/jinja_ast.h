// The parsed form of a chat template: expressions and statements as the
// Jinja2 parser builds them (the same precedence, chained comparisons, tests
// that bind like filters), each with the template line it came from.
#pragma once

#include "engine/data/chat/jinja_value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace loralab::jinja {

enum class ExprKind {
    Literal,     // value
    Name,        // name
    List,        // children: the items
    Tuple,       // children: the items
    Dict,        // children: key, value, key, value, ...
    GetAttr,     // children[0].name
    GetItem,     // children[0][children[1]]
    Slice,       // children[0][children[1]:children[2]:children[3]], each bound may be null
    Call,        // children[0](children[1..], keywords)
    Filter,      // children[0] | name(children[1..], keywords)
    Test,        // children[0] is name(children[1..])
    Not,         // not children[0]
    Negate,      // -children[0]
    Plus,        // +children[0]
    Binary,      // children[0] op children[1]
    Compare,     // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
    And,         // children[0] and children[1]
    Or,          // children[0] or children[1]
    Conditional, // children[0] if children[1] else children[2] (may be null: undefined)
};

enum class BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat, Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind = ExprKind::Literal;
    int line = 1;
    int depth = 1; // of the tree below, this node included
    Value value;
    std::string name;
    BinaryOp op = BinaryOp::Add;
    std::vector<BinaryOp> ops; // Compare
    std::vector<ExprPtr> children;
    std::vector<std::pair<std::string, ExprPtr>> keywords; // Call, Filter
};

enum class StmtKind {
    Text,       // text
    Output,     // {{ expr }}
    If,         // branches (an else branch has no condition)
    For,        // for targets in expr [if filter]: body [else elseBody]
    Set,        // set targets = expr, or set targets[0].attribute = expr
    SetBlock,   // set targets[0]: body captured as a string
    Macro,      // macro name(params): body
    Generation, // {% generation %}: body, its output marked as the assistant's
    FilterBlock, // {% filter ... %}: body captured, then expr (filters of kFilterBlockInput)
    Break,
    Continue,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct IfBranch {
    ExprPtr condition; // null for else
    Body body;
};

struct Stmt {
    StmtKind kind = StmtKind::Text;
    int line = 1;
    std::string text;
    ExprPtr expr;
    std::vector<IfBranch> branches;
    std::vector<std::string> targets;
    std::string attribute; // Set on a namespace: targets[0].attribute
    ExprPtr filter;        // For: the "if" that skips items
    Body body;
    Body elseBody;
    std::string name;                                     // Macro
    std::vector<std::pair<std::string, ExprPtr>> params; // Macro: name and default (may be null)
};

struct Template {
    Body body;
    bool hasGeneration = false; // a {% generation %} block occurs somewhere
};

} // namespace loralab::jinja
