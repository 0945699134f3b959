// Datasets from the Hugging Face caches: the fixture caches in
// tests/data/hub_datasets (made by tests/data/make_hub_datasets.py, with what
// the `datasets` library resolves from them in expected.json) resolved by repo
// id, configuration, data_dir, split and revision; the card's YAML, the
// glob patterns, column mappings and preference pairs in messages form.
#include "engine_test.h"
#include "hub_dataset_fixture.h"

#include "engine/config/resources.h"
#include "engine/data/columnar/columnar_file.h"
#include "engine/data/hub_datasets.h"
#include "engine/data/dataset.h"
#include "engine/util/error.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace loralab;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

fs::path fixtureRoot() { return test::hubDatasetsRoot(); }
fs::path hubCache() { return test::hubDatasetsHub(); }
fs::path arrowCache() { return test::hubDatasetsArrow(); }

Json expectations()
{
    std::ifstream in(fixtureRoot() / "expected.json");
    return Json::parse(in);
}

std::string text(const Json& j, const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; }

std::string specOf(const Json& c)
{
    const std::string revision = text(c, "revision");
    return text(c, "repo") + (revision.empty() ? "" : "@" + revision);
}

// Rows of a split's files as the readers give them, in order.
std::vector<Json> rowsOf(const std::vector<fs::path>& files)
{
    std::vector<Json> rows;
    for (const auto& f : files) {
        if (detectColumnarFormat(f.string()) != ColumnarFormat::None) {
            const ColumnTable table = readColumnarFile(f.string());
            for (std::int64_t i = 0; i < table.rows; ++i) rows.push_back(Json::parse(table.row(i).dump()));
            continue;
        }
        const std::string all = readMaybeGzip(f);
        std::size_t at = 0;
        while (at < all.size()) {
            const std::size_t end = std::min(all.find('\n', at), all.size());
            if (end > at) rows.push_back(Json::parse(all.substr(at, end - at)));
            at = end + 1;
        }
    }
    return rows;
}

} // namespace

class HubDatasetTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void hub_datasets_resolve_as_the_datasets_library_does();
    void hub_dataset_configurations_and_splits_are_listed();
    void hub_dataset_errors_name_what_exists();
    void arrow_cache_datasets_resolve();
    void dataset_card_yaml_is_read();
    void data_file_globs_match_as_datasets_does();
    void column_mapping_reads_other_names();
    void preference_pairs_in_messages_form();
    void hub_spec_in_run_options();
};

void HubDatasetTests::hub_datasets_resolve_as_the_datasets_library_does()
{
    const Json expected = expectations();
    int checked = 0;
    for (const Json& c : expected["cases"]) {
        if (c.contains("error")) continue;
        const std::string what = specOf(c) + " " + text(c, "config") + " " + text(c, "data_dir") + " " + text(c, "split");
        const HubDataset d = findCachedDataset(specOf(c), text(c, "data_dir"), hubCache(), arrowCache());
        QVERIFY2(!d.arrowCache, what.c_str());
        const HubDatasetConfig& config = d.config(text(c, "config"));
        const HubDatasetSplit& split = pickSplit(d, config, text(c, "split"));
        std::vector<std::string> files;
        for (const auto& f : split.files) files.push_back(f.lexically_relative(d.root).generic_string());
        std::vector<std::string> want = c["files"].get<std::vector<std::string>>();
        QVERIFY2(files == want, ("files of " + what).c_str());
        // Every row, and the first rows equal to what `datasets` returned.
        const std::vector<Json> rows = rowsOf(split.files);
        QVERIFY2(static_cast<std::int64_t>(rows.size()) == c["num_rows"].get<std::int64_t>(), ("rows of " + what).c_str());
        for (std::size_t i = 0; i < c["rows"].size(); ++i) QVERIFY2(rows[i] == c["rows"][i], ("row " + std::to_string(i) + " of " + what).c_str());
        ++checked;
    }
    QVERIFY(checked >= 35);
}

void HubDatasetTests::hub_dataset_configurations_and_splits_are_listed()
{
    const Json expected = expectations();
    for (const Json& r : expected["repos"]) {
        const std::string spec = text(r, "repo") + (text(r, "revision").empty() ? "" : "@" + text(r, "revision"));
        const HubDataset d = findCachedDataset(spec, text(r, "data_dir"), hubCache(), arrowCache());
        if (text(r, "data_dir").empty()) QVERIFY2(d.configNames() == r["configs"].get<std::vector<std::string>>(), spec.c_str());
        if (r["default_config"].is_string()) QCOMPARE(d.config("").name, r["default_config"].get<std::string>());
        for (const auto& [config, splits] : r["splits"].items()) {
            if (!splits.is_array()) continue;
            const HubDatasetConfig& c = d.config(config == "<none>" ? "" : config);
            QVERIFY2(c.splitNames() == splits.get<std::vector<std::string>>(), (spec + " " + config).c_str());
        }
    }
    const auto all = listCachedDatasets(hubCache(), arrowCache());
    std::vector<std::string> ids;
    for (const auto& d : all) ids.push_back(d.repoId);
    QVERIFY(ids == (std::vector<std::string>{"Anthropic/hh-rlhf", "lab-fixtures/alpaca-mini", "lab-fixtures/chat-prefs",
                                             "lab-fixtures/chat-sft", "Salesforce/wikitext"}));
    // hh-rlhf has no card configurations: its folders are the data_dir choices.
    QVERIFY(all[0].dataDirs == (std::vector<std::string>{"harmless-base", "helpful-base", "red-team-attempts"}));
    QVERIFY(all[0].sizeBytes > 0);
}

void HubDatasetTests::hub_dataset_errors_name_what_exists()
{
    const Json expected = expectations();
    // The case `datasets` refuses: several configurations and no default.
    const HubDataset wiki = findCachedDataset("Salesforce/wikitext", "", hubCache(), arrowCache());
    VERIFY_THROWS_WITH(wiki.config(""), "Salesforce/wikitext", "none is the default", "wikitext-2-raw-v1, wikitext-2-v1");
    VERIFY_THROWS_WITH(wiki.config("wikitext-103"), "no configuration 'wikitext-103'", "wikitext-2-raw-v1, wikitext-2-v1");
    VERIFY_THROWS_WITH(pickSplit(wiki, wiki.config("wikitext-2-raw-v1"), "dev"), "no split 'dev'", "test, train, validation");
    VERIFY_THROWS_WITH(findCachedDataset("Anthropic/hh-rlhf", "harmful-base", hubCache(), arrowCache()), "no data_dir 'harmful-base'",
                       "harmless-base, helpful-base, red-team-attempts");
    VERIFY_THROWS_WITH(findCachedDataset("Nobody/nothing", "", hubCache(), arrowCache()), "Nobody/nothing", "datasets--Nobody--nothing",
                       "Nobody___nothing", "--repo-type dataset");
    VERIFY_THROWS_WITH(findCachedDataset("Salesforce/wikitext@0123456789abcdef0123456789abcdef01234567", "", hubCache(), arrowCache()),
                       "snapshots/0123456789abcdef0123456789abcdef01234567");
    // A card whose YAML cannot be read names the file and the line.
    const fs::path dir = test::scratchDir("hub-bad-card");
    const fs::path snap = dir / "datasets--Org--bad" / "snapshots" / "abc";
    fs::create_directories(snap);
    fs::create_directories(dir / "datasets--Org--bad" / "refs");
    std::ofstream(dir / "datasets--Org--bad" / "refs" / "main") << "abc";
    std::ofstream(snap / "README.md") << "---\nconfigs:\n- config_name: a\n  data_files: [\"x.jsonl\"\n---\n";
    VERIFY_THROWS_WITH(findCachedDataset("Org/bad", "", dir, arrowCache()), "README.md", "YAML line 4", "does not close");
}

void HubDatasetTests::arrow_cache_datasets_resolve()
{
    const Json expected = expectations();
    const fs::path emptyHub = test::scratchDir("hub-empty");
    for (const Json& a : expected["arrow_cache"]) {
        if (!text(a, "data_dir").empty()) continue; // kept under a hashed folder name; asked for by that name below
        const HubDataset d = findCachedDataset(text(a, "repo"), "", emptyHub, arrowCache());
        QVERIFY(d.arrowCache);
        const HubDatasetConfig& c = d.config(text(a, "config"));
        const HubDatasetSplit& s = pickSplit(d, c, text(a, "split"));
        std::vector<std::string> files;
        for (const auto& f : s.files) files.push_back(f.lexically_relative(arrowCache()).generic_string());
        QVERIFY2(files == a["cache_files"].get<std::vector<std::string>>(), (text(a, "repo") + " " + text(a, "split")).c_str());
        QCOMPARE(static_cast<std::int64_t>(rowsOf(s.files).size()), a["num_rows"].get<std::int64_t>());
    }
    // hh-rlhf prepared with a data_dir: its configuration is the hashed folder.
    const HubDataset hh = findCachedDataset("Anthropic/hh-rlhf", "", emptyHub, arrowCache());
    QCOMPARE(hh.configs.size(), 1u);
    QVERIFY(hh.configs[0].name.rfind("default-", 0) == 0);
    QVERIFY(hh.configs[0].splitNames() == (std::vector<std::string>{"train", "test"}));
    VERIFY_THROWS_WITH(findCachedDataset("Anthropic/hh-rlhf", "harmless-base", emptyHub, arrowCache()), "only in the datasets library's Arrow cache",
                       "data_dir harmless-base");
    // A dataset in both caches is read from the hub's files.
    QVERIFY(!findCachedDataset("lab-fixtures/chat-sft", "", hubCache(), arrowCache()).arrowCache);
}

void HubDatasetTests::dataset_card_yaml_is_read()
{
    const std::string card = "---\n"
                             "license: mit\n"
                             "dataset_info:\n"
                             "  features:\n"
                             "  - name: text\n"
                             "    dtype: string\n"
                             "configs:\n"
                             "- config_name: plain # a comment\n"
                             "  data_files: data.jsonl\n"
                             "- config_name: 'quoted: yes'\n"
                             "  default: true\n"
                             "  data_files:\n"
                             "  - split: train\n"
                             "    path:\n"
                             "    - \"a/*.parquet\"\n"
                             "    - b/*.parquet\n"
                             "  - split: test\n"
                             "    path: [t1.jsonl, 't2.jsonl']\n"
                             "- config_name: mapped\n"
                             "  data_dir: sub\n"
                             "  data_files:\n"
                             "    train: x-*.jsonl\n"
                             "tags:\n"
                             "- text\n"
                             "---\n# The card\nconfigs: not this one\n";
    const Json configs = Json::parse(cardConfigsJson(card, "README.md"));
    QCOMPARE(configs.size(), 3u);
    QCOMPARE(configs[0]["config_name"].get<std::string>(), std::string("plain"));
    QCOMPARE(configs[0]["data_files"].get<std::string>(), std::string("data.jsonl"));
    QCOMPARE(configs[1]["config_name"].get<std::string>(), std::string("quoted: yes"));
    QVERIFY(configs[1]["default"].get<bool>());
    QVERIFY(configs[1]["data_files"][0]["path"] == Json({"a/*.parquet", "b/*.parquet"}));
    QVERIFY(configs[1]["data_files"][1]["path"] == Json({"t1.jsonl", "t2.jsonl"}));
    QCOMPARE(configs[2]["data_dir"].get<std::string>(), std::string("sub"));
    QCOMPARE(configs[2]["data_files"]["train"].get<std::string>(), std::string("x-*.jsonl"));
    // Bytes that are not UTF-8 in a card are kept as U+FFFD, not an exception.
    const Json notUtf8 = Json::parse(cardConfigsJson("---\nconfigs:\n- config_name: a\xff\n  data_files: x.jsonl\n---\n", "README.md"));
    QCOMPARE(notUtf8[0]["config_name"].get<std::string>(), std::string("a\xEF\xBF\xBD"));
    QCOMPARE(cardConfigsJson("# no front matter\n", "README.md"), std::string("null"));
    QCOMPARE(cardConfigsJson("---\nlicense: mit\n---\n", "README.md"), std::string("null"));
    VERIFY_THROWS_WITH(cardConfigsJson("---\nconfigs:\n- config_name: a\n  data_files: {train: x}\n---\n", "card.md"), "card.md",
                       "YAML line 4", "flow mapping");
}

void HubDatasetTests::data_file_globs_match_as_datasets_does()
{
    QVERIFY(globMatch("wikitext-2-raw-v1/train-*", "wikitext-2-raw-v1/train-00000-of-00001.parquet"));
    QVERIFY(!globMatch("wikitext-2-raw-v1/train-*", "wikitext-2-raw-v1/test-00000-of-00001.parquet"));
    QVERIFY(!globMatch("*.jsonl", "sub/a.jsonl")); // '*' stays within a folder
    QVERIFY(globMatch("**/*.jsonl", "sub/deeper/a.jsonl"));
    QVERIFY(globMatch("**/*.jsonl", "a.jsonl")); // "**/" matches no folder too
    QVERIFY(globMatch("data/train-[0-9][0-9]*.parquet", "data/train-01.parquet"));
    QVERIFY(!globMatch("data/train-[0-9][0-9]*.parquet", "data/train-x1.parquet"));
    QVERIFY(globMatch("part-?.json", "part-1.json"));
    QVERIFY(!globMatch("part-?.json", "part-12.json"));
}

void HubDatasetTests::column_mapping_reads_other_names()
{
    const HubDataset d = findCachedDataset("lab-fixtures/chat-sft", "", hubCache(), arrowCache());
    const HubDatasetSplit& train = pickSplit(d, d.config(""), "train");
    // Without a mapping the columns are named, and the option that reads them.
    VERIFY_THROWS_WITH(loadDatasetFiles(train.files, "chat-sft train"), "dialog (list<struct<", "source (string)", "id (int64)",
                       "messages_column");
    ColumnMapping mapping;
    mapping.messages = "dialog";
    const Dataset chat = loadDatasetFiles(train.files, "chat-sft train", DatasetFormat::Auto, mapping);
    QVERIFY(chat.isChat());
    QCOMPARE(chat.examples.size(), 7u);
    QCOMPARE(chat.path, std::string("chat-sft train"));
    // Rows numbered through the split: the second shard's first row is row 5.
    QCOMPARE(chat.lines, std::int64_t{7});
    for (std::size_t i = 0; i < chat.examples.size(); ++i) QCOMPARE(chat.examples[i].line, static_cast<std::int64_t>(i + 1));
    const std::vector<Json> rows = rowsOf(train.files);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Json& dialog = rows[i]["dialog"];
        QCOMPARE(chat.examples[i].conversation.size(), dialog.size());
        QCOMPARE(chat.examples[i].conversation.back().content, dialog.back()["content"].get<std::string>());
    }
    // A mapped column that is not there names the ones that are.
    mapping.messages = "turns";
    VERIFY_THROWS_WITH(loadDatasetFiles(train.files, "chat-sft train", DatasetFormat::Auto, mapping), "no column \"turns\"",
                       "messages column", "dialog");
    // JSONL: prompt and answer under other keys; a key the first record lacks is named with the keys it has.
    const fs::path dir = test::scratchDir("column-mapping");
    std::ofstream(dir / "qa.jsonl") << "{\"question\": \"Two and two?\", \"response\": \"Four.\"}\n"
                                       "{\"question\": \"Sky colour?\", \"response\": \"Blue.\"}\n"
                                       "{\"question\": \"No answer\"}\n";
    ColumnMapping qa;
    qa.prompt = "question";
    qa.answer = "response";
    const Dataset pc = loadDataset(dir / "qa.jsonl", DatasetFormat::Auto, qa);
    QVERIFY(pc.format == DatasetFormat::PromptCompletion);
    QCOMPARE(pc.examples.size(), 2u);
    QCOMPARE(pc.examples[1].target, std::string("Blue."));
    QCOMPARE(pc.skipped.size(), 1u);
    QCOMPARE(pc.skipped[0].line, 3);
    qa.answer = "reply";
    VERIFY_THROWS_WITH(loadDataset(dir / "qa.jsonl", DatasetFormat::Auto, qa), "qa.jsonl", "no column \"reply\"", "\"question\", \"response\"");
    // Text in another column of JSON records.
    std::ofstream(dir / "docs.jsonl") << "{\"content\": \"first document\"}\n{\"content\": \"second\"}\n";
    ColumnMapping content;
    content.text = "content";
    const Dataset docs = loadDataset(dir / "docs.jsonl", DatasetFormat::Auto, content);
    QVERIFY(docs.isText());
    QCOMPARE(docs.examples.size(), 2u);
    QCOMPARE(docs.examples[0].target, std::string("first document"));
    // CSV is refused by name rather than read as lines of text.
    std::ofstream(dir / "table.csv") << "prompt,completion\na,b\n";
    VERIFY_THROWS_WITH(loadDataset(dir / "table.csv"), "table.csv", "is CSV", "JSONL, Parquet or Arrow");
    // A JSON array of records reads as its lines would.
    std::ofstream(dir / "array.json") << "[{\"prompt\": \"a\", \"completion\": \"b\"}, {\"prompt\": \"c\", \"completion\": \"d\"}]";
    const Dataset array = loadDataset(dir / "array.json");
    QCOMPARE(array.examples.size(), 2u);
    QCOMPARE(array.examples[1].target, std::string("d"));
}

void HubDatasetTests::preference_pairs_in_messages_form()
{
    const HubDataset d = findCachedDataset("lab-fixtures/chat-prefs", "", hubCache(), arrowCache());
    const HubDatasetSplit& train = pickSplit(d, d.config(""), "train");
    const Dataset pairs = loadDatasetFiles(train.files, "chat-prefs train");
    QVERIFY(pairs.isChat());
    QVERIFY(pairs.hasRejected());
    const std::vector<Json> rows = rowsOf(train.files);
    QCOMPARE(pairs.examples.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Example& e = pairs.examples[i];
        QCOMPARE(e.conversation.size(), rows[i]["prompt"].size() + rows[i]["chosen"].size());
        QCOMPARE(e.rejectedConversation.size(), rows[i]["prompt"].size() + rows[i]["rejected"].size());
        QCOMPARE(e.target, rows[i]["chosen"].back()["content"].get<std::string>());
        QCOMPARE(e.rejected, rows[i]["rejected"].back()["content"].get<std::string>());
        QCOMPARE(e.conversation.front().content, rows[i]["prompt"][0]["content"].get<std::string>());
    }
}

void HubDatasetTests::hub_spec_in_run_options()
{
    const test::DatasetCaches caches;
    DatasetRequest r;
    r.spec = "Salesforce/wikitext";
    r.config = "wikitext-2-raw-v1";
    const DatasetFiles wiki = resolveDatasets(r);
    QCOMPARE(wiki.train.files.size(), 1u);
    QCOMPARE(wiki.train.files[0].filename().string(), std::string("train-00000-of-00001.parquet"));
    QCOMPARE(wiki.validation.files[0].filename().string(), std::string("validation-00000-of-00001.parquet"));
    QCOMPARE(wiki.test.files[0].filename().string(), std::string("test-00000-of-00001.parquet"));
    QVERIFY(wiki.source.find("Salesforce/wikitext wikitext-2-raw-v1") != std::string::npos);
    // hh-rlhf: no validation split; its test split named for validation is not also the test.
    r = {};
    r.spec = "Anthropic/hh-rlhf";
    r.dataDir = "harmless-base";
    r.validationSplit = "test";
    const DatasetFiles hh = resolveDatasets(r);
    QCOMPARE(hh.train.files.size(), 1u);
    QCOMPARE(hh.validation.files[0].lexically_relative(hh.validation.files[0].parent_path().parent_path()).generic_string(),
             std::string("harmless-base/test.jsonl.gz"));
    QVERIFY(hh.test.empty());
    r.validationSplit.clear();
    QVERIFY(resolveDatasets(r).validation.empty()); // held out of train
    // Options for cached datasets given with a file are refused by name.
    r = {};
    r.spec = (test::dataDir() / "columnar" / "main.jsonl").string();
    r.config = "x";
    VERIFY_THROWS_WITH(resolveDatasets(r), "dataset_config", "is a file");
    // A missing relative file stays a missing file; an id not cached says where it looked.
    r = {};
    r.spec = "data/train.jsonl";
    QCOMPARE(resolveDatasets(r).train.files[0].string(), std::string("data/train.jsonl"));
    r.spec = "Org/not-cached";
    VERIFY_THROWS_WITH(resolveDatasets(r), "Org/not-cached", "is in neither", "--repo-type dataset");
}

REGISTER_TESTS(HubDatasetTests);
#include "test_hub_datasets.moc"
