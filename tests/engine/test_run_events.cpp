// The TensorBoard events a run writes as it trains: one file in the run's
// tensorboard/ folder, none with the option off, a second file for a resumed
// run. The runs and an expected.json are left for tests/python/check_tensorboard.py
// (interop/tensorboard_trained_runs), which reads them with TensorBoard.
#include "engine_test.h"
#include "run_fixture.h"

#include "engine/run/runner.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> eventFiles(const fs::path& runDir)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runDir / "tensorboard", ec))
        if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

class RunEventsTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void tensorboard_events_of_trained_runs();
};
REGISTER_TESTS(RunEventsTests);

void RunEventsTests::tensorboard_events_of_trained_runs()
{
    const fs::path out = fs::path(LORALAB_BINARY_DIR) / "test-scratch" / "tensorboard-trained-runs";
    fs::remove_all(out);
    fs::create_directories(out);
    nlohmann::json expected{{"start_time", nullptr}, {"runs", nlohmann::json::array()}};

    RunConfig sft = test::smallRun("tensorboard_sft");
    sft.maxSteps = 4;
    sft.evalInterval = 2;
    sft.samples = 2;
    sft.sampleMaxNewTokens = 4;
    sft.runsDir = (out / "runs").string();
    RunControl control;
    const RunResult a = trainRun(sft, control, {});
    QVERIFY(a.summary.state == RunState::Completed);
    const auto files = eventFiles(a.summary.runDir);
    QCOMPARE(files.size(), 1u);
    QVERIFY(fs::file_size(files[0]) > 0);
    expected["runs"].push_back({{"run_dir", a.summary.runDir}, {"events", files[0].string()}, {"method", "lora"}});

    // Without the option, no folder.
    RunConfig quiet = sft;
    quiet.name = "tensorboard_off";
    quiet.tensorboard = false;
    RunControl control2;
    const RunResult b = trainRun(quiet, control2, {});
    QVERIFY(!fs::exists(fs::path(b.summary.runDir) / "tensorboard"));

    // A resumed run adds a file of its own beside the first.
    RunConfig longer = sft;
    longer.name = "tensorboard_resumed";
    longer.checkpointInterval = 2;
    RunControl first;
    RunCallbacks stopAtTwo;
    stopAtTwo.onStep = [&](const StepRecord& s) {
        if (s.step == 2) first.cancel.store(true);
    };
    const RunResult c = trainRun(longer, first, stopAtTwo);
    QVERIFY(c.summary.state == RunState::Cancelled);
    RunControl again;
    const RunResult d = trainRun(longer, again, {}, c.summary.runDir);
    QVERIFY(d.summary.state == RunState::Completed);
    QCOMPARE(eventFiles(d.summary.runDir).size(), 2u);

    writeFileAtomic(out / "expected.json", expected.dump(1) + "\n");
}

#include "test_run_events.moc"
