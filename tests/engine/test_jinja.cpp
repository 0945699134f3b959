// The chat-template interpreter on its own: small templates against what
// Jinja2 renders in transformers' environment (tests/data/chat/
// jinja_cases.json), constructs LoRA Lab refuses, named with their line, and
// the bounds on output, loops, recursion and nesting.
#include "chat_fixture.h"

#include "engine/util/error.h"

#include <thread>

namespace {

using namespace loralab;
using Json = nlohmann::ordered_json; // the cases' dicts keep their key order

ChatTemplate withCaseVariables(const std::string& source, const Json& variables)
{
    ChatTemplate chat = ChatTemplate::fromString(source);
    for (const auto& [key, value] : variables.items())
        if (key != "messages") chat.setVariable(key, value);
    return chat;
}

Conversation caseMessages(const Json& variables)
{
    return conversationFromJson(nlohmann::json{{"messages", nlohmann::json::parse(variables.at("messages").dump())}});
}

std::string renderOne(const std::string& source)
{
    return ChatTemplate::fromString(source).render({{"user", "hi"}}, false);
}

} // namespace

class JinjaParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void jinja_small_templates_render_like_jinja2();
};
REGISTER_TESTS(JinjaParityTests);

class JinjaTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void jinja_unsupported_constructs_are_named_with_their_line();
    void jinja_syntax_errors_are_named_with_their_line();
    void jinja_runtime_errors_are_named_with_their_line();
    void jinja_output_and_work_are_bounded();
    void jinja_renders_on_several_threads_at_once();
};
REGISTER_TESTS(JinjaTests);

void JinjaParityTests::jinja_small_templates_render_like_jinja2()
{
    const Json reference = Json::parse(readTextFile(loralab::test::chatData("jinja_cases.json")));
    const Json& variables = reference.at("variables");
    const Conversation messages = caseMessages(variables);
    std::size_t rendered = 0;
    for (const Json& c : reference.at("cases")) {
        const std::string source = c.at("template");
        if (c.contains("error")) {
            // What Python raises, LoRA Lab raises too, with the same words
            // for the errors Jinja's users see most.
            const std::string python = c.at("error");
            const std::string words = python.substr(python.find(": ") + 2);
            const bool sameWords = python.rfind("UndefinedError", 0) == 0 || python.rfind("TemplateError", 0) == 0 ||
                                   python.rfind("TypeError", 0) == 0;
            if (sameWords) VERIFY_THROWS_WITH(withCaseVariables(source, variables).render(messages, false), "chat_template line 1: ", words);
            else VERIFY_THROWS_WITH(withCaseVariables(source, variables).render(messages, false), "chat_template line 1: ");
            continue;
        }
        const RenderedChat out = withCaseVariables(source, variables).renderWithSpans(messages, false);
        QVERIFY2(!(out.text != c.at("text").get<std::string>()), ("template " + source + "\n  rendered: " + out.text + "\n  jinja2:   " + c.at("text").get<std::string>()).c_str());
        Json spans = Json::array();
        for (const auto& [begin, end] : out.generationSpans) spans.push_back({begin, end});
        QCOMPARE(spans.dump(), c.at("spans").dump());
        ++rendered;
    }
    QVERIFY(rendered >= 50);
}

void JinjaTests::jinja_unsupported_constructs_are_named_with_their_line()
{
    VERIFY_THROWS_WITH(ChatTemplate::fromString("a\nb\n{{ x | xyz }}"), "chat_template line 3: the filter 'xyz' is not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% if x is prime %}{% endif %}"), "line 1: the test 'prime' is not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("\n{% include 'other.jinja' %}"), "line 2: the tag 'include' is not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ lipsum(3) }}"), "line 1: the function 'lipsum' is not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ messages.pop() }}"), "line 1: the method 'pop' is not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% for x in y recursive %}{% endfor %}"), "recursive for loops are not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ f(*args) }}"), "*args and **kwargs in calls are not supported");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% set x | upper %}a{% endset %}"), "filters on a {% set %} block are not supported");
    // A filter in a branch no conversation reaches is still refused.
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% if false %}\n\n{{ tools | pprint }}{% endif %}"), "line 3: the filter 'pprint'");
    // The file the template came from starts the message.
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ x | nope }}", "/models/m/tokenizer_config.json"),
                      "/models/m/tokenizer_config.json: chat_template line 1: the filter 'nope' is not supported");
    // strftime_now is the local time, as transformers gives it to templates.
    const std::string year = renderOne("{{ strftime_now('%Y') }}");
    QVERIFY(year.size() == 4 && year >= "2024" && year <= "9999");
    QCOMPARE(renderOne("{{ strftime_now is defined }} {{ raise_exception is defined }}"), "True True");
    // A macro defined in the template may be called; an unknown name may not.
    QCOMPARE(renderOne("{% macro m() %}ok{% endmacro %}{{ m() }}"), "ok");
}

void JinjaTests::jinja_syntax_errors_are_named_with_their_line()
{
    VERIFY_THROWS_WITH(ChatTemplate::fromString("ok\n{{ messages[0] "), "line 2: a '{{' tag is never closed");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% if x %}\nno end"), "the template ends before {% endif %} closes the block");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("a\n{% endfor %}"), "line 2: unexpected 'endfor'");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% break %}"), "'break' outside a for loop");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{# open comment"), "a comment ({# ... #}) is never closed");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ 'abc }}"), "a string literal is never closed");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ (1, 2] }}"), "unexpected ']', expected ')'");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ a $ b }}"), "unexpected character '$'");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ }}"), "expected an expression");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% set true = 1 %}"), "cannot assign to 'true'");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ 99999999999999999999 }}"), "is too large");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{% raw %}never closed"), "{% raw %} block is never closed");
}

void JinjaTests::jinja_runtime_errors_are_named_with_their_line()
{
    VERIFY_THROWS_WITH(renderOne("\n\n{{ raise_exception('Roles must alternate') }}"),
                      "chat_template line 3: the template raised an error: Roles must alternate");
    VERIFY_THROWS_WITH(renderOne("{{ messages[0].content.missing.deeper }}"), "'str object' has no attribute 'missing'");
    VERIFY_THROWS_WITH(renderOne("{{ {'a': undefined_thing} | tojson }}"), "Object of type Undefined is not JSON serializable");
    VERIFY_THROWS_WITH(renderOne("{% set x = 5 %}{% set x.y = 1 %}"), "which is not a namespace()");
    VERIFY_THROWS_WITH(renderOne("{{ 2 ** 64 }}"), "integer overflow");
    VERIFY_THROWS_WITH(renderOne("{{ 'abc'.split('') }}"), "empty separator");
    VERIFY_THROWS_WITH(renderOne("{% for a, b in [1] %}{% endfor %}"), "is not iterable");
}

void JinjaTests::jinja_output_and_work_are_bounded()
{
    jinja::RenderLimits small;
    small.maxOutputBytes = 1000;
    small.maxSteps = 5000;
    small.maxCallDepth = 8;
    const auto bounded = [&](const std::string& source) {
        ChatTemplate chat = ChatTemplate::fromString(source);
        chat.setLimits(small);
        return chat.render({{"user", "hi"}}, false);
    };
    VERIFY_THROWS_WITH(bounded("{% for i in range(200) %}xxxxxxxxxx{% endfor %}"), "longer than 1000 bytes");
    VERIFY_THROWS_WITH(bounded("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}"), "more than 5000 loop iterations");
    VERIFY_THROWS_WITH(bounded("{{ range(1000000000000) | length }}"), "more than 5000 loop iterations");
    VERIFY_THROWS_WITH(bounded("{{ 'ab' * 1000000000000 }}"), "more than 1000 bytes");
    VERIFY_THROWS_WITH(bounded("{{ ('ab' * 400) ~ ('ab' * 400) }}"), "more than 1000 bytes");
    VERIFY_THROWS_WITH(bounded("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "nested more than 8 deep");
    QCOMPARE(bounded("{% for i in range(10) %}{{ i }}{% endfor %}"), "0123456789");
    // The defaults hold a real conversation easily and stop a runaway one.
    VERIFY_THROWS_WITH(renderOne("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"), "loop iterations");
    // Nesting deeper than the parser allows is refused, not a stack overflow.
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), "nested too deeply");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"), "nested too deeply");
    std::string ifs;
    for (int i = 0; i < 500; ++i) ifs += "{% if true %}";
    VERIFY_THROWS_WITH(ChatTemplate::fromString(ifs), "nested too deeply");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ " + std::string(5000, '-') + "1 }}"), "nested too deeply");
    VERIFY_THROWS_WITH(ChatTemplate::fromString("{{ 1" + std::string(3000, '|') + " }}"), "expected a filter name");
    // Chains are built in loops, not recursion; their trees are bounded too.
    std::string sum = "{{ 1";
    for (int i = 0; i < 5000; ++i) sum += " + 1";
    VERIFY_THROWS_WITH(ChatTemplate::fromString(sum + " }}"), "an expression is nested too deeply");
    std::string attributes = "{{ x";
    for (int i = 0; i < 5000; ++i) attributes += ".a";
    VERIFY_THROWS_WITH(ChatTemplate::fromString(attributes + " }}"), "nested too deeply");
    std::string filters = "{{ x";
    for (int i = 0; i < 5000; ++i) filters += " | trim";
    VERIFY_THROWS_WITH(ChatTemplate::fromString(filters + " }}"), "nested too deeply");
    std::string fine = "{{ 1";
    for (int i = 0; i < 300; ++i) fine += " + 1";
    QCOMPARE(renderOne(fine + " }}"), "301");
    // Values: nesting is bounded, and a namespace cannot hold itself.
    VERIFY_THROWS_WITH(renderOne("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}"),
                      "nested more than 100 deep");
    VERIFY_THROWS_WITH(renderOne("{% set ns = namespace(x=1) %}{% set ns.x = [ns] %}{{ ns }}"), "cannot hold another namespace");
    QCOMPARE(renderOne("{% set ns = namespace(x=1) %}{% set l = [ns, ns] %}{{ l | length }}"), "2");
}

void JinjaTests::jinja_renders_on_several_threads_at_once()
{
    const ChatTemplate chat = ChatTemplate::fromString(
        "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.content | length %}{% endfor %}{{ ns.n }}");
    std::vector<std::string> results(8);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) results[t] = chat.render({{"user", std::string(t + 1, 'x')}, {"assistant", "yy"}}, false);
        });
    for (auto& thread : threads) thread.join();
    for (std::size_t t = 0; t < results.size(); ++t) QCOMPARE(results[t], std::to_string(t + 3));
}

#include "test_jinja.moc"
