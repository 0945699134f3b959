// A model's chat template: the Jinja2 text in tokenizer_config.json (or
// chat_template.jinja) that turns a conversation into the model's prompt
// format, rendered the way transformers' apply_chat_template renders it
// (trim_blocks, lstrip_blocks, messages / add_generation_prompt / tools=None /
// the special tokens as variables, raise_exception and strftime_now).
// Models without one get the Human/Assistant layout LoRA Lab's HH data uses,
// through the same type, so one code path serves both (see chat_render.h).
//
// A template is parsed once, when it is made; anything it uses that LoRA Lab
// cannot run is an Error then, naming the construct and its line
// ("tokenizer_config.json: chat_template line 3: the filter 'xyz' is not
// supported"). Rendering is const and may run on several threads at once.
#pragma once

#include "engine/data/chat/conversation.h"
#include "engine/data/chat/jinja_interpreter.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

struct RenderedChat {
    std::string text;
    // [begin, end) byte ranges of `text` written inside {% generation %}
    // blocks (empty for a template without them).
    std::vector<std::pair<std::size_t, std::size_t>> generationSpans;
};

class ChatTemplate {
public:
    enum class Kind {
        Jinja,          // the model's own template
        HumanAssistant, // "\n\nHuman: ...\n\nAssistant: ...", for models without one
    };

    // The template of a model folder: tokenizer_config.json's "chat_template"
    // (a string, or a list of {"name", "template"} where "default" is taken),
    // else a chat_template.jinja file; with neither, the Human/Assistant
    // layout. Special tokens (bos_token, eos_token, ...) come from
    // tokenizer_config.json.
    static ChatTemplate forModel(const std::filesystem::path& modelDir);
    // The same from one tokenizer_config.json, which must have a template.
    static ChatTemplate fromTokenizerConfig(const std::filesystem::path& path);
    // Template text; `sourceName` (a file) starts error messages.
    static ChatTemplate fromString(const std::string& source, const std::string& sourceName = "");
    static ChatTemplate humanAssistant();

    Kind kind() const { return m_kind; }
    bool isJinja() const { return m_kind == Kind::Jinja; }
    // The template marks the assistant's text with {% generation %}.
    bool hasGenerationMarkers() const;
    const std::string& source() const { return m_source; }
    const std::string& sourceName() const { return m_sourceName; }

    // A variable the template reads: the special tokens ("bos_token", ...)
    // and anything a template takes as an option ("date_string",
    // "enable_thinking"). Replaces an earlier value of that name.
    // (ordered_json keeps an object's keys in their order, as Python's dicts
    // do; a plain nlohmann::json converts to it.)
    void setVariable(const std::string& name, const nlohmann::ordered_json& value);
    // Special-token names transformers passes (bos_token, eos_token,
    // unk_token, sep_token, pad_token, cls_token, mask_token), with their
    // text as tokenizer_config.json gives it.
    void setSpecialTokens(const nlohmann::json& tokenizerConfig);
    void setLimits(const jinja::RenderLimits& limits) { m_limits = limits; }

    // The conversation as the model reads it; with addGenerationPrompt the
    // text ends with the assistant's header, ready for its answer. Throws
    // Error with the template line for a failure, raise_exception included.
    RenderedChat renderWithSpans(const Conversation& conversation, bool addGenerationPrompt) const;
    std::string render(const Conversation& conversation, bool addGenerationPrompt) const
    {
        return renderWithSpans(conversation, addGenerationPrompt).text;
    }

private:
    ChatTemplate() = default;
    std::string where(int line) const;
    void setValue(const std::string& name, jinja::Value value);

    Kind m_kind = Kind::HumanAssistant;
    std::string m_source;
    std::string m_sourceName;
    std::shared_ptr<const jinja::Template> m_program;
    std::vector<std::pair<std::string, jinja::Value>> m_variables;
    jinja::RenderLimits m_limits;
};

// The Human/Assistant layout of a conversation: "\n\nHuman: " before each
// user message, "\n\nAssistant: " before each assistant message (with a
// generation prompt, a last "\n\nAssistant:"); a system message is written
// as it is, before the first turn. Generation spans cover each assistant
// message's text.
RenderedChat renderHumanAssistant(const Conversation& conversation, bool addGenerationPrompt);

} // namespace loralab
