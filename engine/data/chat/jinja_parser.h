// Parses a chat template into statements and expressions (jinja_ast.h).
// Everything LoRA Lab cannot run is refused here, before any conversation is
// rendered: an unknown tag, filter, test, function or method is a
// TemplateError naming it and its line, even in a branch the data may never
// reach, so a template either works on every conversation or not at all.
#pragma once

#include "engine/data/chat/jinja_ast.h"

#include <string_view>

namespace loralab::jinja {

Template parseTemplate(std::string_view source);

} // namespace loralab::jinja
