// Input a hostile (or unlucky) user gives, through the real loralab-cli: two
// processes on one run, a run killed before its first checkpoint, pretrain
// over a folder in use, /dev/zero as a prompt, sweeps of hundreds of runs.
// Each is a clear message, and nothing outside the run is touched. The
// files such a user hands the parsers are test_hostile_files.cpp's.
#include "cli_process.h"
#include "engine_test.h"
#include "run_fixture.h"
#include "test_paths.h"

#include "engine/data/dataset.h"
#include "engine/io/safetensors.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

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
