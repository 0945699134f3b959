// The filters, tests, methods and global functions chat templates call, with
// Python's and Jinja's meaning; and attribute and item access, which Jinja
// resolves its own way (a dict's keys are attributes unless a dict method
// has that name; what is missing is undefined rather than an error).
#pragma once

#include "engine/data/chat/jinja_ast.h"

#include <string>
#include <string_view>

namespace loralab::jinja {

// What the parser accepts.
bool isSupportedFilter(std::string_view name);
bool isSupportedTest(std::string_view name);
bool isSupportedMethod(std::string_view name);
bool isGlobalFunction(std::string_view name);

// obj.name and obj[key], as Jinja's environment.getattr / getitem.
Value getAttribute(const Value& object, const std::string& name);
Value getItem(const Value& object, const Value& key);
// obj[start:stop:step]; a bound may be undefined or None (absent).
Value getSlice(const Value& object, const Value& start, const Value& stop, const Value& step);

Value applyFilter(const std::string& name, const Value& subject, const CallArgs& args, Interpreter& interpreter);
bool applyTest(const std::string& name, const Value& subject, const CallArgs& args);
// A method of a string, dict or list; EvalError when `object` has none of that name.
Value callMethod(const Value& object, const std::string& name, const CallArgs& args, Interpreter& interpreter);
// raise_exception, strftime_now, namespace, range, dict.
Value globalFunction(const std::string& name);

// Python's binary operators (+ - * / // % **, ~ and in) on template values.
Value binaryOperation(BinaryOp op, const Value& left, const Value& right, Interpreter& interpreter);
bool contains(const Value& container, const Value& item);

} // namespace loralab::jinja
