// Chat templates against transformers: the rendered text, the ids and the
// assistant masks of apply_chat_template for every template x dialogue x
// add_generation_prompt in tests/data/chat/reference.json; the masks found
// by rendering (templates without {% generation %}) against the marked
// twins; last-turn-only and preference masks; the model folder's template;
// the Human/Assistant layout; and token offsets against the tokenizers
// library.
#include "chat_fixture.h"

#include "engine/data/dataset.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace {

using namespace loralab;
using loralab::test::chatCase;
using loralab::test::chatData;
using loralab::test::chatDialogues;
using loralab::test::chatJson;
using loralab::test::chatTemplateNamed;
using loralab::test::chatTokenizer;
using loralab::test::maskText;
using Json = nlohmann::json;
using Ids = std::vector<std::int64_t>;

ChatRenderOptions withPrompt(bool addGenerationPrompt, AssistantTurns turns = AssistantTurns::All)
{
    ChatRenderOptions options;
    options.turns = turns;
    options.addGenerationPrompt = addGenerationPrompt;
    return options;
}

} // namespace

class ChatTemplateParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void chat_template_text_and_ids_match_transformers();
    void chat_template_marked_masks_match_transformers();
    void chat_probed_masks_match_the_marked_twin();
    void chat_last_turn_masks_match_a_template_marking_only_the_last();
    void chat_preference_pairs_mark_the_completion_only();
    void chat_token_offsets_match_the_tokenizers_library();
    void chat_template_real_qwen_tokenizer();
    void chat_masks_keep_transformers_quirks();
};
REGISTER_TESTS(ChatTemplateParityTests);

class ChatTemplateTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void chat_template_comes_from_the_model_folder();
    void chat_human_assistant_layout_tokenizes_like_hh_data();
};
REGISTER_TESTS(ChatTemplateTests);

void ChatTemplateParityTests::chat_template_text_and_ids_match_transformers()
{
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = chatTokenizer();
    std::size_t checked = 0;
    for (const Json& c : reference.at("cases")) {
        const std::string name = c.at("template");
        const std::string dialogue = c.at("dialogue");
        const bool prompt = c.at("add_generation_prompt");
        const ChatTemplate chat = chatTemplateNamed(reference, name);
        const Conversation& conversation = dialogues.at(dialogue);
        if (c.contains("error")) {
            // The template's raise_exception: a clear Error, with its message.
            VERIFY_THROWS_WITH(chat.render(conversation, prompt), "chat_template line", c.at("error").get<std::string>());
            continue;
        }
        const std::string text = chat.render(conversation, prompt);
        QVERIFY2(!(text != c.at("text").get<std::string>()), (name + " / " + dialogue + ": text differs:\n" + text).c_str());
        QVERIFY(tokenizer->encode(text) == c.at("ids").get<Ids>());
        ++checked;
    }
    QVERIFY(checked >= 140);
}

void ChatTemplateParityTests::chat_template_marked_masks_match_transformers()
{
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = chatTokenizer();
    std::size_t checked = 0;
    for (const Json& c : reference.at("cases")) {
        if (!c.contains("assistant_mask")) continue;
        const ChatTemplate chat = chatTemplateNamed(reference, c.at("template"));
        const RenderedDialogue out = renderForTraining(chat, *tokenizer, dialogues.at(c.at("dialogue")), withPrompt(c.at("add_generation_prompt")));
        QCOMPARE(out.text, c.at("text").get<std::string>());
        QVERIFY(out.ids == c.at("ids").get<Ids>());
        QCOMPARE(maskText(out.assistantMask), c.at("assistant_mask").get<std::string>());
        ++checked;
    }
    QVERIFY(checked >= 40);
}

void ChatTemplateParityTests::chat_probed_masks_match_the_marked_twin()
{
    // Templates without markers: the turns found by rendering must be the
    // ones the same template marks.
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = chatTokenizer();
    std::size_t checked = 0;
    for (const auto& [name, entry] : reference.at("templates").items()) {
        if (entry.at("marked_twin").is_null()) continue;
        const ChatTemplate chat = chatTemplateNamed(reference, name);
        QVERIFY(!chat.hasGenerationMarkers());
        for (const auto& [dialogue, conversation] : dialogues) {
            for (const bool prompt : {false, true}) {
                const Json& twin = chatCase(reference, entry.at("marked_twin"), dialogue, prompt);
                const RenderedDialogue out = renderForTraining(chat, *tokenizer, conversation, withPrompt(prompt));
                QVERIFY(out.ids == twin.at("ids").get<Ids>());
                const std::string mask = maskText(out.assistantMask);
                QVERIFY2(!(mask != twin.at("assistant_mask").get<std::string>()), (name + " / " + dialogue + ": mask " + mask + " vs " + twin.at("assistant_mask").get<std::string>()).c_str());
                ++checked;
            }
        }
    }
    QCOMPARE(checked, std::size_t{36});
}

void ChatTemplateParityTests::chat_last_turn_masks_match_a_template_marking_only_the_last()
{
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = chatTokenizer();
    for (const char* name : {"qwen2_marked", "qwen2"}) {
        const ChatTemplate chat = chatTemplateNamed(reference, name);
        for (const auto& [dialogue, conversation] : dialogues) {
            for (const bool prompt : {false, true}) {
                const Json& expected = chatCase(reference, "qwen2_marked_last", dialogue, prompt);
                const RenderedDialogue out = renderForTraining(chat, *tokenizer, conversation, withPrompt(prompt, AssistantTurns::Last));
                QVERIFY(out.ids == expected.at("ids").get<Ids>());
                QCOMPARE(maskText(out.assistantMask), expected.at("assistant_mask").get<std::string>());
            }
        }
    }
    // Last is not All: a dialogue with three answers marks fewer tokens.
    const ChatTemplate chat = chatTemplateNamed(reference, "qwen2_marked");
    const Conversation& three = dialogues.at("unicode_three_answers");
    const auto count = [](const RenderedDialogue& d) { return std::count(d.assistantMask.begin(), d.assistantMask.end(), 1); };
    QVERIFY(count(renderForTraining(chat, *tokenizer, three, AssistantTurns::Last)) <
          count(renderForTraining(chat, *tokenizer, three, AssistantTurns::All)));
}

void ChatTemplateParityTests::chat_preference_pairs_mark_the_completion_only()
{
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = chatTokenizer();
    const Conversation& whole = dialogues.at("system_two_turns");
    PreferenceConversation pair;
    pair.prompt.assign(whole.begin(), whole.end() - 1);
    pair.chosen = {whole.back()};
    pair.rejected = {{"assistant", "Green, I think."}};
    for (const char* name : {"qwen2_marked", "qwen2", "llama3_marked", "llama3"}) {
        const ChatTemplate chat = chatTemplateNamed(reference, name);
        const RenderedPreference out = renderPreference(chat, *tokenizer, pair);
        // Chosen is the dialogue itself; only its last answer is marked.
        const std::string family = std::string(name).substr(0, 5) == "qwen2" ? "qwen2_marked_last" : "";
        if (!family.empty()) QCOMPARE(maskText(out.chosen.assistantMask), chatCase(reference, family, "system_two_turns", false).at("assistant_mask").get<std::string>());
        Ids marked;
        for (std::size_t i = 0; i < out.rejected.ids.size(); ++i)
            if (out.rejected.assistantMask[i]) marked.push_back(out.rejected.ids[i]);
        const std::string closing = family.empty() ? "<|eot_id|>" : "<|im_end|>\n";
        QCOMPARE(tokenizer->decode(marked), "Green, I think." + closing);
        // The prompt's tokens are the same on both sides.
        const RenderedDialogue prompt = renderPrompt(chat, *tokenizer, pair.prompt);
        QVERIFY(Ids(out.chosen.ids.begin(), out.chosen.ids.begin() + static_cast<std::ptrdiff_t>(prompt.ids.size())) == prompt.ids);
        QVERIFY(Ids(out.rejected.ids.begin(), out.rejected.ids.begin() + static_cast<std::ptrdiff_t>(prompt.ids.size())) == prompt.ids);
    }
}

void ChatTemplateTests::chat_template_comes_from_the_model_folder()
{
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const ChatTemplate chat = ChatTemplate::forModel(chatData("model"));
    QVERIFY(chat.isJinja());
    QVERIFY(chat.hasGenerationMarkers());
    const Json& expected = chatCase(reference, "qwen2_marked", "one_turn", true);
    QCOMPARE(chat.render(dialogues.at("one_turn"), true), expected.at("text").get<std::string>());
    // eos_token comes from tokenizer_config.json; bos_token is null there, so undefined.
    const ChatTemplate probe = ChatTemplate::fromString("[{{ eos_token }}|{{ bos_token is defined }}|{{ pad_token }}]");
    ChatTemplate withTokens = probe;
    withTokens.setSpecialTokens(nlohmann::json::parse(readTextFile(chatData("model/tokenizer_config.json"))));
    QCOMPARE(withTokens.render({{"user", "x"}}, false), "[<|im_end|>|False|<|endoftext|>]");

    // chat_template.jinja beside tokenizer_config.json wins, as in transformers.
    const auto dir = loralab::test::scratchDir("chat-template-jinja-file");
    std::filesystem::copy_file(chatData("model/tokenizer_config.json"), dir / "tokenizer_config.json");
    writeFileAtomic(dir / "chat_template.jinja", "{% for m in messages %}<{{ m.role }}:{{ m.content }}>{% endfor %}{{ eos_token }}");
    QCOMPARE(ChatTemplate::forModel(dir).render({{"user", "hi"}}, false), "<user:hi><|im_end|>");
    // A list of named templates: "default" is taken.
    writeFileAtomic(dir / "tokenizer_config.json",
                    R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages|length }}"}]})");
    std::filesystem::remove(dir / "chat_template.jinja");
    QCOMPARE(ChatTemplate::forModel(dir).render({{"user", "hi"}}, false), "D1");
    // No template at all: the Human/Assistant layout.
    QVERIFY(!ChatTemplate::forModel(loralab::test::fixtureModel("tiny-gpt-neox")).isJinja());
}

void ChatTemplateTests::chat_human_assistant_layout_tokenizes_like_hh_data()
{
    const auto tokenizer = loadTokenizer(loralab::test::fixtureModel("tiny-gpt-neox"));
    QVERIFY(tokenizer->eosId() >= 0);
    const ChatTemplate chat = ChatTemplate::humanAssistant();
    const Conversation conversation = {{"user", "What is 2+2?"}, {"assistant", " 4. "}, {"user", "And 3+3?"}, {"assistant", "6."}};
    const RenderedDialogue last = renderForTraining(chat, *tokenizer, conversation, AssistantTurns::Last);
    QCOMPARE(last.text, "\n\nHuman: What is 2+2?\n\nAssistant:  4. \n\nHuman: And 3+3?\n\nAssistant: 6.");
    // The HH reader's split of the same text, tokenized the way HH data is.
    std::string prompt;
    std::string answer;
    QVERIFY(splitDialogue(last.text, prompt, answer));
    Ids expected = tokenizer->encode(prompt);
    const std::size_t promptTokens = expected.size();
    for (const auto id : tokenizer->encode(answer)) expected.push_back(id);
    expected.push_back(tokenizer->eosId());
    QVERIFY(last.ids == expected);
    QCOMPARE(maskText(last.assistantMask), std::string(promptTokens, '0') + std::string(expected.size() - promptTokens, '1'));
    // All: each answer, stripped, with EOS, after its own prompt.
    const RenderedDialogue all = renderForTraining(chat, *tokenizer, conversation, AssistantTurns::All);
    Ids first = tokenizer->encode("\n\nHuman: What is 2+2?\n\nAssistant:");
    const Ids firstAnswer = tokenizer->encode("4.");
    QVERIFY(Ids(all.ids.begin(), all.ids.begin() + static_cast<std::ptrdiff_t>(first.size())) == first);
    QVERIFY(Ids(all.ids.begin() + static_cast<std::ptrdiff_t>(first.size()), all.ids.begin() + static_cast<std::ptrdiff_t>(first.size() + firstAnswer.size())) == firstAnswer);
    QCOMPARE(std::count(all.assistantMask.begin(), all.assistantMask.end(), 1),
             static_cast<std::ptrdiff_t>(firstAnswer.size() + 1 + tokenizer->encode("6.").size() + 1));
    // A prompt ends with "Assistant:", as HH prompts do.
    QCOMPARE(renderPrompt(chat, *tokenizer, {{"user", "Hi"}}).text, "\n\nHuman: Hi\n\nAssistant:");
    VERIFY_THROWS_WITH(chat.render({{"tool", "x"}}, false), "\"tool\"");
}

void ChatTemplateParityTests::chat_token_offsets_match_the_tokenizers_library()
{
    const Json reference = chatJson("offsets.json");
    std::map<std::string, std::filesystem::path> paths = {
        {"chat_model", chatData("model/tokenizer.json")},
        {"tiny_gpt_neox", loralab::test::fixtureModel("tiny-gpt-neox") / "tokenizer.json"}};
    const char* env = std::getenv("LORALAB_QWEN_TOKENIZER");
    const std::filesystem::path real = env && *env ? env : LORALAB_QWEN_TOKENIZER_PATH;
    if (std::filesystem::exists(real)) paths["qwen_real"] = real;
    for (const auto& [name, path] : paths) {
        if (!reference.contains(name)) continue;
        const auto tokenizer = BpeTokenizer::fromFile(path);
        for (const Json& row : reference.at(name)) {
            const std::string text = row.at("text");
            const EncodedText encoded = tokenizer->encodeWithOffsets(text);
            QVERIFY(encoded.ids == row.at("ids").get<Ids>());
            QVERIFY(encoded.ids == tokenizer->encode(text));
            // Bytes to characters, as the reference counts.
            std::vector<std::size_t> charOf(text.size() + 1, 0);
            std::size_t chars = 0;
            for (std::size_t b = 0; b < text.size(); ++b) {
                if ((static_cast<unsigned char>(text[b]) & 0xC0) != 0x80 && b > 0) ++chars;
                charOf[b] = chars;
            }
            const std::size_t total = text.empty() ? 0 : chars + 1;
            Json got = Json::array();
            for (const TokenSpan& span : encoded.offsets) {
                const std::size_t begin = span.begin < text.size() ? charOf[span.begin] : total;
                const std::size_t end = span.end > span.begin ? charOf[span.end - 1] + 1 : begin;
                got.push_back({begin, end});
            }
            QVERIFY2(!(got != row.at("offsets")), (name + ": offsets of \"" + text + "\": " + got.dump()).c_str());
        }
    }
}

void ChatTemplateParityTests::chat_template_real_qwen_tokenizer()
{
    SKIP_WITHOUT_QWEN();
    const std::filesystem::path tokenizerPath = loralab::test::realQwenTokenizer();
    const auto tokenizer = BpeTokenizer::fromFile(tokenizerPath);
    const Json reference = chatJson("reference_qwen_real.json");
    const Json templates = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const ChatTemplate own = ChatTemplate::forModel(tokenizerPath.parent_path());
    for (const Json& c : reference.at("cases")) {
        const std::string name = c.at("template");
        const bool prompt = c.at("add_generation_prompt");
        const ChatTemplate chat = name == "model" ? own : chatTemplateNamed(templates, name);
        const Conversation& conversation = dialogues.at(c.at("dialogue"));
        const RenderedDialogue out = renderForTraining(chat, *tokenizer, conversation, withPrompt(prompt));
        QCOMPARE(out.text, c.at("text").get<std::string>());
        QVERIFY(out.ids == c.at("ids").get<Ids>());
        if (c.contains("assistant_mask")) QCOMPARE(maskText(out.assistantMask), c.at("assistant_mask").get<std::string>());
    }
    // The model's own template has no markers; its answers are found by
    // rendering, thinking block of the last answer included.
    const RenderedDialogue probed = renderForTraining(own, *tokenizer, dialogues.at("system_two_turns"), AssistantTurns::All);
    Ids marked;
    for (std::size_t i = 0; i < probed.ids.size(); ++i)
        if (probed.assistantMask[i]) marked.push_back(probed.ids[i]);
    QCOMPARE(tokenizer->decode(marked), "Red is a primary colour.<|im_end|>\n<think>\n\n</think>\n\nBlue is another one.<|im_end|>\n");
}

void ChatTemplateParityTests::chat_masks_keep_transformers_quirks()
{
    // Blocks that start or end inside a token, empty blocks, a block in the
    // first token, a block past the text: the mask is transformers' to the token.
    const Json reference = chatJson("reference.json");
    const auto dialogues = chatDialogues();
    const auto tokenizer = loadTokenizer(loralab::test::fixtureModel("tiny-gpt-neox"));
    std::size_t checked = 0;
    for (const Json& c : reference.at("quirks")) {
        const ChatTemplate chat = ChatTemplate::fromString(c.at("template").get<std::string>(), c.at("name").get<std::string>());
        const RenderedDialogue out = renderForTraining(chat, *tokenizer, dialogues.at(c.at("dialogue")));
        QCOMPARE(out.text, c.at("text").get<std::string>());
        QVERIFY(out.ids == c.at("ids").get<Ids>());
        QCOMPARE(maskText(out.assistantMask), c.at("assistant_mask").get<std::string>());
        ++checked;
    }
    QCOMPARE(checked, std::size_t{15});
}

#include "test_chat_template.moc"
