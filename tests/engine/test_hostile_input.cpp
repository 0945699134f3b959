// Input a hostile (or unlucky) user gives: JSON nested a hundred thousand
// deep, FIFOs and devices where files should be, a gzip bomb, a checkpoints
// folder that links elsewhere, damaged model files; and, through the real
// loralab-cli, two processes on one run, a run killed before its first
// checkpoint, pretrain over a folder in use, /dev/zero as a prompt, sweeps
// of hundreds of runs. Each is a clear message, and nothing outside the run
// is touched.
#include "cli_process.h"
#include "engine_test.h"
#include "run_fixture.h"
#include "test_paths.h"

#include "engine/checkpoint/checkpoint_store.h"
#include "engine/data/dataset.h"
#include "engine/io/safetensors.h"
#include "engine/lora/adapter_config.h"
#include "engine/lora/lora.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <zlib.h>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// `text` gzip-compressed, as a .gz file holds it.
std::string gzipped(const std::string& text)
{
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

fs::path tinyConfig(const fs::path& dir, std::int64_t steps, const std::string& dataset = "")
{
    RunConfig c = test::smallRun(dir.filename().string());
    c.runsDir = (dir / "runs").string();
    c.maxSteps = steps;
    if (!dataset.empty()) c.dataset = dataset;
    writeFileAtomic(dir / "config.json", runConfigToJson(c));
    return dir / "config.json";
}

std::vector<fs::path> runFolders(const fs::path& runs)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runs, ec))
        if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

class HostileInputTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void deeply_nested_json_is_refused_without_a_crash();
    void fifos_devices_and_directories_are_refused_by_name();
    void gzip_bomb_is_refused_within_its_bound();
    void oversized_files_are_refused_before_they_are_read();
    void checkpoints_that_link_elsewhere_are_refused_and_pruning_keeps_what_others_wrote();
    void weak_answers_name_the_key();
};
REGISTER_TESTS(HostileInputTests);

void HostileInputTests::deeply_nested_json_is_refused_without_a_crash()
{
    const std::string deep = nested(100000);
    VERIFY_THROWS_WITH(parseRunConfig(R"({"name": )" + deep + "}", "deep.json"), "deep.json", "nests deeper than 64");
    RunConfig c;
    VERIFY_THROWS_WITH(setRunOption(c, "lora_targets", deep), "lora_targets", "nests deeper");
    // A value of the wrong type is quoted short, and so is a token the parser stops at.
    std::string list;
    for (int i = 0; i < 2500; ++i) list += (i ? ",1" : "1");
    const std::string wide = R"({"name": [)" + list + "]}";
    const std::string longNumber = R"({"name": )" + std::string(5000, '1') + "}";
    for (const std::string& text : {wide, longNumber}) {
        try {
            parseRunConfig(text, "wide.json");
            QFAIL("a list or a 5000-digit number as name was accepted");
        } catch (const Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.size() < 400, message.c_str());
            QVERIFY2(message.find("wide.json") != std::string::npos && message.find("...") != std::string::npos, message.c_str());
        }
    }
}

void HostileInputTests::fifos_devices_and_directories_are_refused_by_name()
{
    const fs::path dir = test::scratchDir("hostile-fifo");
    const fs::path fifo = dir / "data.jsonl";
    QCOMPARE(::mkfifo(fifo.c_str(), 0644), 0);
    // Refused without opening it (opening a FIFO would wait for a writer forever).
    VERIFY_THROWS_WITH(loadDataset(fifo), fifo.string(), "is a FIFO (named pipe)");
    VERIFY_THROWS_WITH(readTextFile(fifo), "is a FIFO");
    VERIFY_THROWS_WITH(loadDataset("/dev/zero"), "/dev/zero", "character device");
    VERIFY_THROWS_WITH(readTextFile("/dev/zero"), "/dev/zero", "character device");
    VERIFY_THROWS_WITH(loadDataset(dir), "is a directory");
    const fs::path loop = dir / "loop.jsonl";
    fs::create_symlink(loop, loop);
    VERIFY_THROWS_WITH(loadDataset(loop), loop.string(), "loop of symbolic links");
}

void HostileInputTests::gzip_bomb_is_refused_within_its_bound()
{
    const fs::path dir = test::scratchDir("hostile-gzip");
    const std::string line = R"({"prompt": "\n\nHuman: hi\n\nAssistant:", "completion": " hello"})" "\n";
    std::string text;
    while (text.size() < 4 * 1024 * 1024) text += line;
    const std::string bomb = gzipped(text);
    QVERIFY(bomb.size() * 100 < text.size()); // it inflates more than a hundredfold
    writeFileAtomic(dir / "bomb.jsonl.gz", bomb);
    ::setenv("LORALAB_MAX_DATASET_BYTES", "1000000", 1);
    VERIFY_THROWS_WITH(loadDataset(dir / "bomb.jsonl.gz"), "bomb.jsonl.gz", "inflates to more than", "LORALAB_MAX_DATASET_BYTES");
    ::unsetenv("LORALAB_MAX_DATASET_BYTES");
    // Within the bound it reads as any dataset.
    writeFileAtomic(dir / "small.jsonl.gz", gzipped(line + line));
    QCOMPARE(loadDataset(dir / "small.jsonl.gz").examples.size(), std::size_t{2});
}

void HostileInputTests::oversized_files_are_refused_before_they_are_read()
{
    const fs::path file = test::scratchDir("hostile-size") / "big.json";
    writeFileAtomic(file, std::string(10000, ' '));
    VERIFY_THROWS_WITH(readTextFile(file, 1000), file.string(), "more than the");
    QCOMPARE(readTextFile(file, 10000).size(), std::size_t{10000});
}

void HostileInputTests::checkpoints_that_link_elsewhere_are_refused_and_pruning_keeps_what_others_wrote()
{
    const fs::path root = test::scratchDir("hostile-links");
    const fs::path elsewhere = root / "database";
    fs::create_directories(elsewhere / "step-000999");
    writeFileAtomic(elsewhere / "db.partial", "precious");
    fs::create_directories(root / "run");
    fs::create_directory_symlink(elsewhere, root / "run" / "checkpoints");
    VERIFY_THROWS_WITH(CheckpointStore(root / "run" / "checkpoints"), "symbolic link");
    QVERIFY(fs::exists(elsewhere / "step-000999"));
    QVERIFY(fs::exists(elsewhere / "db.partial"));

    // In a run's own folder, pruning removes only what a store wrote.
    const fs::path own = root / "own" / "checkpoints";
    CheckpointStore store(own);
    store.commit("last", 1, [](const fs::path& d) { writeFileAtomic(d / "a.txt", "1"); });
    store.commit("last", 2, [](const fs::path& d) { writeFileAtomic(d / "a.txt", "2"); });
    writeFileAtomic(own / "db.partial", "someone else's");
    fs::create_directories(own / "mine-too");
    fs::create_directories(own / "step-000007.partial-1");
    store.prune();
    QVERIFY(!fs::exists(own / "step-000001"));         // no label points at it
    QVERIFY(fs::exists(own / "step-000002"));          // "last"
    QVERIFY(!fs::exists(own / "step-000007.partial-1")); // an interrupted write
    QVERIFY(fs::exists(own / "db.partial"));
    QVERIFY(fs::exists(own / "mine-too"));
}

void HostileInputTests::weak_answers_name_the_key()
{
    const fs::path dir = test::scratchDir("hostile-weak");
    // rotary_pct out of range names the key and the value.
    auto config = nlohmann::json::parse(readTextFile(test::fixtureModel("tiny-gpt-neox") / "config.json"));
    config["rotary_pct"] = 5;
    fs::create_directories(dir / "model");
    writeFileAtomic(dir / "model" / "config.json", config.dump());
    VERIFY_THROWS_WITH(loadModelConfig((dir / "model").string()), "rotary_pct 5", "(0, 1]");
    // Two tokens of one id.
    auto tokenizer = nlohmann::json::parse(readTextFile(test::fixtureModel("tiny-gpt-neox") / "tokenizer.json"));
    auto& vocab = tokenizer["model"]["vocab"];
    auto first = vocab.begin();
    auto second = std::next(first);
    second.value() = first.value();
    writeFileAtomic(dir / "tokenizer.json", tokenizer.dump());
    VERIFY_THROWS_WITH(BpeTokenizer::fromFile(dir / "tokenizer.json"), "gives id", first.key(), second.key());
    // An adapter value of the wrong type names its field.
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "lora_alpha": "x", "target_modules": ["dense"]})", "adapter_config.json"),
                       "adapter_config.json", "field 'lora_alpha' should be a number", "\"x\"");
    // A vocabulary of 1e11 tokens is refused as config.json's would be.
    RunConfig c;
    c.vocabSize = 100000000000LL;
    const auto problems = validateRunConfig(c);
    QVERIFY(std::any_of(problems.begin(), problems.end(), [](const std::string& p) { return p.rfind("vocab_size:", 0) == 0; }));
    // An adapter of another base: a warning that names both.
    AdapterConfig adapter;
    adapter.baseModel = "Qwen/Qwen2-0.5B";
    const std::string warning = adapterBaseWarning(adapter, "/runs/a", "/models/tiny-llama-spm");
    QVERIFY(warning.find("Qwen/Qwen2-0.5B") != std::string::npos && warning.find("tiny-llama-spm") != std::string::npos);
    QVERIFY(adapterBaseWarning(adapter, "/runs/a", "/cache/Qwen2-0.5B").empty());
}

class HostileCliTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "slow")

private Q_SLOTS:
    void second_process_on_a_run_is_refused();
    void run_killed_before_its_first_checkpoint_resumes();
    void pretrain_refuses_a_folder_in_use();
    void devices_fifos_and_loops_are_errors_not_hangs();
    void nan_weights_and_impossible_settings_are_refused();
    void runs_and_sample_of_a_text_run();
};
REGISTER_TESTS(HostileCliTests);

void HostileCliTests::second_process_on_a_run_is_refused()
{
    const fs::path dir = test::scratchDir("hostile-two-processes");
    const fs::path config = tinyConfig(dir, 2);
    QCOMPARE(test::runCli({"run", config.string()}).exitCode, 0);
    const fs::path run = runFolders(dir / "runs").front();
    // The first continuation trains for long; the second is refused at once.
    const pid_t first = test::startCli({"run", "--resume", run.string(), "--max-steps", "100000"}, (dir / "first.log").string());
    QVERIFY(first > 0);
    int status = 0;
    const bool training = test::waitForOrExit(first, [&] { return folderLockHolder(run).has_value(); }, status, 120);
    QVERIFY(training);
    const test::CliOutcome second = test::runCli({"run", "--resume", run.string(), "--max-steps", "100000"});
    QCOMPARE(second.exitCode, 1);
    QVERIFY2(second.output.find("trains in this folder") != std::string::npos, second.output.c_str());
    QVERIFY(second.output.find("pid " + std::to_string(first)) != std::string::npos);
    ::kill(first, SIGINT);
    status = test::waitForExit(first, 120);
    QVERIFY(WIFEXITED(status));
    // Every step recorded once: nobody else wrote.
    const RunRecords records = readRunRecords(run.string());
    for (std::size_t i = 0; i < records.steps.size(); ++i) QCOMPARE(records.steps[i].step, static_cast<std::int64_t>(i + 1));
}

void HostileCliTests::run_killed_before_its_first_checkpoint_resumes()
{
    const fs::path dir = test::scratchDir("hostile-early-kill");
    const fs::path config = tinyConfig(dir, 3);
    QCOMPARE(test::runCli({"run", config.string()}).exitCode, 0);
    const fs::path run = runFolders(dir / "runs").front();
    // As a process killed before its first checkpoint leaves it: steps in
    // the metrics, no checkpoint, no summary.
    for (const auto& e : fs::directory_iterator(run / "checkpoints")) fs::remove_all(e.path());
    fs::remove(run / "summary.json");
    const Experiment before = readExperiment(run.string());
    QCOMPARE(before.runs.front().state, RunState::Interrupted);
    QCOMPARE(before.runs.front().next, RunAction::Resume);
    const test::CliOutcome resumed = test::runCli({"run", "--resume", run.string()});
    QVERIFY2(resumed.exitCode == 0, resumed.output.c_str());
    QVERIFY(resumed.output.find("starts again from step 0") != std::string::npos);
    const RunRecords records = readRunRecords(run.string());
    QCOMPARE(records.steps.size(), std::size_t{3});
    for (std::size_t i = 0; i < 3; ++i) QCOMPARE(records.steps[i].step, static_cast<std::int64_t>(i + 1));
    QCOMPARE(readExperiment(run.string()).runs.front().state, RunState::Completed);
}

void HostileCliTests::pretrain_refuses_a_folder_in_use()
{
    const fs::path dir = test::scratchDir("hostile-pretrain");
    fs::create_directories(dir / "model");
    writeFileAtomic(dir / "model" / "config.json", "{\"mine\": true}");
    const test::CliOutcome r = test::runCli({"pretrain", "--out", (dir / "model").string(), "--max-steps", "1", "--runs-dir",
                                             (dir / "runs").string(), "--threads", "1"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.output.find("already exists and is not empty") != std::string::npos, r.output.c_str());
    QCOMPARE(readTextFile(dir / "model" / "config.json"), std::string("{\"mine\": true}"));
    // A pretraining that fails (a vocabulary the corpus cannot fill) leaves
    // nothing of the folder it made.
    writeFileAtomic(dir / "corpus.txt", " a few words of text\n a few more words\n");
    const test::CliOutcome bad = test::runCli({"pretrain", "--out", (dir / "new").string(), "--corpus", (dir / "corpus.txt").string(),
                                               "--tokenizer-text", "", "--vocab-size", "50000", "--runs-dir", (dir / "runs").string()});
    QCOMPARE(bad.exitCode, 1);
    QVERIFY(!fs::exists(dir / "new"));
}

void HostileCliTests::devices_fifos_and_loops_are_errors_not_hangs()
{
    const fs::path dir = test::scratchDir("hostile-cli-files");
    const std::string neox = test::fixtureModel("tiny-gpt-neox").string();
    const test::CliOutcome zero = test::runCli({"generate", neox, "--prompt-file", "/dev/zero"});
    QCOMPARE(zero.exitCode, 1);
    QVERIFY2(zero.output.find("character device") != std::string::npos, zero.output.c_str());
    const test::CliOutcome stdinZero = test::runCli({"generate", neox, "--prompt-file", "-"}, "/dev/zero");
    QCOMPARE(stdinZero.exitCode, 1);
    QVERIFY(stdinZero.output.find("standard input") != std::string::npos);
    // The configuration first: its fixture data goes in (a fresh) `dir`.
    const fs::path fifoConfig = tinyConfig(dir, 2, (dir / "fifo.jsonl").string());
    QCOMPARE(::mkfifo((dir / "fifo.jsonl").c_str(), 0644), 0);
    const test::CliOutcome fifo = test::runCli({"run", fifoConfig.string()});
    QCOMPARE(fifo.exitCode, 1);
    QVERIFY2(fifo.output.find("FIFO") != std::string::npos, fifo.output.c_str());
    QVERIFY(fifo.seconds < 60);
    // A file where a folder should be is an error, not an internal one.
    writeFileAtomic(dir / "a-file", "x");
    const test::CliOutcome under = test::runCli({"export", neox, "--merged", (dir / "a-file" / "out").string()});
    QCOMPARE(under.exitCode, 1);
    QVERIFY(under.output.find("internal error") == std::string::npos);
}

void HostileCliTests::nan_weights_and_impossible_settings_are_refused()
{
    const fs::path dir = test::scratchDir("hostile-nan");
    const fs::path model = dir / "model";
    fs::copy(test::fixtureModel("tiny-gpt-neox"), model, fs::copy_options::recursive);
    NamedTensors weights = loadSafetensors(model / "model.safetensors");
    weights.front().second = weights.front().second.clone(); // its own memory, not the file's
    weights.front().second.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
    const std::string damaged = weights.front().first;
    saveSafetensors(model / "model.safetensors", weights, {{"format", "pt"}});
    const test::CliOutcome generate = test::runCli({"generate", model.string(), "--prompt", "Hi", "--max-new-tokens", "2"});
    QCOMPARE(generate.exitCode, 1);
    QVERIFY2(generate.output.find("holds NaN") != std::string::npos && generate.output.find(damaged) != std::string::npos,
             generate.output.c_str());
    const std::string neox = test::fixtureModel("tiny-gpt-neox").string();
    const test::CliOutcome bench = test::runCli({"bench", neox, "--seq", "1000", "--steps", "1"});
    QCOMPARE(bench.exitCode, 1);
    QVERIFY2(bench.output.find("longer than the context") != std::string::npos, bench.output.c_str());
    const test::CliOutcome vocab = test::runCli({"info", "preset:pythia-70m", "--vocab-size", "1e11"});
    QCOMPARE(vocab.exitCode, 1);
    QVERIFY(vocab.output.find("--vocab-size") != std::string::npos);
    std::string ranks = "lora_r=";
    for (int r = 1; r <= 60; ++r) ranks += (r > 1 ? "," : "") + std::to_string(r);
    const test::CliOutcome sweep = test::runCli({"sweep", tinyConfig(dir, 1).string(), "--grid", ranks});
    QCOMPARE(sweep.exitCode, 1);
    QVERIFY2(sweep.output.find("60 runs") != std::string::npos && sweep.output.find("--yes") != std::string::npos, sweep.output.c_str());
    QVERIFY(!fs::exists(dir / "runs"));
}

void HostileCliTests::runs_and_sample_of_a_text_run()
{
    const fs::path dir = test::scratchDir("cli-text-run");
    RunConfig c = test::smallRun("cli-text-run");
    c.runsDir = (dir / "runs").string();
    c.dataset = "default:wikitext";
    c.maxSteps = 1;
    c.maxLen = 32;
    writeFileAtomic(dir / "text.json", runConfigToJson(c));
    QCOMPARE(test::runCli({"run", (dir / "text.json").string()}).exitCode, 0);
    const fs::path run = runFolders(dir / "runs").front();
    const test::CliOutcome sample = test::runCli({"sample", run.string(), "--count", "3", "--max-new-tokens", "4", "--json"});
    QVERIFY2(sample.exitCode == 0, sample.output.c_str());
    int lines = 0;
    std::istringstream in(sample.output);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("{", 0) != 0) continue;
        const SampleRecord s = sampleRecordFromJson(line);
        QVERIFY2(!s.prompt.empty(), line.c_str());
        QVERIFY(!s.target.empty());
        ++lines;
    }
    QCOMPARE(lines, 3);
    const test::CliOutcome runs = test::runCli({"runs", (dir / "runs").string(), "--json"});
    QCOMPARE(runs.exitCode, 0);
    const auto listing = nlohmann::json::parse(runs.output.substr(runs.output.find('[')));
    QCOMPARE(listing.size(), std::size_t{1});
    QCOMPARE(listing[0]["runs"][0]["state"].get<std::string>(), std::string("completed"));
}

#include "test_hostile_input.moc"
