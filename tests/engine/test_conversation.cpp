// Conversations as datasets write them (OpenAI messages, ShareGPT, Alpaca,
// preference pairs), and the errors for records of the wrong shape; the
// errors of rendering for training: a tokenizer without offsets, a template
// the probes cannot read.
#include "chat_fixture.h"

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace {

using namespace loralab;
using Json = nlohmann::json;

Json parse(const char* text) { return Json::parse(text); }

} // namespace

class ConversationTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void conversation_readers_take_every_common_shape();
    void conversation_records_of_the_wrong_shape_name_the_field();
    void chat_rendering_for_training_refuses_what_it_cannot_do();
};
REGISTER_TESTS(ConversationTests);

void ConversationTests::conversation_readers_take_every_common_shape()
{
    const Conversation openai = conversationFromJson(parse(
        R"({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})"));
    QVERIFY(openai.size() == 3);
    QCOMPARE(openai[0].role, "system");
    QCOMPARE(openai[2].content, "A");

    const Conversation sharegpt = conversationFromJson(parse(
        R"({"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]})"));
    QVERIFY(sharegpt.size() == 3);
    QCOMPARE(sharegpt[1].role, "user");
    QCOMPARE(sharegpt[2].role, "assistant");
    QCOMPARE(sharegpt[2].content, "A");

    const Conversation alpaca = conversationFromJson(parse(R"({"instruction": "Sum these", "input": "2 and 3", "output": "5"})"));
    QVERIFY(alpaca.size() == 2);
    QCOMPARE(alpaca[0].content, "Sum these\n\n2 and 3");
    QCOMPARE(alpaca[1].role, "assistant");
    const Conversation noInput = conversationFromJson(parse(R"({"instruction": "Hi", "input": "", "output": "Hello"})"));
    QCOMPARE(noInput[0].content, "Hi");
    const Conversation withSystem = conversationFromJson(parse(R"({"instruction": "Hi", "output": "Hello", "system": "Be kind"})"));
    QCOMPARE(withSystem[0].role, "system");

    const PreferenceConversation pair = preferenceFromJson(parse(
        R"({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
            "rejected": [{"role": "assistant", "content": "bad"}]})"));
    QCOMPARE(pair.prompt.size(), std::size_t{1});
    QCOMPARE(pair.chosen[0].content, "good");
    QCOMPARE(withCompletion(pair.prompt, pair.rejected).size(), std::size_t{2});
    // Without "prompt": the messages chosen and rejected share are the prompt.
    const PreferenceConversation whole = preferenceFromJson(parse(
        R"({"chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
            "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}]})"));
    QCOMPARE(whole.prompt.size(), std::size_t{1});
    QCOMPARE(whole.rejected.size(), std::size_t{1});
    QCOMPARE(whole.rejected[0].content, "bad");
}

void ConversationTests::conversation_records_of_the_wrong_shape_name_the_field()
{
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"([1, 2])")), "not a JSON object");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"text": "x"})")), "none of \"messages\", \"conversations\"");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": "hello"})")), "messages is not a list of messages");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": []})")), "has no messages");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"role": "user", "content": "a"}, 5]})")), "messages[1] is not an object");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"content": "a"}]})")), "messages[0] has no \"role\"");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"role": "user", "content": 7}]})")), "messages[0].content is not a string");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"role": "user", "content": null}]})")), "messages[0].content is not a string");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]})")),
                      "messages[0].content is a list of parts");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"messages": [{"role": "", "content": "a"}]})")), "messages[0] has an empty role");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"conversations": [{"from": "human"}]})")), "conversations[0] has no \"value\"");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"conversations": [{"from": "gpt", "value": ["x"]}]})")), "conversations[0].value is not a string");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"instruction": "a", "output": 3})")), "output is not a string");
    VERIFY_THROWS_WITH(conversationFromJson(parse(R"({"instruction": "a", "input": 1, "output": "b"})")), "input is not a string");
    VERIFY_THROWS_WITH(preferenceFromJson(parse(R"({"prompt": "Q", "chosen": "A", "rejected": "B"})")), "\"chosen\" is a string");
    VERIFY_THROWS_WITH(preferenceFromJson(parse(R"({"chosen": [{"role": "user", "content": "Q"}]})")), "has no \"rejected\"");
    VERIFY_THROWS_WITH(preferenceFromJson(parse(R"({"prompt": [], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})")),
                      "no prompt messages");
    VERIFY_THROWS_WITH(preferenceFromJson(parse(R"({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "user", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})")),
                      "\"chosen\" has no assistant message");
    VERIFY_THROWS_WITH(preferenceFromJson(parse(R"({"prompt": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})")),
                      "prompt ends with an assistant message");
}

void ConversationTests::chat_rendering_for_training_refuses_what_it_cannot_do()
{
    const auto tokenizer = loralab::test::chatTokenizer();
    const ChatTemplate chatml = ChatTemplate::forModel(loralab::test::chatData("model"));
    // A sentencepiece model cannot give offsets yet: said plainly.
    const auto spm = loadTokenizer(loralab::test::fixtureModel("tiny-llama-spm"));
    VERIFY_THROWS_WITH(renderForTraining(chatml, *spm, {{"user", "Q"}, {"assistant", "A"}}), "tokenizer.model", "sentencepiece",
                      "token offsets");
    // ...while the Human/Assistant layout needs none.
    QVERIFY(!renderForTraining(ChatTemplate::humanAssistant(), *spm, {{"user", "Q"}, {"assistant", "A"}}).ids.empty());
    VERIFY_THROWS_WITH(renderForTraining(chatml, *tokenizer, {}), "empty conversation");
    VERIFY_THROWS_WITH(tokenizer->encodeWithOffsets(std::string("a\xff" "b")), "not valid UTF-8", "byte 0xff at offset 1");

    // Templates the probes cannot read without markers.
    const Conversation conversation = {{"user", "Q"}, {"assistant", "An answer"}};
    const ChatTemplate twice = ChatTemplate::fromString(
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}|{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
        "twice.jinja");
    VERIFY_THROWS_WITH(renderForTraining(twice, *tokenizer, conversation), "twice.jinja: cannot find the assistant's text of message 1",
                      "more than once", "{% generation %}");
    const ChatTemplate cut = ChatTemplate::fromString(
        "{% for m in messages %}<{{ m.role }}>{{ m.content[:3] }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
    VERIFY_THROWS_WITH(renderForTraining(cut, *tokenizer, conversation), "does not write the message's content as it is");
    const ChatTemplate noPrompt = ChatTemplate::fromString(
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<bot>{% endif %}");
    VERIFY_THROWS_WITH(renderForTraining(noPrompt, *tokenizer, conversation), "with the generation prompt, is not how the whole conversation begins");
    const ChatTemplate counted = ChatTemplate::fromString(
        "{{ messages | length }}:{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}");
    VERIFY_THROWS_WITH(renderForTraining(counted, *tokenizer, conversation), "is not how the whole conversation begins");
    // A generation prompt that opens a thinking block the conversation does
    // not write: the turn starts where the assistant's content does.
    const ChatTemplate thinking = ChatTemplate::fromString(
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}");
    const RenderedDialogue thought = renderForTraining(thinking, *tokenizer, conversation);
    std::vector<std::int64_t> answer;
    for (std::size_t i = 0; i < thought.ids.size(); ++i)
        if (thought.assistantMask[i]) answer.push_back(thought.ids[i]);
    QCOMPARE(tokenizer->decode(answer), "An answer<|im_end|>\n");
    // The same templates with markers need no probing.
    const ChatTemplate marked = ChatTemplate::fromString(
        "{% for m in messages %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}"
        "{% else %}{{ m.content }}{% endif %}|{{ m.content }}{% endfor %}");
    const RenderedDialogue out = renderForTraining(marked, *tokenizer, conversation);
    std::vector<std::int64_t> kept;
    for (std::size_t i = 0; i < out.ids.size(); ++i)
        if (out.assistantMask[i]) kept.push_back(out.ids[i]);
    QCOMPARE(tokenizer->decode(kept), "An answer");
}

#include "test_conversation.moc"
