// Dataset readers: HH-RLHF splitting, the other JSONL shapes, malformed lines,
// gzip, text, and the early-stopping rule on scripted sequences.
#include "test_harness.h"

#include <nlohmann/json.hpp>
#include "test_paths.h"

#include "engine/data/dataset.h"
#include "engine/runner/early_stopping.h"
#include "engine/runner/run_config.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <zlib.h>

using namespace loralab;

namespace {

void writeGzip(const std::filesystem::path& path, const std::string& text)
{
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
}

} // namespace

TEST("unit/hh_dialogue_splits_at_last_assistant")
{
    std::string prompt, answer;
    REQUIRE(splitDialogue("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:  Fine, thanks. \n", prompt, answer));
    CHECK_EQ(prompt, std::string("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How are you?\n\nAssistant:"));
    CHECK_EQ(answer, std::string("Fine, thanks."));
    CHECK(!splitDialogue("\n\nHuman: no answer here", prompt, answer));
}

TEST("unit/hh_jsonl_with_malformed_lines")
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
    CHECK(d.format == DatasetFormat::HhRlhf);
    REQUIRE(d.examples.size() == 2u);
    CHECK_EQ(d.examples[0].prompt, std::string("\n\nHuman: A?\n\nAssistant:"));
    CHECK_EQ(d.examples[0].target, std::string("B."));
    CHECK_EQ(d.examples[0].rejected, std::string("C."));
    CHECK_EQ(d.examples[1].line, 7);
    REQUIRE(d.skipped.size() == 4u);
    CHECK_EQ(d.skipped[0].line, 2);
    CHECK_EQ(d.skipped[1].line, 4);
    CHECK_EQ(d.skipped[2].line, 5);
    CHECK_EQ(d.skipped[3].line, 6);
    CHECK(d.skippedSummary().find("line 2") != std::string::npos);
}

TEST("unit/other_jsonl_shapes")
{
    const Dataset a = parseDataset(R"({"input": "Q", "target": "A"})", "a.jsonl", DatasetFormat::Auto);
    CHECK(a.format == DatasetFormat::InputTarget);
    const Dataset b = parseDataset(R"({"prompt": "Q", "completion": " A"})", "b.jsonl", DatasetFormat::Auto);
    CHECK(b.format == DatasetFormat::PromptCompletion);
    CHECK_EQ(b.examples[0].target, std::string(" A")); // completions are kept verbatim
    const Dataset c = parseDataset(R"({"prompt": "Q", "chosen": "A", "rejected": "B"})", "c.jsonl", DatasetFormat::Auto);
    CHECK(c.format == DatasetFormat::Preference);
    CHECK(c.hasRejected());
}

TEST("unit/datasets_without_examples_say_why")
{
    CHECK_THROWS_WITH(parseDataset("{bad\n{worse\n", "x.jsonl", DatasetFormat::Auto), "x.jsonl", "line 1", "line 2");
    CHECK_THROWS_WITH(parseDataset("", "empty.jsonl", DatasetFormat::HhRlhf), "empty.jsonl", "empty");
    CHECK_THROWS_WITH(parseDataset("\n \n", "blank.txt", DatasetFormat::Text), "blank.txt", "no text");
    CHECK_THROWS_WITH(parseDataset(R"({"text": "x"})", "odd.jsonl", DatasetFormat::Auto), "odd.jsonl", "chosen");
    CHECK_THROWS_WITH(loadDataset("/nonexistent/data.jsonl"), "/nonexistent/data.jsonl", "not found");
}

TEST("unit/gzip_datasets")
{
    const auto dir = test::scratchDir("gzip");
    const std::string text = R"({"chosen": "\n\nHuman: A?\n\nAssistant: B.", "rejected": "\n\nHuman: A?\n\nAssistant: C."})" "\n";
    writeGzip(dir / "train.jsonl.gz", text + text);
    const Dataset d = loadDataset(dir / "train.jsonl.gz");
    CHECK_EQ(d.examples.size(), 2u);
    CHECK(d.format == DatasetFormat::HhRlhf);
    // A gzip file cut short is an error, not a crash or a silent partial read.
    const std::string bytes = readTextFile(dir / "train.jsonl.gz");
    writeFileAtomic(dir / "cut.jsonl.gz", bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_WITH(loadDataset(dir / "cut.jsonl.gz"), "cut.jsonl.gz", "gzip");
}

TEST("unit/wikitext_lines")
{
    const std::string raw = " \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 ) .\n \n";
    const Dataset d = parseDataset(raw, "wiki.train.raw", DatasetFormat::Auto);
    CHECK(d.isText());
    REQUIRE(d.examples.size() == 2u);
    CHECK_EQ(d.examples[0].target, std::string(" = Valkyria Chronicles III = "));
    CHECK_EQ(d.examples[1].line, 4);
}

TEST("unit/validation_split_is_deterministic")
{
    std::vector<Example> all(100);
    for (std::size_t i = 0; i < all.size(); ++i) all[i].target = std::to_string(i);
    std::vector<Example> t1, v1, t2, v2;
    splitTrainValidation(all, 0.1, 7, t1, v1);
    splitTrainValidation(all, 0.1, 7, t2, v2);
    CHECK_EQ(v1.size(), 10u);
    CHECK_EQ(t1.size(), 90u);
    for (std::size_t i = 0; i < v1.size(); ++i) CHECK_EQ(v1[i].target, v2[i].target);
}

TEST("unit/early_stopping_scripted_sequences")
{
    // Patience 2: two evaluations without improvement stop the run.
    EarlyStopping es(2, 0.0);
    CHECK(es.observe(3.0).improved);
    CHECK(es.observe(2.5).improved);
    auto d = es.observe(2.6);
    CHECK(!d.improved);
    CHECK(!d.stop);
    CHECK_EQ(d.evalsLeft, 1);
    d = es.observe(2.5); // equal is not better
    CHECK(d.stop);
    CHECK_NEAR(es.best(), 2.5, 0.0);

    // min_delta: a gain smaller than it does not count.
    EarlyStopping delta(1, 0.1);
    CHECK(delta.observe(1.0).improved);
    CHECK(delta.observe(0.95).stop);

    // NaN never improves; patience can be raised mid-run.
    EarlyStopping p(1, 0.0);
    p.observe(1.0);
    CHECK(!p.observe(std::nan("")).improved);
    CHECK(p.shouldStop());
    p.setPatience(3);
    CHECK(!p.shouldStop());
    CHECK(p.observe(0.5).improved);
    CHECK_EQ(p.evalsSinceBest(), 0);

    // Accuracy-style metrics improve upwards.
    EarlyStopping acc(1, 0.0, true);
    CHECK(acc.observe(0.5).improved);
    CHECK(acc.observe(0.6).improved);
    CHECK(acc.observe(0.55).stop);
}

TEST("unit/run_config_roundtrip_and_errors")
{
    RunConfig c;
    c.loraTargets = {"q_proj", "v_proj"};
    c.maxSteps = 17;
    const RunConfig back = parseRunConfig(runConfigToJson(c), "c.json");
    CHECK(back.loraTargets == c.loraTargets);
    CHECK_EQ(back.maxSteps, 17);
    CHECK_THROWS_WITH(parseRunConfig(R"({"max_stpes": 3})", "c.json"), "c.json", "max_stpes");
    CHECK_THROWS_WITH(parseRunConfig(R"({"max_steps": "many"})", "c.json"), "c.json", "max_steps");
    c.batchSize = 0;
    c.loraDropout = 1.5;
    const auto problems = validateRunConfig(c);
    CHECK_EQ(problems.size(), 2u);
    CHECK(runOptionDocs().size() > 40);
}
