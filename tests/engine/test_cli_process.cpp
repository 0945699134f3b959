// loralab-cli run as a process: Ctrl-C stops a run, saves it and exits with
// 130; two runs of one name started at once each get their own directory.
#include "cli_process.h"
#include "engine_test.h"
#include "test_paths.h"

#include "engine/io/safetensors.h"
#include "engine/records/metrics.h"
#include "engine/config/run_config.h"
#include "engine/checkpoint/checkpoint_store.h"
#include "engine/util/files.h"

#include <csignal>
#include <set>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

// A LoRA run of the tiny GPT-NeoX fixture on the embedded dialogues, written
// as a config file in `dir`.
fs::path tinyRunConfig(const fs::path& dir, std::int64_t maxSteps)
{
    RunConfig c;
    c.name = "same-name";
    c.model = test::fixtureModel("tiny-gpt-neox").string();
    c.runsDir = (dir / "runs").string();
    c.maxSteps = maxSteps;
    c.batchSize = 4;
    c.maxLen = 64;
    c.evalInterval = 0;
    c.evalBatches = 2;
    c.evalAtStart = false;
    c.earlyStopping = false;
    c.checkpointInterval = 0;
    c.samples = 0;
    c.threads = 1;
    c.device = "cpu";
    writeFileAtomic(dir / "config.json", runConfigToJson(c));
    return dir / "config.json";
}

std::vector<fs::path> runDirectories(const fs::path& runsDir)
{
    std::vector<fs::path> out;
    if (fs::exists(runsDir))
        for (const auto& e : fs::directory_iterator(runsDir)) out.push_back(e.path());
    return out;
}

} // namespace

class CliProcessSlowTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "slow")
private Q_SLOTS:
    void cli_run_interrupted_exits_130_and_keeps_the_run();
    void cli_two_runs_of_one_name_get_two_directories();
};
REGISTER_TESTS(CliProcessSlowTests);

class CliProcessTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void cli_sweep_prints_a_row_per_run();
};
REGISTER_TESTS(CliProcessTests);

void CliProcessSlowTests::cli_run_interrupted_exits_130_and_keeps_the_run()
{
    const fs::path dir = test::scratchDir("cli-sigint");
    const fs::path config = tinyRunConfig(dir, 100000);
    const pid_t pid = test::startCli({"run", config.string()}, (dir / "cli.log").string());
    QVERIFY(pid > 0);
    int status = 0;
    // Training has started once a step is in a metrics log.
    const bool training = test::waitForOrExit(pid, [&] {
        for (const auto& run : runDirectories(dir / "runs")) {
            std::error_code ec;
            if (fs::file_size(run / "metrics.jsonl", ec) > 0 && !ec) return true;
        }
        return false;
    }, status, 120);
    if (!training) std::cout << readTextFile(dir / "cli.log");
    QVERIFY(training);
    QVERIFY(::kill(pid, SIGINT) == 0);
    status = test::waitForExit(pid, 120);
    const std::string log = readTextFile(dir / "cli.log");
    QVERIFY(WIFEXITED(status));
    QCOMPARE(WEXITSTATUS(status), 130);
    QVERIFY(log.find("interrupted by SIGINT: the run stopped early and is saved in") != std::string::npos);

    const auto runs = runDirectories(dir / "runs");
    QVERIFY(runs.size() == 1u);
    const RunRecords records = readRunDirectory(runs[0].string());
    QVERIFY(records.hasSummary);
    QCOMPARE(std::string(stopReasonName(records.summary.stopReason)), std::string("cancelled"));
    QVERIFY(!records.steps.empty());
    QVERIFY(records.steps.back().step < 100000);
    const auto last = CheckpointStore(runs[0] / "checkpoints").resolve("last");
    QVERIFY(last.has_value());
    QVERIFY(SafetensorsFile(*last / "adapter_model.safetensors").names().size() > 0);
}

// Two processes started together seldom reach RunDirectory::create in the
// same instant (start-up takes a second or more, and varies), so this test
// cannot force the collision; unit/run_directories_are_claimed_once does,
// with threads. What it checks is the whole path: whatever the timing, each
// process ends with a complete run in a directory of its own.
void CliProcessSlowTests::cli_two_runs_of_one_name_get_two_directories()
{
    const fs::path dir = test::scratchDir("cli-same-name");
    const fs::path config = tinyRunConfig(dir, 3);
    const pid_t a = test::startCli({"run", config.string()}, (dir / "a.log").string());
    const pid_t b = test::startCli({"run", config.string()}, (dir / "b.log").string());
    QVERIFY(a > 0 && b > 0);
    const int statusA = test::waitForExit(a, 300);
    const int statusB = test::waitForExit(b, 300);
    QVERIFY(WIFEXITED(statusA) && WEXITSTATUS(statusA) == 0);
    QVERIFY(WIFEXITED(statusB) && WEXITSTATUS(statusB) == 0);
    const auto runs = runDirectories(dir / "runs");
    QCOMPARE(runs.size(), 2u);
    for (const auto& run : runs) {
        const RunRecords records = readRunDirectory(run.string());
        QVERIFY(records.hasSummary);
        QCOMPARE(records.unreadableLines, 0);
        QVERIFY(records.steps.size() == 3u); // each step once: no second run wrote into this log
        for (std::size_t i = 0; i < records.steps.size(); ++i) QCOMPARE(records.steps[i].step, static_cast<std::int64_t>(i + 1));
    }
}

// loralab-cli sweep runs every combination in one experiment folder and
// prints a row per run; compare is the sweep over method.
void CliProcessTests::cli_sweep_prints_a_row_per_run()
{
    const fs::path dir = test::scratchDir("cli-sweep");
    const fs::path config = tinyRunConfig(dir, 1);
    const pid_t pid = test::startCli({"sweep", config.string(), "--grid", "lora_r=2,4", "--grid", "learning_rate=0.001,0.002"},
                                     (dir / "sweep.log").string());
    QVERIFY(pid > 0);
    const int status = test::waitForExit(pid, 300);
    const std::string log = readTextFile(dir / "sweep.log");
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) std::cout << log;
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (const char* row : {"lora_r=2, learning_rate=0.001  ", "lora_r=2, learning_rate=0.002  ",
                            "lora_r=4, learning_rate=0.001  ", "lora_r=4, learning_rate=0.002  "})
        QVERIFY(log.find(row) != std::string::npos);
    const auto experiments = runDirectories(dir / "runs");
    QVERIFY(experiments.size() == 1u);
    QVERIFY(fs::exists(experiments[0] / "experiment.json"));
    QCOMPARE(runDirectories(experiments[0]).size(), 5u); // four runs and experiment.json

    const pid_t bad = test::startCli({"sweep", config.string(), "--grid", "lora_rank=2,4"}, (dir / "bad.log").string());
    const int badStatus = test::waitForExit(bad, 120);
    QVERIFY(WIFEXITED(badStatus) && WEXITSTATUS(badStatus) == 1);
    QVERIFY(readTextFile(dir / "bad.log").find("unknown option \"lora_rank\"") != std::string::npos);
}

#include "test_cli_process.moc"
