// Experiments of N runs: the sweep grid, the experiment folder, cancelling
// part-way, continuing; per-run tensor memory (the counting allocator) and
// what a LoRA and a full run of one model hold; best-validation bookkeeping
// with min_delta.
#include "min_delta_probe.h"
#include "run_fixture.h"
#include "engine_test.h"
#include "test_paths.h"

#include "engine/experiment/experiment.h"
#include "engine/run/runner.h"
#include "engine/checkpoint/checkpoint_store.h"
#include "engine/train/memory.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <thread>

using namespace loralab;
using test::smallRun;
namespace fs = std::filesystem;

namespace {

// How a run of an experiment ended, as summary.json names it.
std::string stateOf(const ExperimentRun& run) { return choiceName(run.state); }

// LoRA against full fine-tuning: the sweep over method.
Experiment comparisonOf(const RunConfig& base)
{
    return planExperiment(base, {parseSweepAxis("method=lora,full")}, base.name + "-compare");
}

} // namespace

class ExperimentTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void sweep_grid_expands_every_combination();
    void counting_allocator_counts_this_threads_tensors();
    void lora_and_full_memory_differ_as_estimated();
    void lora_dropout_memory_is_in_the_estimate();
    void sweep_runs_in_one_folder_and_reopens();
    void cancelled_experiment_marks_the_rest_not_started();
    void best_validation_with_min_delta_is_the_kept_step();
};
REGISTER_TESTS(ExperimentTests);

void ExperimentTests::sweep_grid_expands_every_combination()
{
    RunConfig base;
    base.name = "grid";
    const Experiment plan =
        planExperiment(base, {parseSweepAxis("lora_r=4,8"), parseSweepAxis("learning_rate=1e-3, 2e-3"), parseSweepAxis("method=lora")});
    QVERIFY(plan.runs.size() == 4u);
    // The last axis varies fastest, as nested loops in axis order.
    const std::int64_t ranks[] = {4, 4, 8, 8};
    const double rates[] = {1e-3, 2e-3, 1e-3, 2e-3};
    for (std::size_t i = 0; i < 4; ++i) {
        QCOMPARE(plan.runs[i].config.loraRank, ranks[i]);
        QCOMPARE_EQ(plan.runs[i].config.learningRate, rates[i]);
        QCOMPARE(plan.runs[i].config.batchSize, base.batchSize); // untouched options keep the base's value
        QVERIFY(plan.runs[i].values.size() == 3u);
    }
    QCOMPARE(plan.runs[1].label, std::string("lora_r=4, learning_rate=0.002, lora"));
    QCOMPARE(plan.runs[1].config.name, plan.runs[1].label);
    QCOMPARE(plan.name, std::string("grid"));

    // List options: '+' joins words, JSON lists and quoted commas do not split.
    const SweepAxis targets = parseSweepAxis("lora_targets=query_key_value+dense,all-linear,[\"all-linear\",\"lm_head\"]");
    QVERIFY(targets.values.size() == 3u);
    QCOMPARE(targets.values[0], std::string("[\"query_key_value\",\"dense\"]"));
    QCOMPARE(targets.values[1], std::string("[\"all-linear\"]"));
    QCOMPARE(targets.values[2], std::string("[\"all-linear\",\"lm_head\"]"));
    const Experiment byTargets = planExperiment(base, {targets});
    QCOMPARE(byTargets.runs[2].config.loraTargets.size(), 2u);
    QCOMPARE(byTargets.runs[0].label, std::string("lora_targets=query_key_value+dense"));

    // The comparison is the sweep over method.
    const Experiment compare = comparisonOf(base);
    QVERIFY(compare.runs.size() == 2u);
    QVERIFY(compare.runs[0].config.method == Method::Lora);
    QVERIFY(compare.runs[1].config.method == Method::Full);
    QCOMPARE(compare.runs[1].label, std::string("full"));
    QCOMPARE(compare.name, std::string("grid-compare"));
    // DPO compares the same way: the objective is its own option.
    base.objective = Objective::Dpo;
    const Experiment dpo = comparisonOf(base);
    QVERIFY(dpo.runs[1].config.objective == Objective::Dpo && dpo.runs[1].config.method == Method::Full);
    base.objective = Objective::Sft;

    // What cannot be a sweep is refused by name.
    VERIFY_THROWS_WITH(parseSweepAxis("lora_rank=4,8"), "unknown option \"lora_rank\"");
    VERIFY_THROWS_WITH(parseSweepAxis("lora_r=4,abc"), "lora_r");
    VERIFY_THROWS_WITH(parseSweepAxis("lora_r=4,,8"), "empty value");
    VERIFY_THROWS_WITH(parseSweepAxis("lora_r"), "KEY=VALUE");
    VERIFY_THROWS_WITH(parseSweepAxis("method=lora,sft"), "method", "sft");
    VERIFY_THROWS_WITH(planExperiment(base, {parseSweepAxis("lora_r=4"), parseSweepAxis("lora_r=8")}), "twice");
    VERIFY_THROWS_WITH(planExperiment(base, {parseSweepAxis("runs_dir=a,b")}), "cannot vary runs_dir");
    SweepAxis many{"seed", {}};
    for (int i = 0; i < 40; ++i) many.values.push_back(std::to_string(i));
    VERIFY_THROWS_WITH(planExperiment(base, {many, SweepAxis{"lora_r", many.values}}), "more than 1000 runs");
}

void ExperimentTests::counting_allocator_counts_this_threads_tensors()
{
    constexpr std::int64_t kBytes = 4 * 1024 * 1024; // 1 Mi floats
    torch::Tensor outlives;
    {
        const TensorMemoryScope scope;
        QCOMPARE(scope.currentBytes(), 0);
        torch::Tensor a = torch::empty({1024, 1024});
        QCOMPARE(scope.currentBytes(), kBytes);
        {
            torch::Tensor b = torch::empty({1024, 1024});
            QCOMPARE(scope.currentBytes(), 2 * kBytes);
        }
        QCOMPARE(scope.currentBytes(), kBytes);
        QCOMPARE(scope.peakBytes(), 2 * kBytes);
        // Another thread's tensors are not this run's.
        std::thread([] { torch::Tensor other = torch::empty({2048, 1024}); }).join();
        QCOMPARE(scope.peakBytes(), 2 * kBytes);
        // A tensor this thread made but another thread frees still counts out.
        torch::Tensor handed = torch::empty({256, 1024});
        QCOMPARE(scope.currentBytes(), kBytes + kBytes / 4);
        std::thread([t = std::move(handed)]() mutable { t = torch::Tensor(); }).join();
        QCOMPARE(scope.currentBytes(), kBytes);
        {
            // An inner scope counts on its own; the outer one resumes after it.
            const TensorMemoryScope inner;
            torch::Tensor c = torch::empty({512, 1024});
            QCOMPARE(inner.currentBytes(), kBytes / 2);
            QCOMPARE(scope.currentBytes(), kBytes);
        }
        const MemoryReading reading = readMemory(torch::kCPU);
        QCOMPARE(reading.currentBytes, kBytes);
        QVERIFY(reading.processBytes > reading.currentBytes); // RSS holds the libraries too
        resetPeakMemory(torch::kCPU);
        QCOMPARE(readMemory(torch::kCPU).peakBytes, kBytes);
        outlives = a; // freed after the scope has ended: must not touch a dead account
    }
    outlives = torch::Tensor();
    QCOMPARE(readMemory(torch::kCPU).currentBytes, 0); // no scope: nothing counted
}

namespace {

// LoRA and then full fine-tuning of the embedded model, two steps each: the
// summaries of the two runs.
void memoryComparison(const std::string& name, std::int64_t batchSize, std::int64_t maxLen, RunSummary& lora,
                      RunSummary& full)
{
    RunConfig config = test::memoryRun((test::scratchDir(name) / "runs").string(), batchSize, maxLen, 2);
    config.name = name;
    config.dataset = "default:dialogues";
    config.evalBatches = 1;
    RunControl control;
    Experiment r = comparisonOf(config);
    runExperiment(r, control, {});
    QVERIFY(r.runs.size() == 2u);
    QVERIFY(r.runs[0].summary && r.runs[1].summary);
    lora = *r.runs[0].summary;
    full = *r.runs[1].summary;
    QVERIFY(lora.state == RunState::Completed && full.state == RunState::Completed);
    for (const RunSummary* s : {&lora, &full})
        std::cout << choiceName(s->method) << ": peak " << s->peakMemoryBytes << " (weights " << s->measured.weightBytes
                  << ", gradients " << s->measured.gradientBytes << ", optimizer " << s->measured.optimizerBytes
                  << ", activations " << s->measured.activationBytes << "), estimate " << s->estimate.total()
                  << " (activations " << s->estimate.activationBytes << "), process " << s->processPeakMemoryBytes << "\n";
}

} // namespace

void ExperimentTests::lora_and_full_memory_differ_as_estimated()
{
    // The embedded model (2.1 M parameters), one sequence of 32 tokens: the
    // weights and what full fine-tuning adds for them (gradients and two AdamW
    // moments, 3 x 8.4 MB) dominate, as they do for real models.
    RunSummary lora, full;
    CALL_CHECKS(memoryComparison("memory", 1, 32, lora, full));

    // The optimizer state the runs really hold is what the estimate says.
    QCOMPARE(lora.measured.optimizerBytes, lora.estimate.optimizerBytes);
    QCOMPARE(full.measured.optimizerBytes, full.estimate.optimizerBytes);
    // The difference of the peaks (counted at the allocator) is the difference
    // the estimate predicts, within 10 %: full fine-tuning adds gradients and
    // optimizer state for every weight, LoRA for its adapters only.
    const double measured = static_cast<double>(full.peakMemoryBytes - lora.peakMemoryBytes);
    const double estimated = static_cast<double>(full.estimate.total() - lora.estimate.total());
    std::cout << "peak difference " << measured << ", estimated " << estimated << "\n";
    QVERIFY(estimated > 0);
    VERIFY_NEAR(measured / estimated, 1.0, 0.10);
    // Each run's peak is close to its own estimate (the activation formula is
    // the loosest part): within 25 %.
    VERIFY_NEAR(static_cast<double>(lora.peakMemoryBytes) / static_cast<double>(lora.estimate.total()), 1.0, 0.25);
    VERIFY_NEAR(static_cast<double>(full.peakMemoryBytes) / static_cast<double>(full.estimate.total()), 1.0, 0.25);
}

void ExperimentTests::lora_dropout_memory_is_in_the_estimate()
{
    // LoRA's dropout (0.05 by default) keeps a dropped copy of each adapted
    // layer's input and its mask: the same run with and without it, on text
    // chunked to the full 8 x 128 tokens, differs by what the estimate says
    // within 15 %.
    RunSummary with, without;
    for (RunSummary* s : {&with, &without}) {
        RunConfig config = test::memoryRun((test::scratchDir("memory_dropout") / "runs").string(), 8, 128, 2);
        config.name = s == &with ? "dropout" : "no-dropout";
        config.loraDropout = s == &with ? 0.05 : 0.0;
        RunControl control;
        *s = trainRun(config, control, {}).summary;
        QVERIFY(s->state == RunState::Completed);
        std::cout << config.name << ": activations " << s->measured.activationBytes << ", estimated " << s->estimate.activationBytes << "\n";
    }
    const double extra = static_cast<double>(with.measured.activationBytes - without.measured.activationBytes);
    const double extraEstimated = static_cast<double>(with.estimate.activationBytes - without.estimate.activationBytes);
    std::cout << "dropout's extra activations " << extra << ", estimated " << extraEstimated << "\n";
    QVERIFY(extra > 0 && extraEstimated > 0);
    VERIFY_NEAR(extra / extraEstimated, 1.0, 0.15);
}

void ExperimentTests::sweep_runs_in_one_folder_and_reopens()
{
    RunConfig config = smallRun("sweep");
    config.maxSteps = 2;
    config.evalInterval = 2;
    config.checkpointInterval = 0;
    config.samples = 1;
    config.sampleMaxNewTokens = 4;
    std::vector<std::size_t> started;
    std::vector<std::size_t> finished;
    ExperimentCallbacks callbacks;
    callbacks.forRun = [&](std::size_t i) {
        started.push_back(i);
        return RunCallbacks{};
    };
    callbacks.onRunFinished = [&](std::size_t i, const ExperimentRun&) { finished.push_back(i); };
    RunControl control;
    const Experiment plan = planExperiment(config, {parseSweepAxis("lora_r=2,4"), parseSweepAxis("learning_rate=0.001,0.005")});
    Experiment r = plan;
    runExperiment(r, control, callbacks);
    QVERIFY((started == std::vector<std::size_t>{0, 1, 2, 3}));
    QVERIFY((finished == std::vector<std::size_t>{0, 1, 2, 3}));
    QVERIFY(r.runs.size() == 4u);
    QVERIFY(fs::exists(fs::path(r.dir) / "experiment.json"));
    for (const auto& run : r.runs) {
        QCOMPARE(stateOf(run), std::string("completed"));
        QCOMPARE(fs::path(run.dir).parent_path().string(), r.dir); // each run inside the experiment's folder
        QCOMPARE(run.summary->runDir, run.dir);
        QVERIFY(fs::exists(fs::path(run.dir) / "samples.jsonl"));
        QVERIFY(run.next == RunAction::Keep);
    }
    QVERIFY(r.runs[0].summary->trainableParams < r.runs[2].summary->trainableParams); // rank 2 against rank 4

    QVERIFY(isExperimentDir(r.dir));
    const Experiment back = readExperiment(r.dir, true);
    QCOMPARE(back.axes.size(), 2u);
    QVERIFY(back.runs.size() == 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        QCOMPARE(back.runs[i].label, plan.runs[i].label);
        QVERIFY(back.runs[i].state == RunState::Completed && back.runs[i].summary.has_value());
        QCOMPARE(back.runs[i].records.steps.size(), 2u);
        QCOMPARE(back.runs[i].records.samples.size(), 1u);
    }
    // A run directory alone reads as an experiment of one run.
    const Experiment one = readExperiment(r.runs[0].dir, true);
    QVERIFY(one.runs.size() == 1u);
    QCOMPARE(one.runs[0].records.steps.size(), 2u);
}

void ExperimentTests::cancelled_experiment_marks_the_rest_not_started()
{
    RunConfig config = smallRun("sweep_cancel");
    config.maxSteps = 6;
    config.checkpointInterval = 2;
    RunControl control;
    ExperimentCallbacks callbacks;
    callbacks.forRun = [&](std::size_t) {
        RunCallbacks c;
        c.onStep = [&](const StepRecord& s) {
            if (s.step == 2) control.cancel.store(true);
        };
        return c;
    };
    Experiment r = comparisonOf(config);
    runExperiment(r, control, callbacks);
    QVERIFY(r.runs.size() == 2u);
    QCOMPARE(stateOf(r.runs[0]), std::string("cancelled"));
    QCOMPARE(r.runs[0].summary->steps, 2);
    QCOMPARE(stateOf(r.runs[1]), std::string("not_started"));
    QVERIFY(!r.runs[1].summary.has_value());
    QVERIFY(r.runs[1].dir.empty());
    QVERIFY(r.runs[0].next == RunAction::Resume && r.runs[1].next == RunAction::Start);

    // The folder says the same.
    Experiment more = readExperiment(r.dir);
    QVERIFY(more.runs.size() == 2u);
    QVERIFY(more.runs[0].state == RunState::Cancelled);
    QVERIFY(more.runs[1].state == RunState::NotStarted && !more.runs[1].summary.has_value());
    QVERIFY(canContinue(more));

    // Continuing: the cancelled run resumes in its folder, the other starts.
    QVERIFY(more.runs[0].next == RunAction::Resume);
    QCOMPARE(more.runs[0].dir, r.runs[0].dir);
    QVERIFY(more.runs[1].next == RunAction::Start && more.runs[1].dir.empty());
    RunControl again;
    runExperiment(more, again, {});
    QCOMPARE(more.dir, r.dir);
    QCOMPARE(stateOf(more.runs[0]), std::string("completed"));
    QCOMPARE(more.runs[0].summary->steps, 6);
    QCOMPARE(more.runs[0].dir, r.runs[0].dir);
    QCOMPARE(stateOf(more.runs[1]), std::string("completed"));
    // Nothing is left to continue: the finished runs are kept as they are.
    const Experiment finished = readExperiment(r.dir);
    QVERIFY(!canContinue(finished));
    QVERIFY(finished.runs[0].next == RunAction::Keep && finished.runs[1].next == RunAction::Keep);
}

void ExperimentTests::best_validation_with_min_delta_is_the_kept_step()
{
    // First the losses without min_delta; then a min_delta that a later
    // evaluation beats the best by less than: that one is not the best.
    RunConfig config = smallRun("min_delta_probe");
    config.maxSteps = 12;
    config.evalInterval = 1;
    config.earlyStopping = false;
    config.checkpointInterval = 0;
    const std::vector<double> losses = probe::validationLosses(config);
    QVERIFY(losses.size() == 12u);
    const double minDelta = probe::separatingMinDelta(losses);
    QVERIFY(minDelta > 0);

    config = smallRun("min_delta");
    config.maxSteps = 12;
    config.evalInterval = 1;
    config.earlyStopping = false;
    config.checkpointInterval = 0;
    config.minDelta = minDelta;
    std::vector<EvalRecord> evals;
    RunCallbacks record;
    record.onEval = [&](const EvalRecord& e) { evals.push_back(e); };
    RunControl control;
    const RunResult r = trainRun(config, control, record);
    QVERIFY(evals.size() == 12u);
    double lowest = 1e9;
    std::int64_t lowestStep = 0;
    for (const auto& e : evals)
        if (e.loss < lowest) {
            lowest = e.loss;
            lowestStep = e.step;
        }
    // The case at hand: the lowest loss is not the best step.
    QVERIFY(lowestStep != r.summary.bestStep);
    double atBest = -1;
    for (const auto& e : evals)
        if (e.step == r.summary.bestStep) atBest = e.loss;
    QVERIFY(r.summary.bestValLoss.has_value());
    QCOMPARE_EQ(*r.summary.bestValLoss, atBest);
    QVERIFY(*r.summary.bestValLoss > lowest);
    CheckpointStore store(fs::path(r.summary.runDir) / "checkpoints");
    QVERIFY(store.resolve("best").has_value());
    const auto state = nlohmann::json::parse(readTextFile(*store.resolve("best") / "trainer_state.json"));
    QCOMPARE(state.at("step").get<std::int64_t>(), r.summary.bestStep);
}

#include "test_experiment.moc"
