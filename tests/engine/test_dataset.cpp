// Dataset readers: HH-RLHF splitting, the other JSONL shapes, malformed lines,
// gzip, text, and the early-stopping rule on scripted sequences.
#include "engine_test.h"

#include <nlohmann/json.hpp>
#include "test_paths.h"
#include "engine/data/columnar/columnar_file.h"

#include "engine/data/dataset.h"
#include "engine/run/early_stopping.h"
#include "engine/config/run_config.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <zlib.h>

using namespace loralab;

namespace {

void writeGzip(const std::filesystem::path& path, const std::string& text)
{
    gzFile f = gzopen(path.c_str(), "wb");
    QVERIFY(f != nullptr);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
}

} // namespace

class DatasetTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void hh_dialogue_splits_at_last_assistant();
    void hh_jsonl_with_malformed_lines();
    void other_jsonl_shapes();
    void datasets_without_examples_say_why();
    void gzip_datasets();
    void wikitext_lines();
    void parquet_and_arrow_datasets();
    void validation_split_is_deterministic();
    void early_stopping_scripted_sequences();
    void run_config_roundtrip_and_errors();
};
REGISTER_TESTS(DatasetTests);

void DatasetTests::hh_dialogue_splits_at_last_assistant()
{
    std::string prompt, answer;
    QVERIFY(splitDialogue("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:  Fine, thanks. \n", prompt, answer));
    QCOMPARE(prompt, std::string("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:"));
    QCOMPARE(answer, std::string("Fine, thanks."));
    QVERIFY(!splitDialogue("\n\nHuman: no answer here", prompt, answer));
}

void DatasetTests::hh_jsonl_with_malformed_lines()
{
    const std::string text =
        R"({"chosen": "\n\nHuman: A?\n\nAssistant: B.", "rejected": "\n\nHuman: A?\n\nAssistant: C."})" "\n"
        "{not json\n"
        "\n"
        R"({"chosen": 5, "rejected": "x"})" "\n"
        R"({"chosen": "\n\nHuman: no turn", "rejected": "\n\nHuman: no turn"})" "\n"
        R"(["a list"])" "\n"
        R"({"chosen": "\n\nHuman: D?\n\nAssistant: E.", "rejected": "\n\nHuman: D?\n\nAssistant: F."})" "\n";
    const Dataset d = parseDataset(text, "hh.jsonl", DatasetFormat::Auto);
    QVERIFY(d.format == DatasetFormat::HhRlhf);
    QVERIFY(d.examples.size() == 2u);
    QCOMPARE(d.examples[0].prompt, std::string("\n\nHuman: A?\n\nAssistant:"));
    QCOMPARE(d.examples[0].target, std::string("B."));
    QCOMPARE(d.examples[0].rejected, std::string("C."));
    QCOMPARE(d.examples[1].line, 7);
    QVERIFY(d.skipped.size() == 4u);
    QCOMPARE(d.skipped[0].line, 2);
    QCOMPARE(d.skipped[1].line, 4);
    QCOMPARE(d.skipped[2].line, 5);
    QCOMPARE(d.skipped[3].line, 6);
    QVERIFY(d.skippedSummary().find("line 2") != std::string::npos);
}

void DatasetTests::other_jsonl_shapes()
{
    const Dataset a = parseDataset(R"({"input": "Q", "target": "A"})", "a.jsonl", DatasetFormat::Auto);
    QVERIFY(a.format == DatasetFormat::InputTarget);
    const Dataset b = parseDataset(R"({"prompt": "Q", "completion": " A"})", "b.jsonl", DatasetFormat::Auto);
    QVERIFY(b.format == DatasetFormat::PromptCompletion);
    QCOMPARE(b.examples[0].target, std::string(" A")); // completions are kept verbatim
    const Dataset c = parseDataset(R"({"prompt": "Q", "chosen": "A", "rejected": "B"})", "c.jsonl", DatasetFormat::Auto);
    QVERIFY(c.format == DatasetFormat::Preference);
    QVERIFY(c.hasRejected());
}

void DatasetTests::datasets_without_examples_say_why()
{
    VERIFY_THROWS_WITH(parseDataset("{bad\n{worse\n", "x.jsonl", DatasetFormat::Auto), "x.jsonl", "line 1", "line 2");
    VERIFY_THROWS_WITH(parseDataset("", "empty.jsonl", DatasetFormat::HhRlhf), "empty.jsonl", "empty");
    VERIFY_THROWS_WITH(parseDataset("\n \n", "blank.txt", DatasetFormat::Text), "blank.txt", "no text");
    VERIFY_THROWS_WITH(parseDataset(R"({"text": "x"})", "odd.jsonl", DatasetFormat::Auto), "odd.jsonl", "chosen");
    VERIFY_THROWS_WITH(loadDataset("/nonexistent/data.jsonl"), "/nonexistent/data.jsonl", "not found");
}

void DatasetTests::gzip_datasets()
{
    const auto dir = test::scratchDir("gzip");
    const std::string text = R"({"chosen": "\n\nHuman: A?\n\nAssistant: B.", "rejected": "\n\nHuman: A?\n\nAssistant: C."})" "\n";
    CALL_CHECKS(writeGzip(dir / "train.jsonl.gz", text + text));
    const Dataset d = loadDataset(dir / "train.jsonl.gz");
    QCOMPARE(d.examples.size(), 2u);
    QVERIFY(d.format == DatasetFormat::HhRlhf);
    // A gzip file cut short is an error, not a crash or a silent partial read.
    const std::string bytes = readTextFile(dir / "train.jsonl.gz");
    writeFileAtomic(dir / "cut.jsonl.gz", bytes.substr(0, bytes.size() / 2));
    VERIFY_THROWS_WITH(loadDataset(dir / "cut.jsonl.gz"), "cut.jsonl.gz", "gzip");
}

void DatasetTests::wikitext_lines()
{
    const std::string raw = " \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 ) .\n \n";
    const Dataset d = parseDataset(raw, "wiki.train.raw", DatasetFormat::Auto);
    QVERIFY(d.isText());
    QVERIFY(d.examples.size() == 2u);
    QCOMPARE(d.examples[0].target, std::string(" = Valkyria Chronicles III = "));
    QCOMPARE(d.examples[1].line, 4);
}

void DatasetTests::parquet_and_arrow_datasets()
{
    const std::filesystem::path dir = test::dataDir() / "columnar";
    // WikiText as the Hugging Face cache holds it: a "text" column, a row a line,
    // blank rows dropped as blank lines are.
    const Dataset wiki = loadDataset(dir / "datasets_wikitext.parquet");
    QVERIFY(wiki.isText());
    std::vector<std::string> expected;
    {
        const std::string jsonl = readTextFile(dir / "datasets_wikitext.jsonl");
        std::size_t at = 0;
        while (at < jsonl.size()) {
            const std::size_t end = jsonl.find('\n', at);
            const auto row = nlohmann::json::parse(jsonl.substr(at, end - at));
            if (row["text"].get<std::string>().find_first_not_of(' ') != std::string::npos) expected.push_back(row["text"]);
            at = end == std::string::npos ? jsonl.size() : end + 1;
        }
    }
    QCOMPARE(wiki.examples.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) QCOMPARE(wiki.examples[i].target, expected[i]);
    QCOMPARE(wiki.examples[0].line, 2); // the row, numbered from 1
    // The same file as text data by name, and refused as a layout it lacks.
    QCOMPARE(loadDataset(dir / "datasets_wikitext.parquet", DatasetFormat::Text).examples.size(), expected.size());
    VERIFY_THROWS_WITH(loadDataset(dir / "datasets_wikitext.parquet", DatasetFormat::InputTarget), "datasets_wikitext.parquet",
                       "\"input\" and \"target\"", "text (string)");

    // HH-RLHF columns: dialogues split at the last assistant turn; the null
    // and the row without an assistant turn skipped with their row numbers.
    const Dataset hh = loadDataset(dir / "datasets_hh.parquet");
    QVERIFY(hh.format == DatasetFormat::HhRlhf);
    QCOMPARE(hh.examples.size(), 6u);
    QCOMPARE(hh.examples[0].target, std::string("0."));
    QCOMPARE(hh.examples[0].rejected, std::string("I cannot say."));
    QCOMPARE(hh.examples[0].prompt, std::string("\n\nHuman: What is 0 + 0?\n\nAssistant:"));
    QCOMPARE(hh.skipped.size(), 2u);
    QCOMPARE(hh.skipped[0].line, 4);
    QCOMPARE(hh.skipped[1].line, 6);

    // Chat messages as `datasets` writes them (lists of structs, with nulls and
    // empty lists): the Arrow file reads as its rows written as JSONL do.
    const Dataset chat = loadDataset(dir / "datasets_chat.arrow");
    const Dataset chatLines = loadDataset(dir / "datasets_chat.jsonl");
    QVERIFY(chat.format == DatasetFormat::Chat);
    QVERIFY(!chat.examples.empty() && !chat.skipped.empty());
    QCOMPARE(chat.examples.size(), chatLines.examples.size());
    for (std::size_t i = 0; i < chat.examples.size(); ++i) {
        QCOMPARE(chat.examples[i].line, chatLines.examples[i].line);
        QCOMPARE(chat.examples[i].prompt, chatLines.examples[i].prompt);
        QCOMPARE(chat.examples[i].target, chatLines.examples[i].target);
        QCOMPARE(chat.examples[i].conversation.size(), chatLines.examples[i].conversation.size());
    }
    QCOMPARE(chat.skipped.size(), chatLines.skipped.size());
    for (std::size_t i = 0; i < chat.skipped.size(); ++i) {
        QCOMPARE(chat.skipped[i].line, chatLines.skipped[i].line);
        QCOMPARE(chat.skipped[i].reason, chatLines.skipped[i].reason);
    }
    // A layout LoRA Lab does not read names the columns there are.
    VERIFY_THROWS_WITH(loadDataset(dir / "binary_plain.parquet"), "binary_plain.parquet", "no columns of a dataset layout", "blob (");
    // A damaged file is the reader's error, naming the file.
    VERIFY_THROWS_WITH(loadDataset(dir / "corrupt_string_length.parquet"), "corrupt_string_length.parquet");
}

void DatasetTests::validation_split_is_deterministic()
{
    std::vector<Example> all(100);
    for (std::size_t i = 0; i < all.size(); ++i) all[i].target = std::to_string(i);
    std::vector<Example> t1, v1, t2, v2;
    splitTrainValidation(all, 0.1, 7, t1, v1);
    splitTrainValidation(all, 0.1, 7, t2, v2);
    QCOMPARE(v1.size(), 10u);
    QCOMPARE(t1.size(), 90u);
    for (std::size_t i = 0; i < v1.size(); ++i) QCOMPARE(v1[i].target, v2[i].target);
}

void DatasetTests::early_stopping_scripted_sequences()
{
    // Patience 2: two evaluations without improvement stop the run.
    EarlyStopping es(2, 0.0);
    QVERIFY(es.observe(3.0).improved);
    QVERIFY(es.observe(2.5).improved);
    auto d = es.observe(2.6);
    QVERIFY(!d.improved);
    QVERIFY(!d.stop);
    QCOMPARE(d.evalsLeft, 1);
    d = es.observe(2.5); // equal is not better
    QVERIFY(d.stop);
    VERIFY_NEAR(es.best(), 2.5, 0.0);

    // min_delta: a gain smaller than it does not count.
    EarlyStopping delta(1, 0.1);
    QVERIFY(delta.observe(1.0).improved);
    QVERIFY(delta.observe(0.95).stop);

    // NaN never improves; patience can be raised mid-run.
    EarlyStopping p(1, 0.0);
    p.observe(1.0);
    QVERIFY(!p.observe(std::nan("")).improved);
    QVERIFY(p.shouldStop());
    p.setPatience(3);
    QVERIFY(!p.shouldStop());
    QVERIFY(p.observe(0.5).improved);
    QCOMPARE(p.evalsSinceBest(), 0);

    // Accuracy-style metrics improve upwards.
    EarlyStopping acc(1, 0.0, true);
    QVERIFY(acc.observe(0.5).improved);
    QVERIFY(acc.observe(0.6).improved);
    QVERIFY(acc.observe(0.55).stop);
}

void DatasetTests::run_config_roundtrip_and_errors()
{
    RunConfig c;
    c.loraTargets = {"q_proj", "v_proj"};
    c.maxSteps = 17;
    const RunConfig back = parseRunConfig(runConfigToJson(c), "c.json");
    QVERIFY(back.loraTargets == c.loraTargets);
    QCOMPARE(back.maxSteps, 17);
    VERIFY_THROWS_WITH(parseRunConfig(R"({"max_stpes": 3})", "c.json"), "c.json", "max_stpes");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"max_steps": "many"})", "c.json"), "c.json", "max_steps");
    c.batchSize = 0;
    c.loraDropout = 1.5;
    const auto problems = validateRunConfig(c);
    QCOMPARE(problems.size(), 2u);
    QVERIFY(runOptionDocs().size() > 40);
}

#include "test_dataset.moc"
