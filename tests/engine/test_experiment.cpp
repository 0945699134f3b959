// Experiments of N runs: the sweep grid, the experiment folder, cancelling
// part-way, continuing; per-run tensor memory (the counting allocator) and
// what a LoRA and a full run of one model hold; best-validation bookkeeping
// with min_delta.
#include "min_delta_probe.h"
#include "run_fixture.h"
#include "test_harness.h"
#include "test_paths.h"

#include "engine/runner/experiment.h"
#include "engine/runner/runner.h"
#include "engine/train/checkpoint_store.h"
#include "engine/train/memory.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <thread>

using namespace loralab;
using test::smallRun;
namespace fs = std::filesystem;

namespace {

std::string reason(const RunSummary& s) { return stopReasonName(s.stopReason); }

} // namespace

TEST("unit/sweep_grid_expands_every_combination")
{
    RunConfig base;
    base.name = "grid";
    const ExperimentPlan plan =
        planSweep(base, {parseSweepAxis("lora_r=4,8"), parseSweepAxis("learning_rate=1e-3, 2e-3"), parseSweepAxis("method=lora")});
    REQUIRE(plan.runs.size() == 4u);
    // The last axis varies fastest, as nested loops in axis order.
    const std::int64_t ranks[] = {4, 4, 8, 8};
    const double rates[] = {1e-3, 2e-3, 1e-3, 2e-3};
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK_EQ(plan.runs[i].config.loraRank, ranks[i]);
        CHECK_EQ(plan.runs[i].config.learningRate, rates[i]);
        CHECK_EQ(plan.runs[i].config.batchSize, base.batchSize); // untouched options keep the base's value
        REQUIRE(plan.runs[i].values.size() == 3u);
    }
    CHECK_EQ(plan.runs[1].label, std::string("lora_r=4, learning_rate=0.002, lora"));
    CHECK_EQ(plan.runs[1].config.name, plan.runs[1].label);
    CHECK_EQ(plan.name, std::string("grid"));

    // List options: '+' joins words, JSON lists and quoted commas do not split.
    const SweepAxis targets = parseSweepAxis("lora_targets=query_key_value+dense,all-linear,[\"all-linear\",\"lm_head\"]");
    REQUIRE(targets.values.size() == 3u);
    CHECK_EQ(targets.values[0], std::string("[\"query_key_value\",\"dense\"]"));
    CHECK_EQ(targets.values[1], std::string("[\"all-linear\"]"));
    CHECK_EQ(targets.values[2], std::string("[\"all-linear\",\"lm_head\"]"));
    const ExperimentPlan byTargets = planSweep(base, {targets});
    CHECK_EQ(byTargets.runs[2].config.loraTargets.size(), 2u);
    CHECK_EQ(byTargets.runs[0].label, std::string("lora_targets=query_key_value+dense"));

    // The comparison is the sweep over method.
    const ExperimentPlan compare = planComparison(base);
    REQUIRE(compare.runs.size() == 2u);
    CHECK(compare.runs[0].config.method == RunMethod::Lora);
    CHECK(compare.runs[1].config.method == RunMethod::Full);
    CHECK_EQ(compare.runs[1].label, std::string("full"));
    CHECK_EQ(compare.name, std::string("grid-compare"));

    // What cannot be a sweep is refused by name.
    CHECK_THROWS_WITH(parseSweepAxis("lora_rank=4,8"), "unknown option \"lora_rank\"");
    CHECK_THROWS_WITH(parseSweepAxis("lora_r=4,abc"), "lora_r");
    CHECK_THROWS_WITH(parseSweepAxis("lora_r=4,,8"), "empty value");
    CHECK_THROWS_WITH(parseSweepAxis("lora_r"), "KEY=VALUE");
    CHECK_THROWS_WITH(parseSweepAxis("method=lora,sft"), "method", "sft");
    CHECK_THROWS_WITH(planSweep(base, {parseSweepAxis("lora_r=4"), parseSweepAxis("lora_r=8")}), "twice");
    CHECK_THROWS_WITH(planSweep(base, {parseSweepAxis("runs_dir=a,b")}), "cannot vary runs_dir");
    SweepAxis many{"seed", {}};
    for (int i = 0; i < 40; ++i) many.values.push_back(std::to_string(i));
    CHECK_THROWS_WITH(planSweep(base, {many, SweepAxis{"lora_r", many.values}}), "more than 1000 runs");
    base.method = RunMethod::Dpo;
    CHECK_THROWS_WITH(planComparison(base), "dpo cannot be compared");
}

TEST("unit/counting_allocator_counts_this_threads_tensors")
{
    constexpr std::int64_t kBytes = 4 * 1024 * 1024; // 1 Mi floats
    torch::Tensor outlives;
    {
        const TensorMemoryScope scope;
        CHECK_EQ(scope.currentBytes(), 0);
        torch::Tensor a = torch::empty({1024, 1024});
        CHECK_EQ(scope.currentBytes(), kBytes);
        {
            torch::Tensor b = torch::empty({1024, 1024});
            CHECK_EQ(scope.currentBytes(), 2 * kBytes);
        }
        CHECK_EQ(scope.currentBytes(), kBytes);
        CHECK_EQ(scope.peakBytes(), 2 * kBytes);
        // Another thread's tensors are not this run's.
        std::thread([] { torch::Tensor other = torch::empty({2048, 1024}); }).join();
        CHECK_EQ(scope.peakBytes(), 2 * kBytes);
        // A tensor this thread made but another thread frees still counts out.
        torch::Tensor handed = torch::empty({256, 1024});
        CHECK_EQ(scope.currentBytes(), kBytes + kBytes / 4);
        std::thread([t = std::move(handed)]() mutable { t = torch::Tensor(); }).join();
        CHECK_EQ(scope.currentBytes(), kBytes);
        {
            // An inner scope counts on its own; the outer one resumes after it.
            const TensorMemoryScope inner;
            torch::Tensor c = torch::empty({512, 1024});
            CHECK_EQ(inner.currentBytes(), kBytes / 2);
            CHECK_EQ(scope.currentBytes(), kBytes);
        }
        const MemoryReading reading = readMemory(torch::kCPU);
        CHECK_EQ(reading.currentBytes, kBytes);
        CHECK(reading.processBytes > reading.currentBytes); // RSS holds the libraries too
        resetPeakMemory(torch::kCPU);
        CHECK_EQ(readMemory(torch::kCPU).peakBytes, kBytes);
        outlives = a; // freed after the scope has ended: must not touch a dead account
    }
    outlives = torch::Tensor();
    CHECK_EQ(readMemory(torch::kCPU).currentBytes, 0); // no scope: nothing counted
}

namespace {

// LoRA and then full fine-tuning of the embedded model, two steps each.
std::pair<RunSummary, RunSummary> memoryComparison(const std::string& name, std::int64_t batchSize, std::int64_t maxLen)
{
    RunConfig config;
    config.name = name;
    config.runsDir = (test::scratchDir(name) / "runs").string();
    config.maxSteps = 2;
    config.batchSize = batchSize;
    config.maxLen = maxLen;
    config.evalInterval = 0;
    config.evalAtStart = false;
    config.evalBatches = 1;
    config.samples = 0;
    config.checkpointInterval = 0;
    config.threads = 2;
    config.device = "cpu";
    RunControl control;
    const ExperimentResult r = runPlan(planComparison(config), control, {});
    REQUIRE(r.runs.size() == 2u);
    const RunSummary& lora = r.runs[0].summary;
    const RunSummary& full = r.runs[1].summary;
    REQUIRE(lora.stopReason == StopReason::Completed && full.stopReason == StopReason::Completed);
    for (const RunSummary* s : {&lora, &full})
        std::cout << runMethodName(s->method) << ": peak " << s->peakMemoryBytes << " (weights " << s->measured.weightBytes
                  << ", gradients " << s->measured.gradientBytes << ", optimizer " << s->measured.optimizerBytes
                  << ", activations " << s->measured.activationBytes << "), estimate " << s->estimate.total()
                  << " (activations " << s->estimate.activationBytes << "), process " << s->processPeakMemoryBytes << "\n";
    return {lora, full};
}

} // namespace

TEST("unit/lora_and_full_memory_differ_as_estimated")
{
    // The embedded model (2.1 M parameters), one sequence of 32 tokens: the
    // weights and what full fine-tuning adds for them (gradients and two AdamW
    // moments, 3 x 8.4 MB) dominate, as they do for real models.
    const auto [lora, full] = memoryComparison("memory", 1, 32);

    // The optimizer state the runs really hold is what the estimate says.
    CHECK_EQ(lora.measured.optimizerBytes, lora.estimate.optimizerBytes);
    CHECK_EQ(full.measured.optimizerBytes, full.estimate.optimizerBytes);
    // The difference of the peaks (counted at the allocator) is the difference
    // the estimate predicts, within 10 %: full fine-tuning adds gradients and
    // optimizer state for every weight, LoRA for its adapters only.
    const double measured = static_cast<double>(full.peakMemoryBytes - lora.peakMemoryBytes);
    const double estimated = static_cast<double>(full.estimate.total() - lora.estimate.total());
    std::cout << "peak difference " << measured << ", estimated " << estimated << "\n";
    CHECK(estimated > 0);
    CHECK_NEAR(measured / estimated, 1.0, 0.10);
    // Each run's peak is close to its own estimate (the activation formula is
    // the loosest part): within 25 %.
    CHECK_NEAR(static_cast<double>(lora.peakMemoryBytes) / static_cast<double>(lora.estimate.total()), 1.0, 0.25);
    CHECK_NEAR(static_cast<double>(full.peakMemoryBytes) / static_cast<double>(full.estimate.total()), 1.0, 0.25);
}

TEST("unit/lora_dropout_memory_is_in_the_estimate")
{
    // Eight sequences of up to 128 tokens: activations matter, and LoRA's
    // dropout (0.05 by default) keeps a dropped copy of each adapted layer's
    // input and its mask, more activations than full fine-tuning keeps.
    const auto [lora, full] = memoryComparison("memory_dropout", 8, 128);
    // What LoRA keeps beyond full fine-tuning's activations, measured and estimated, within 15 %.
    const double extra = static_cast<double>(lora.measured.activationBytes - full.measured.activationBytes);
    const double extraEstimated = static_cast<double>(lora.estimate.activationBytes - full.estimate.activationBytes);
    std::cout << "LoRA's extra activations " << extra << ", estimated " << extraEstimated << "\n";
    CHECK(extraEstimated > 0);
    CHECK_NEAR(extra / extraEstimated, 1.0, 0.15);
}

TEST("unit/sweep_runs_in_one_folder_and_reopens")
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
    callbacks.onRunFinished = [&](std::size_t i, const RunResult&) { finished.push_back(i); };
    RunControl control;
    const ExperimentPlan plan = planSweep(config, {parseSweepAxis("lora_r=2,4"), parseSweepAxis("learning_rate=0.001,0.005")});
    const ExperimentResult r = runPlan(plan, control, callbacks);
    CHECK((started == std::vector<std::size_t>{0, 1, 2, 3}));
    CHECK((finished == std::vector<std::size_t>{0, 1, 2, 3}));
    REQUIRE(r.runs.size() == 4u);
    CHECK(fs::exists(fs::path(r.dir) / "experiment.json"));
    for (const auto& run : r.runs) {
        CHECK_EQ(reason(run.summary), std::string("completed"));
        CHECK_EQ(fs::path(run.summary.runDir).parent_path().string(), r.dir); // each run inside the experiment's folder
        CHECK(fs::exists(fs::path(run.summary.runDir) / "samples.jsonl"));
    }
    CHECK(r.runs[0].summary.trainableParams < r.runs[2].summary.trainableParams); // rank 2 against rank 4

    CHECK(isExperimentDir(r.dir));
    const ExperimentRecords back = readExperiment(r.dir);
    CHECK_EQ(back.axes.size(), 2u);
    REQUIRE(back.runs.size() == 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK_EQ(back.runs[i].label, plan.runs[i].label);
        CHECK(back.runs[i].started && back.runs[i].records.hasSummary);
        CHECK_EQ(back.runs[i].records.steps.size(), 2u);
        CHECK_EQ(back.runs[i].records.samples.size(), 1u);
    }
    // A run directory alone reads as an experiment of one run.
    const ExperimentRecords one = readExperiment(r.runs[0].summary.runDir);
    REQUIRE(one.runs.size() == 1u);
    CHECK_EQ(one.runs[0].records.steps.size(), 2u);
}

TEST("unit/cancelled_experiment_marks_the_rest_not_started")
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
    const ExperimentPlan plan = planComparison(config);
    const ExperimentResult r = runPlan(plan, control, callbacks);
    REQUIRE(r.runs.size() == 2u);
    CHECK_EQ(reason(r.runs[0].summary), std::string("cancelled"));
    CHECK_EQ(r.runs[0].summary.steps, 2);
    CHECK_EQ(reason(r.runs[1].summary), std::string("not_started"));
    CHECK_EQ(r.runs[1].summary.steps, 0);
    CHECK(r.runs[1].summary.runDir.empty());
    CHECK_EQ(r.runs[1].summary.tunedExactMatch, -1.0);

    const ExperimentRecords back = readExperiment(r.dir);
    REQUIRE(back.runs.size() == 2u);
    CHECK(back.runs[0].started);
    CHECK(!back.runs[1].started);
    CHECK(back.runs[1].records.summary.stopReason == StopReason::NotStarted);

    // Continuing: the cancelled run resumes, the other starts.
    const ExperimentPlan more = planContinuation(r.dir);
    REQUIRE(more.runs.size() == 2u);
    CHECK_EQ(more.runs[0].resumeDir, r.runs[0].summary.runDir);
    CHECK(more.runs[1].resumeDir.empty() && more.runs[1].doneDir.empty());
    RunControl again;
    const ExperimentResult done = runPlan(more, again, {});
    CHECK_EQ(done.dir, r.dir);
    CHECK_EQ(reason(done.runs[0].summary), std::string("completed"));
    CHECK_EQ(done.runs[0].summary.steps, 6);
    CHECK_EQ(reason(done.runs[1].summary), std::string("completed"));
    // Nothing is left to continue but the finished runs, which are kept as they are.
    const ExperimentPlan finished = planContinuation(r.dir);
    CHECK(!finished.runs[0].doneDir.empty() && !finished.runs[1].doneDir.empty());
}

TEST("unit/best_validation_with_min_delta_is_the_kept_step")
{
    // First the losses without min_delta; then a min_delta that a later
    // evaluation beats the best by less than: that one is not the best.
    RunConfig config = smallRun("min_delta_probe");
    config.maxSteps = 12;
    config.evalInterval = 1;
    config.earlyStopping = false;
    config.checkpointInterval = 0;
    const std::vector<double> losses = probe::validationLosses(config);
    REQUIRE(losses.size() == 12u);
    const double minDelta = probe::separatingMinDelta(losses);
    REQUIRE(minDelta > 0);

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
    const RunResult r = runExperiment(config, control, record);
    REQUIRE(evals.size() == 12u);
    double lowest = 1e9;
    std::int64_t lowestStep = 0;
    for (const auto& e : evals)
        if (e.loss < lowest) {
            lowest = e.loss;
            lowestStep = e.step;
        }
    // The case at hand: the lowest loss is not the best step.
    CHECK(lowestStep != r.summary.bestStep);
    double atBest = -1;
    for (const auto& e : evals)
        if (e.step == r.summary.bestStep) atBest = e.loss;
    CHECK_EQ(r.summary.bestValLoss, atBest);
    CHECK(r.summary.bestValLoss > lowest);
    CheckpointStore store(fs::path(r.summary.runDir) / "checkpoints");
    REQUIRE(store.resolve("best").has_value());
    const auto state = nlohmann::json::parse(readTextFile(*store.resolve("best") / "trainer_state.json"));
    CHECK_EQ(state.at("step").get<std::int64_t>(), r.summary.bestStep);
}
