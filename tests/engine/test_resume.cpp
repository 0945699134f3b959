// Resuming runs: full fine-tuning and DPO killed after a checkpoint resume to
// the losses of an uninterrupted run; a finished run is left as it is unless it
// is given more steps; an early-stopped run can be continued; a run without a
// validation set trains without evaluations; validation that can measure
// nothing is refused before a run directory exists.
#include "run_fixture.h"
#include "engine_test.h"

#include "engine/run/runner.h"
#include "engine/checkpoint/checkpoint_store.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <stdexcept>

using namespace loralab;
using namespace loralab::test;

namespace {

// Thrown from a step callback: the run stops where it is, nothing is saved on
// the way out, as when the process is killed.
struct Killed : std::runtime_error {
    Killed() : std::runtime_error("killed") {}
};

// Runs `config` once straight through and once killed after `killAfter`
// steps and resumed; the two must record the same losses, each step once.
void checkKillAndResume(RunConfig config, std::int64_t killAfter)
{
    const std::string name = config.name;
    config.runsDir = (scratchDir(name + "_straight") / "runs").string();
    RunControl straightControl;
    const auto straight = runExperiment(config, straightControl, {});

    config.runsDir = (scratchDir(name + "_killed") / "runs").string();
    std::string runDir;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onRunDir = [&](const std::string& dir) { runDir = dir; };
    callbacks.onStep = [&](const StepRecord& r) {
        if (r.step == killAfter) throw Killed();
    };
    bool killed = false;
    try {
        runExperiment(config, control, callbacks);
    } catch (const Killed&) {
        killed = true;
    }
    QVERIFY(killed);
    RunControl again;
    const auto resumed = runExperiment(config, again, {}, runDir);
    QCOMPARE(std::string(stopReasonName(resumed.summary.stopReason)), std::string("completed"));
    const auto expected = stepLosses(straight.summary.runDir);
    const auto got = stepLosses(runDir);
    QVERIFY(expected.size() == static_cast<std::size_t>(config.maxSteps));
    QVERIFY(got.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) QCOMPARE_EQ(got[i], expected[i]);
}

} // namespace

class ResumeSlowTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "slow")
private Q_SLOTS:
    void full_fine_tuning_resumes_after_a_kill();
    void dpo_resumes_after_a_kill();
};
REGISTER_TESTS(ResumeSlowTests);

class ResumeTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void finished_run_stays_until_given_more_steps();
    void run_stopped_before_its_summary_finishes_on_resume();
    void early_stopped_run_can_be_continued();
    void no_validation_set_trains_without_evaluations();
    void validation_that_measures_nothing_is_refused_before_the_run();
};
REGISTER_TESTS(ResumeTests);

// The default intervals (evaluation and checkpoint every 50 steps) put "best"
// and "last" on the same step; either must be able to resume.
void ResumeSlowTests::full_fine_tuning_resumes_after_a_kill()
{
    RunConfig config = smallRun("resume_full");
    config.method = RunMethod::Full;
    config.learningRate = 1e-3;
    config.maxSteps = 60;
    config.evalInterval = RunConfig().evalInterval;
    config.checkpointInterval = RunConfig().checkpointInterval;
    QVERIFY(config.evalInterval == 50 && config.checkpointInterval == 50);
    checkKillAndResume(config, 55);
}

void ResumeSlowTests::dpo_resumes_after_a_kill()
{
    RunConfig config = smallRun("resume_dpo");
    config.method = RunMethod::Dpo;
    config.maxSteps = 10;
    config.learningRate = 5e-3;
    config.evalInterval = 4;
    config.checkpointInterval = 4;
    checkKillAndResume(config, 6);
}

void ResumeTests::finished_run_stays_until_given_more_steps()
{
    RunConfig config = smallRun("resume_finished");
    config.maxSteps = 6;
    RunControl control;
    const auto first = runExperiment(config, control, {});
    const fs::path dir = first.summary.runDir;
    const std::string metrics = readTextFile(dir / "metrics.jsonl");
    const std::string summary = readTextFile(dir / "summary.json");
    const std::string events = readTextFile(dir / "events.log");

    // Resuming as it is: refused, and every file stays byte for byte.
    RunControl again;
    VERIFY_THROWS_WITH(runExperiment(config, again, {}, dir.string()), "already took its 6 steps", "--max-steps");
    QCOMPARE(readTextFile(dir / "metrics.jsonl"), metrics);
    QCOMPARE(readTextFile(dir / "summary.json"), summary);
    QCOMPARE(readTextFile(dir / "events.log"), events);

    // A change other than how far it goes is another run.
    RunConfig changed = config;
    changed.loraRank = 4;
    VERIFY_THROWS_WITH(runExperiment(changed, again, {}, dir.string()), "lora_r", "config.json");

    // More steps continue it: steps 7-9 are added, 1-6 stay, the wall time adds up.
    config.maxSteps = 9;
    const auto continued = runExperiment(config, again, {}, dir.string());
    QCOMPARE(std::string(stopReasonName(continued.summary.stopReason)), std::string("completed"));
    const RunRecords records = readRunDirectory(dir.string());
    QVERIFY(records.steps.size() == 9u);
    for (std::size_t i = 0; i < records.steps.size(); ++i) QCOMPARE(records.steps[i].step, static_cast<std::int64_t>(i + 1));
    QCOMPARE(readTextFile(dir / "metrics.jsonl").rfind(metrics, 0), 0u); // what was recorded is kept as it was
    QVERIFY(continued.summary.seconds >= first.summary.seconds);
    QCOMPARE(loadRunConfig((dir / "config.json").string()).maxSteps, 9);
}

void ResumeTests::run_stopped_before_its_summary_finishes_on_resume()
{
    // Killed after its last step's checkpoint, before the final evaluation,
    // samples and summary: resuming finishes it without training again.
    RunConfig config = smallRun("resume_unfinished");
    config.maxSteps = 6;
    config.samples = 2;
    config.sampleMaxNewTokens = 4;
    config.sampleTemperature = 0.0; // greedy: the same answers again
    RunControl control;
    const auto first = runExperiment(config, control, {});
    const fs::path dir = first.summary.runDir;
    // As the run left it: no summary, and samples with the base answers only.
    fs::remove(dir / "summary.json");
    std::string baseOnly;
    for (SampleRecord sample : readRunDirectory(dir.string()).samples) {
        sample.tunedOutput.clear();
        baseOnly += toJson(sample) + "\n";
    }
    writeFileAtomic(dir / "samples.jsonl", baseOnly);
    const std::string metrics = readTextFile(dir / "metrics.jsonl");
    std::vector<std::string> events;
    RunCallbacks callbacks;
    callbacks.onEvent = [&](const std::string& e) { events.push_back(e); };
    int trained = 0;
    callbacks.onStep = [&](const StepRecord&) { ++trained; };
    RunControl again;
    const auto finished = runExperiment(config, again, callbacks, dir.string());
    QCOMPARE(trained, 0); // nothing trains again
    QVERIFY(finished.summary.stopReason == StopReason::Completed);
    QCOMPARE(finished.summary.steps, 6);
    VERIFY_NEAR(finished.summary.bestValLoss, first.summary.bestValLoss, 1e-9);
    QVERIFY(fs::exists(dir / "summary.json"));
    const auto samples = readRunDirectory(dir.string()).samples;
    QVERIFY(samples.size() == 2u && first.samples.size() == 2u);
    for (std::size_t i = 0; i < 2; ++i) QCOMPARE(samples[i].tunedOutput, first.samples[i].tunedOutput);
    QCOMPARE(readTextFile(dir / "metrics.jsonl").rfind(metrics, 0), 0u);
    bool said = false;
    for (const auto& e : events) said = said || e.find("every step was trained") != std::string::npos;
    QVERIFY(said);
    // Now it has its summary: a further resume is refused as for any finished run.
    VERIFY_THROWS_WITH(runExperiment(config, again, {}, dir.string()), "already took its 6 steps");
}

void ResumeTests::early_stopped_run_can_be_continued()
{
    RunConfig config = smallRun("resume_early");
    config.maxSteps = 40;
    config.evalInterval = 2;
    config.patience = 1;
    config.minDelta = 100.0; // nothing after the first evaluation counts as better
    RunControl control;
    const auto first = runExperiment(config, control, {});
    QVERIFY(first.summary.stopReason == StopReason::EarlyStopping);
    const std::int64_t stoppedAt = first.summary.steps;
    RunControl again;
    std::vector<EvalRecord> evals;
    RunCallbacks callbacks;
    callbacks.onEval = [&](const EvalRecord& e) { evals.push_back(e); };
    const auto continued = runExperiment(config, again, callbacks, first.summary.runDir);
    // Patience starts again: one more evaluation without improvement, then it stops again.
    QVERIFY(!evals.empty());
    QCOMPARE(std::string(stopReasonName(continued.summary.stopReason)), std::string("early_stopping"));
    QCOMPARE(continued.summary.steps, stoppedAt + config.evalInterval);
    QVERIFY(readTextFile(fs::path(first.summary.runDir) / "events.log").find("patience starts again") != std::string::npos);
}

void ResumeTests::no_validation_set_trains_without_evaluations()
{
    RunConfig config = smallRun("no_validation");
    config.validationFraction = 0.0;
    config.maxSteps = 12;
    config.evalInterval = 3;
    config.evalAtStart = true;
    RunControl control;
    const auto r = runExperiment(config, control, {});
    QCOMPARE(std::string(stopReasonName(r.summary.stopReason)), std::string("completed"));
    QCOMPARE(r.summary.steps, 12);
    const RunRecords records = readRunDirectory(r.summary.runDir);
    QVERIFY(records.evals.empty()); // never a 0.0 validation loss
    QVERIFY(r.summary.bestValLoss < 0);
    QVERIFY(!CheckpointStore(fs::path(r.summary.runDir) / "checkpoints").resolve("best").has_value());
    QVERIFY(readTextFile(fs::path(r.summary.runDir) / "events.log").find("no validation set") != std::string::npos);
}

void ResumeTests::validation_that_measures_nothing_is_refused_before_the_run()
{
    RunControl control;
    // One example: the held-out share is empty.
    RunConfig one = smallRun("validation_one_line");
    const fs::path dir = fs::path(one.dataset).parent_path();
    writeFileAtomic(dir / "one.jsonl", readTextFile(one.dataset).substr(0, readTextFile(one.dataset).find('\n') + 1));
    one.dataset = (dir / "one.jsonl").string();
    VERIFY_THROWS_WITH(runExperiment(one, control, {}), "validation", "validation_fraction");
    QVERIFY(!fs::exists(one.runsDir));

    // A validation file whose lines are too short to score (one token each).
    RunConfig text = smallRun("validation_short_text");
    const fs::path textDir = fs::path(text.dataset).parent_path();
    std::string lines, shortLines;
    for (int i = 0; i < 20; ++i) lines += "The capital of France is Paris.\n";
    for (int i = 0; i < 5; ++i) shortLines += "a\n";
    writeFileAtomic(textDir / "train.txt", lines);
    writeFileAtomic(textDir / "valid.txt", shortLines);
    text.dataset = (textDir / "train.txt").string();
    text.validation = (textDir / "valid.txt").string();
    text.textMode = "lines";
    VERIFY_THROWS_WITH(runExperiment(text, control, {}), "valid.txt", "nothing to score", "validation_fraction");
    QVERIFY(!fs::exists(text.runsDir));
}

#include "test_resume.moc"
