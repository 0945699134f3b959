// Chat datasets in runs: OpenAI-style messages, ShareGPT conversations and
// Alpaca records read as chat examples, tokenized as the model's chat
// template renders them (ids and loss mask equal to transformers'
// apply_chat_template on the same template and tokenizer), cut to max_len from
// the front, and trained on in a run whose samples are prompted the way the
// template writes a prompt.
#include "chat_fixture.h"
#include "engine_test.h"
#include "run_fixture.h"
#include "test_paths.h"

#include "engine/data/collate.h"
#include "engine/data/dataset.h"
#include "engine/run/run_setup.h"
#include "engine/run/runner.h"
#include "engine/train/loss.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

// dialogues.json as a messages JSONL file, one record a line.
fs::path writeChatDialogues(const fs::path& dir, int rounds = 1)
{
    std::string text;
    for (int round = 0; round < rounds; ++round)
        for (const auto& dialogue : test::chatJson("dialogues.json")) {
            nlohmann::json record;
            record["messages"] = dialogue.at("messages");
            text += record.dump() + "\n";
        }
    writeFileAtomic(dir / "chat.jsonl", text);
    return dir / "chat.jsonl";
}

std::int64_t countedTokens(const TokenizedExample& t)
{
    return std::count_if(t.labels.begin(), t.labels.end(), [](std::int64_t l) { return l != kIgnoreIndex; });
}

} // namespace

class ChatDataTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void chat_records_of_three_layouts_read_as_conversations();
    void chat_examples_tokenize_as_transformers_renders_them();
    void last_turn_only_and_max_len_cut_from_the_front();
    void chat_run_trains_on_the_template_and_samples_its_prompts();
};
REGISTER_TESTS(ChatDataTests);

void ChatDataTests::chat_records_of_three_layouts_read_as_conversations()
{
    const fs::path dir = test::scratchDir("chat-layouts");
    writeFileAtomic(dir / "messages.jsonl",
                    R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]})" "\n"
                    R"({"messages": [{"role": "user", "content": "No answer here"}]})" "\n"
                    R"({"messages": [{"role": "user", "content": 7}, {"role": "assistant", "content": "x"}]})" "\n");
    const Dataset messages = loadDataset(dir / "messages.jsonl");
    QCOMPARE(std::string(choiceName(messages.format)), std::string("chat"));
    QCOMPARE(messages.examples.size(), std::size_t{1});
    const Example& e = messages.examples[0];
    QVERIFY(e.isChat());
    QCOMPARE(e.conversation.size(), std::size_t{3});
    QCOMPARE(e.target, std::string("Hello."));
    // The Human/Assistant text of what comes before the answer, for previews.
    QCOMPARE(e.prompt, std::string("Be brief.\n\nHuman: Hi\n\nAssistant:"));
    // Bad records are skipped with the reason, the field named.
    QCOMPARE(messages.skipped.size(), std::size_t{2});
    QCOMPARE(messages.skipped[0].line, std::int64_t{2});
    QCOMPARE(messages.skipped[0].reason, std::string("no assistant message to learn from"));
    QVERIFY2(messages.skipped[1].reason.find("messages[0].content is not a string") != std::string::npos,
             messages.skipped[1].reason.c_str());

    writeFileAtomic(dir / "sharegpt.jsonl",
                    R"({"conversations": [{"from": "human", "value": "Name a colour."}, {"from": "gpt", "value": "Red."}]})" "\n");
    const Dataset shareGpt = loadDataset(dir / "sharegpt.jsonl");
    QCOMPARE(std::string(choiceName(shareGpt.format)), std::string("chat"));
    QCOMPARE(shareGpt.examples[0].conversation[1].role, std::string("assistant"));
    QCOMPARE(shareGpt.examples[0].target, std::string("Red."));

    writeFileAtomic(dir / "alpaca.jsonl", R"({"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"})" "\n");
    const Dataset alpaca = loadDataset(dir / "alpaca.jsonl");
    QCOMPARE(std::string(choiceName(alpaca.format)), std::string("chat"));
    QCOMPARE(alpaca.examples[0].target, std::string("5"));
    QCOMPARE(alpaca.examples[0].conversation.front().role, std::string("user"));

    // The layouts LoRA Lab read before keep their formats.
    writeFileAtomic(dir / "pc.jsonl", R"({"prompt": "Q", "completion": " A"})" "\n");
    QCOMPARE(std::string(choiceName(loadDataset(dir / "pc.jsonl").format)), std::string("prompt-completion"));
}

void ChatDataTests::chat_examples_tokenize_as_transformers_renders_them()
{
    const nlohmann::json reference = test::chatJson("reference.json");
    const ChatTemplate chatTemplate = test::chatTemplateNamed(reference, "qwen2_marked");
    const auto tokenizer = test::chatTokenizer();
    const Dataset data = loadDataset(writeChatDialogues(test::scratchDir("chat-tokenize")));
    TokenizeOptions options;
    options.maxLen = 4096;
    options.chatTemplate = &chatTemplate;
    const nlohmann::json dialogues = test::chatJson("dialogues.json");
    int compared = 0;
    for (const Example& e : data.examples) {
        const std::string name = dialogues.at(static_cast<std::size_t>(e.line - 1)).at("name").get<std::string>();
        const nlohmann::json& expected = test::chatCase(reference, "qwen2_marked", name, false);
        const TokenizedExample t = tokenizeExample(*tokenizer, e, options);
        QCOMPARE(nlohmann::json(t.ids).dump(), expected.at("ids").dump());
        std::string mask;
        for (const std::int64_t label : t.labels) mask.push_back(label == kIgnoreIndex ? '0' : '1');
        QCOMPARE(mask, expected.at("assistant_mask").get<std::string>());
        QCOMPARE(t.answerTokens, countedTokens(t));
        QCOMPARE(t.promptTokens + t.answerTokens, static_cast<std::int64_t>(t.ids.size()));
        ++compared;
    }
    // Every dialogue whose last assistant message has text (the empty-content one is skipped).
    QVERIFY2(compared >= 4, std::to_string(compared).c_str());

    // train_on_prompt counts every token.
    options.trainOnPrompt = true;
    const TokenizedExample all = tokenizeExample(*tokenizer, data.examples[0], options);
    QCOMPARE(countedTokens(all), static_cast<std::int64_t>(all.ids.size()));
}

void ChatDataTests::last_turn_only_and_max_len_cut_from_the_front()
{
    const nlohmann::json reference = test::chatJson("reference.json");
    const ChatTemplate chatTemplate = test::chatTemplateNamed(reference, "qwen2_marked");
    const auto tokenizer = test::chatTokenizer();
    const Conversation twoTurns = test::chatDialogues().at("system_two_turns");
    Example e;
    e.conversation = twoTurns;
    TokenizeOptions options;
    options.maxLen = 4096;
    options.chatTemplate = &chatTemplate;
    const TokenizedExample every = tokenizeExample(*tokenizer, e, options);
    options.assistantTurns = AssistantTurns::Last;
    const TokenizedExample last = tokenizeExample(*tokenizer, e, options);
    QCOMPARE(nlohmann::json(last.ids).dump(), nlohmann::json(every.ids).dump());
    QVERIFY(countedTokens(last) > 0);
    QVERIFY(countedTokens(last) < countedTokens(every));
    // The last answer's tokens count in both; the first answer's only with "all".
    for (std::size_t i = 0; i < last.labels.size(); ++i)
        if (last.labels[i] != kIgnoreIndex) QCOMPARE(every.labels[i], last.labels[i]);
    QVERIFY(!every.promptCut && !every.answerCut);

    // Too long: the newest max_len tokens stay, the last answer among them.
    options.assistantTurns = AssistantTurns::All;
    options.maxLen = static_cast<std::int64_t>(every.ids.size()) - 5;
    const TokenizedExample cut = tokenizeExample(*tokenizer, e, options);
    QCOMPARE(static_cast<std::int64_t>(cut.ids.size()), options.maxLen);
    QVERIFY(std::equal(cut.ids.begin(), cut.ids.end(), every.ids.end() - options.maxLen));
    QVERIFY(std::equal(cut.labels.begin(), cut.labels.end(), every.labels.end() - options.maxLen));
    QVERIFY(cut.promptCut);
    QVERIFY(!cut.answerCut); // the five tokens cut are the system prompt's
    options.maxLen = countedTokens(last) - 1; // shorter than the last answer and its turn's closing
    QVERIFY(tokenizeExample(*tokenizer, e, options).answerCut);
}

void ChatDataTests::chat_run_trains_on_the_template_and_samples_its_prompts()
{
    const fs::path dir = test::scratchDir("chat-run");
    RunConfig config = test::smallRun("chat-run");
    config.model = test::fixtureModel("tiny-qwen2").string();
    config.tokenizer = test::chatData("model").string(); // the fixture tokenizer with a chat template (qwen2_marked)
    config.dataset = writeChatDialogues(dir, 4).string();
    config.runsDir = (dir / "runs").string();
    config.maxSteps = 3;
    config.evalInterval = 3;
    config.samples = 1;
    config.sampleMaxNewTokens = 4;
    config.maxLen = 256;

    // What the run will train on: every training example as the template renders it.
    const auto tokenizer = test::chatTokenizer();
    const PreparedData data = prepareData(config, tokenizer.get());
    QVERIFY(data.chatTemplate && data.chatTemplate->isJinja());
    QVERIFY(std::any_of(data.notes.begin(), data.notes.end(),
                        [](const std::string& n) { return n.find("chat data rendered with the chat template of") != std::string::npos; }));
    const nlohmann::json reference = test::chatJson("reference.json");
    const ChatTemplate expected = test::chatTemplateNamed(reference, "qwen2_marked");
    TokenizeOptions options = tokenizeOptions(config, &expected);
    for (std::size_t i = 0; i < data.trainTokens.size(); ++i) {
        const TokenizedExample again = tokenizeExample(*tokenizer, data.train.examples[data.trainTokens[i].source], options);
        QCOMPARE(nlohmann::json(data.trainTokens[i].labels).dump(), nlohmann::json(again.labels).dump());
    }

    RunControl control;
    std::vector<double> losses;
    RunCallbacks callbacks;
    callbacks.onStep = [&](const StepRecord& r) { losses.push_back(r.loss); };
    const RunResult r = trainRun(config, control, callbacks);
    QCOMPARE(std::string(choiceName(r.summary.state)), std::string("completed"));
    QCOMPARE(losses.size(), std::size_t{3});
    for (const double loss : losses) QVERIFY2(std::isfinite(loss) && loss > 0.0, std::to_string(loss).c_str());
    // The sample's prompt is what the template writes, ending with the assistant's header.
    QCOMPARE(r.samples.size(), std::size_t{1});
    const std::string& prompt = r.samples[0].prompt;
    QVERIFY2(prompt.rfind("<|im_start|>", 0) == 0, prompt.c_str());
    const std::string header = "<|im_start|>assistant\n";
    QVERIFY2(prompt.size() > header.size() && prompt.compare(prompt.size() - header.size(), header.size(), header) == 0, prompt.c_str());
}

#include "test_chat_data.moc"
