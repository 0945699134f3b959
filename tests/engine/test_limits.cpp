// Inputs past what a model or a machine can hold are refused before anything
// is allocated for them, within seconds and a stated memory bound, by the real
// command line: an oversized prompt, a dataset line longer than the context,
// an absurd config.json, an oversized LoRA rank; and settings that would only
// fail mid-run (fp16 on the CPU, a vocabulary smaller than the tokenizer's)
// are refused before a run directory exists.
#include "cli_process.h"
#include "run_fixture.h"
#include "engine_test.h"

#include "engine/model/model_config.h"
#include "engine/model/model_loader.h"
#include "engine/run/runner.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

using namespace loralab;
using namespace loralab::test;

namespace {

// Refusals must come quickly and cheaply: the process start (LibTorch is
// loaded) takes about a second and 300 MB here.
constexpr double kSeconds = 20.0;
constexpr std::int64_t kMemoryBytes = std::int64_t{1} << 30;

void checkRefused(const CliOutcome& r, std::initializer_list<const char*> fragments)
{
    std::cout << "exit " << r.exitCode << " after " << r.seconds << " s, peak " << (r.peakRssBytes >> 20) << " MiB: " << r.output;
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.seconds < kSeconds);
    QVERIFY(r.peakRssBytes < kMemoryBytes);
    QVERIFY(r.output.find("internal error") == std::string::npos);
    for (const char* f : fragments) QVERIFY2(r.output.find(f) != std::string::npos, (std::string("output lacks '") + f + "'").c_str());
}

std::string neox() { return fixtureModel("tiny-gpt-neox").string(); }

// A copy of the tiny GPT-NeoX model in dir/name with config.json changed.
fs::path neoxWith(const fs::path& dir, const std::string& name, const nlohmann::json& changes)
{
    fs::copy(fixtureModel("tiny-gpt-neox"), dir / name, fs::copy_options::recursive);
    auto config = nlohmann::json::parse(readTextFile(dir / name / "config.json"));
    config.update(changes);
    writeFileAtomic(dir / name / "config.json", config.dump(2));
    return dir / name;
}

} // namespace

class LimitTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void oversized_prompt_is_refused();
    void generation_stops_where_the_context_ends();
    void dataset_line_longer_than_the_context_is_refused_by_eval();
    void absurd_config_is_refused_before_anything_is_built();
    void oversized_lora_rank_is_refused();
    void settings_that_would_fail_mid_run_are_refused_before_it();
    void parameter_count_from_config_matches_the_model_data();
    void parameter_count_from_config_matches_the_model();
    void out_of_memory_reports_say_what_was_asked_for();
};
REGISTER_TESTS(LimitTests);

void LimitTests::oversized_prompt_is_refused()
{
    // 131 KB of text: tens of thousands of tokens against a context of 128.
    const fs::path dir = scratchDir("oversized_prompt");
    std::string prompt;
    while (prompt.size() < 131 * 1024) prompt += "Human: tell me about the capital of France. ";
    writeFileAtomic(dir / "prompt.txt", prompt);
    CALL_CHECKS(checkRefused(runCli({"generate", neox(), "--prompt-file", (dir / "prompt.txt").string(), "--threads", "1"}),
                             {"the prompt has", "context is 128"}));
    // The same from standard input.
    checkRefused(runCli({"generate", neox(), "--prompt-file", "-", "--threads", "1"}, (dir / "prompt.txt").string()),
                 {"the prompt has", "max_position_embeddings"});
}

void LimitTests::generation_stops_where_the_context_ends()
{
    // A model with a context of 24 positions and a request for a billion tokens.
    const fs::path model = neoxWith(scratchDir("context_end"), "model", {{"max_position_embeddings", 24}});
    const CliOutcome r = runCli({"generate", model.string(), "--prompt", "Human: Hi", "--max-new-tokens",
                                 "1000000000", "--no-eos-stop", "--json", "--threads", "1"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.seconds < kSeconds);
    const auto line = r.output.substr(r.output.find("{\"ids\""));
    const auto json = nlohmann::json::parse(line.substr(0, line.find('\n')));
    const auto prompt = runCli({"tokenize", model.string(), "--text", "Human: Hi", "--json"});
    const auto promptIds = nlohmann::json::parse(prompt.output)["ids"].size();
    QCOMPARE(json["stop_reason"].get<std::string>(), std::string("context_full"));
    QCOMPARE(json["ids"].size() + promptIds, 24u);
    QVERIFY(r.output.find("fill the model's context of 24") != std::string::npos);
}

void LimitTests::dataset_line_longer_than_the_context_is_refused_by_eval()
{
    const fs::path dir = scratchDir("long_line");
    std::string completion;
    while (completion.size() < 1024 * 1024) completion += " and then the capital of France is Paris";
    writeFileAtomic(dir / "data.jsonl", "{\"prompt\": \"Human: Hi\\n\\nAssistant:\", \"completion\": \" Hello.\"}\n" +
                                            nlohmann::json{{"prompt", "Human: go on\n\nAssistant:"}, {"completion", completion}}.dump() + "\n");
    checkRefused(runCli({"eval", neox(), "--data", (dir / "data.jsonl").string(), "--threads", "1"}),
                 {"data.jsonl", "line 2", "longer than the model's context of 128"});
}

void LimitTests::absurd_config_is_refused_before_anything_is_built()
{
    const fs::path dir = scratchDir("absurd_config");
    const fs::path layers = neoxWith(dir, "layers", {{"num_hidden_layers", 10000000}});
    CALL_CHECKS(checkRefused(runCli({"info", layers.string()}), {"num_hidden_layers", "10000000", "more than LoRA Lab accepts"}));

    // Plausible sizes that the weight files do not hold.
    neoxWith(dir, "wide", {{"num_hidden_layers", 200}, {"hidden_size", 4096}, {"intermediate_size", 16384}});
    checkRefused(runCli({"generate", (dir / "wide").string(), "--prompt", "Hi", "--threads", "1"}),
                 {"config.json describes", "the weight files hold only"});
}

void LimitTests::oversized_lora_rank_is_refused()
{
    RunConfig config = smallRun("oversized_rank");
    config.loraRank = 100000;
    RunControl control;
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "lora_r 100000", "rank 64 at most");
    QVERIFY(!fs::exists(config.runsDir));
}

void LimitTests::settings_that_would_fail_mid_run_are_refused_before_it()
{
    RunControl control;
    RunConfig half = smallRun("fp16_cpu");
    half.dtype = "fp16";
    VERIFY_THROWS_WITH(runExperiment(half, control, {}), "fp16", "bf16");
    QVERIFY(!fs::exists(half.runsDir));

    RunConfig vocab = smallRun("small_vocab");
    vocab.vocabSize = 10;
    VERIFY_THROWS_WITH(runExperiment(vocab, control, {}), "vocab_size 10", "tokenizer");
    QVERIFY(!fs::exists(vocab.runsDir));

    RunConfig longer = smallRun("max_len_past_context");
    longer.maxLen = 4096;
    VERIFY_THROWS_WITH(runExperiment(longer, control, {}), "max_len 4096", "128 tokens");
    QVERIFY(!fs::exists(longer.runsDir));
}

// A row per preset and per fixture model.
void LimitTests::parameter_count_from_config_matches_the_model_data()
{
    QTest::addColumn<QString>("model");
    for (const auto& name : presetNames()) QTest::newRow(name.c_str()) << QString::fromStdString(name);
    for (const char* name : kFixtureModels) QTest::newRow(name) << QString(name);
}

void LimitTests::parameter_count_from_config_matches_the_model()
{
    const std::string name = currentModel();
    const ModelConfig c = name.rfind("preset:", 0) == 0 ? presetConfig(name) : loadModelConfig(fixtureModel(name));
    const auto net = buildCausalLM(c, torch::TensorOptions().device(torch::kMeta));
    std::int64_t built = 0;
    for (const auto& [n, p] : net->uniqueParameters()) built += p.numel();
    QCOMPARE(c.parameterCount(), built);
}

void LimitTests::out_of_memory_reports_say_what_was_asked_for()
{
    QCOMPARE(outOfMemoryMessage("[enforce fail at alloc_cpu.cpp:83] err == 0. DefaultCPUAllocator: can't allocate "
                                "memory: you tried to allocate 34359738368 bytes. Error code 12"),
             std::string("out of memory: 32.0 GiB was asked for"));
    QCOMPARE(outOfMemoryMessage("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 139.81 GiB total capacity)"),
             std::string("out of memory: 20.00 GiB was asked for on the GPU"));
    QVERIFY(outOfMemoryMessage("index out of range in self").empty());
}

#include "test_limits.moc"
