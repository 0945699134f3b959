// Chat templates: see chat_template.h.
#include "engine/data/chat/chat_template.h"

#include "engine/data/chat/jinja_parser.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/json_file.h"

#include <nlohmann/json.hpp>

namespace loralab {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

template <typename JsonT>
jinja::Value fromJson(const JsonT& value, int depth = 0)
{
    if (depth > 64) throw Error("a template variable is nested too deeply");
    using Type = typename JsonT::value_t;
    switch (value.type()) {
    case Type::null: return jinja::Value(nullptr);
    case Type::boolean: return jinja::Value(value.template get<bool>());
    case Type::number_integer: return jinja::Value(value.template get<std::int64_t>());
    case Type::number_unsigned:
        if (value.template get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            return jinja::Value(value.template get<double>());
        return jinja::Value(static_cast<std::int64_t>(value.template get<std::uint64_t>()));
    case Type::number_float: return jinja::Value(value.template get<double>());
    case Type::string: return jinja::Value(value.template get<std::string>());
    case Type::array: {
        jinja::ValueList items;
        for (const auto& item : value) items.push_back(fromJson(item, depth + 1));
        return jinja::Value::list(std::move(items));
    }
    case Type::object: {
        jinja::Dict dict;
        for (const auto& [key, item] : value.items()) dict.set(jinja::Value(key), fromJson(item, depth + 1));
        return jinja::Value::dict(std::move(dict));
    }
    default: throw Error("a template variable is not plain JSON");
    }
}

// A special token as tokenizer_config.json writes it: "text", or an
// AddedToken object {"content": "text", ...}; "" when absent or null.
std::string tokenText(const Json& value)
{
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string()) return value["content"].get<std::string>();
    return "";
}

} // namespace

ChatTemplate ChatTemplate::fromString(const std::string& source, const std::string& sourceName)
{
    ChatTemplate result;
    result.m_kind = Kind::Jinja;
    result.m_source = source;
    result.m_sourceName = sourceName;
    try {
        result.m_program = std::make_shared<const jinja::Template>(jinja::parseTemplate(source));
    } catch (const jinja::TemplateError& e) {
        throw Error(result.where(e.line()) + e.what());
    }
    return result;
}

ChatTemplate ChatTemplate::humanAssistant() { return ChatTemplate(); }

ChatTemplate ChatTemplate::fromTokenizerConfig(const fs::path& path)
{
    const Json config = parseJsonObject(readTextFile(path), path.string());
    const auto found = config.find("chat_template");
    if (found == config.end() || found->is_null()) throw fileError(path.string(), "has no \"chat_template\"");
    std::string source;
    if (found->is_string()) {
        source = found->get<std::string>();
    } else if (found->is_array()) {
        for (const Json& entry : *found)
            if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
                entry["template"].is_string())
                source = entry["template"].get<std::string>();
        if (source.empty()) throw fileError(path.string(), "has several chat templates and none named \"default\"");
    } else {
        throw fileError(path.string(), "\"chat_template\" is neither a string nor a list of named templates");
    }
    ChatTemplate result = fromString(source, path.string());
    result.setSpecialTokens(config);
    return result;
}

ChatTemplate ChatTemplate::forModel(const fs::path& modelDir)
{
    const fs::path config = modelDir / "tokenizer_config.json";
    const fs::path jinjaFile = modelDir / "chat_template.jinja";
    Json settings = Json::object();
    if (fs::exists(config)) settings = parseJsonObject(readTextFile(config), config.string());
    // special_tokens_map.json fills in what tokenizer_config.json leaves out.
    if (const fs::path map = modelDir / "special_tokens_map.json"; fs::exists(map)) {
        const Json extra = parseJsonObject(readTextFile(map), map.string());
        for (const char* name : kSpecialTokens)
            if (tokenText(settings.value(name, Json())).empty() && extra.contains(name)) settings[name] = extra[name];
    }
    ChatTemplate result;
    if (fs::exists(jinjaFile)) { // transformers prefers the separate file
        result = fromString(readTextFile(jinjaFile), jinjaFile.string());
    } else if (settings.contains("chat_template") && !settings["chat_template"].is_null()) {
        result = fromTokenizerConfig(config);
    } else {
        return humanAssistant();
    }
    result.setSpecialTokens(settings);
    return result;
}

bool ChatTemplate::hasGenerationMarkers() const { return m_program && m_program->hasGeneration; }

void ChatTemplate::setVariable(const std::string& name, const nlohmann::ordered_json& value) { setValue(name, fromJson(value)); }

void ChatTemplate::setValue(const std::string& name, jinja::Value converted)
{
    for (auto& entry : m_variables) {
        if (entry.first == name) {
            entry.second = std::move(converted);
            return;
        }
    }
    m_variables.emplace_back(name, std::move(converted));
}

void ChatTemplate::setSpecialTokens(const Json& tokenizerConfig)
{
    for (const char* name : kSpecialTokens) {
        const auto it = tokenizerConfig.find(name);
        if (it == tokenizerConfig.end()) continue;
        const std::string text = tokenText(*it);
        if (!text.empty()) setVariable(name, text);
    }
}

std::string ChatTemplate::where(int line) const
{
    return (m_sourceName.empty() ? "" : m_sourceName + ": ") + "chat_template line " + std::to_string(line) + ": ";
}

RenderedChat ChatTemplate::renderWithSpans(const Conversation& conversation, bool addGenerationPrompt) const
{
    if (m_kind == Kind::HumanAssistant) return renderHumanAssistant(conversation, addGenerationPrompt);
    jinja::ValueList messages;
    for (const ChatMessage& message : conversation) {
        jinja::Dict fields;
        fields.set(jinja::Value("role"), jinja::Value(message.role));
        fields.set(jinja::Value("content"), jinja::Value(message.content));
        messages.push_back(jinja::Value::dict(std::move(fields)));
    }
    // What transformers passes: the special tokens first, so that a caller's
    // variable of the same name wins, then the conversation.
    jinja::Dict variables;
    for (const auto& [name, value] : m_variables) variables.set(jinja::Value(name), value);
    variables.set(jinja::Value("messages"), jinja::Value::list(std::move(messages)));
    variables.set(jinja::Value("add_generation_prompt"), jinja::Value(addGenerationPrompt));
    if (!variables.find("tools")) variables.set(jinja::Value("tools"), jinja::Value(nullptr));
    if (!variables.find("documents")) variables.set(jinja::Value("documents"), jinja::Value(nullptr));
    try {
        jinja::Interpreter interpreter(*m_program, m_limits);
        jinja::RenderOutput out = interpreter.render(variables);
        return {std::move(out.text), std::move(out.generationSpans)};
    } catch (const jinja::TemplateError& e) {
        throw Error(where(e.line()) + e.what());
    }
}

RenderedChat renderHumanAssistant(const Conversation& conversation, bool addGenerationPrompt)
{
    RenderedChat out;
    for (const ChatMessage& message : conversation) {
        if (message.role == "user") {
            out.text += "\n\nHuman: " + message.content;
        } else if (message.role == "assistant") {
            out.text += "\n\nAssistant: ";
            const std::size_t begin = out.text.size();
            out.text += message.content;
            out.generationSpans.emplace_back(begin, out.text.size());
        } else if (message.role == "system") {
            out.text += message.content;
        } else {
            throw Error("the Human/Assistant layout has no place for a \"" + message.role +
                        "\" message (it writes system, user and assistant messages)");
        }
    }
    if (addGenerationPrompt) out.text += "\n\nAssistant:";
    return out;
}

} // namespace loralab
