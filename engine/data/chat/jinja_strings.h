// Python's str methods for chat templates (strip, split, replace, title,
// ...) on UTF-8 text, counting in code points where Python counts
// characters, and printf-style "%s" formatting.
#pragma once

#include "engine/data/chat/jinja_value.h"

#include <string>
#include <string_view>

namespace loralab::jinja {

// str.strip / lstrip / rstrip: `chars` null or None strips whitespace.
std::string pythonStrip(std::string_view text, const Value* chars, bool left, bool right);
// str.split / rsplit: `separator` null or None splits at runs of whitespace;
// maxSplit < 0 splits everywhere.
ValueList pythonSplit(std::string_view text, const Value* separator, std::int64_t maxSplit, bool fromRight);
// str.replace; count < 0 replaces every occurrence.
std::string pythonReplace(std::string_view text, std::string_view old, std::string_view replacement, std::int64_t count);

std::string upperCase(std::string_view text);
std::string lowerCase(std::string_view text);
std::string capitalizeCase(std::string_view text); // str.capitalize
std::string titleCase(std::string_view text);      // str.title

// format % args with %s, %r, %d, %i, %f (optionally %.Nf) and %%.
std::string percentFormat(const std::string& format, const ValueList& args);

// A method of a string, by name (see isSupportedMethod).
Value stringMethod(const std::string& text, const std::string& name, const CallArgs& args, Interpreter& interpreter);

} // namespace loralab::jinja
