// The experiment runner on the tiny GPT-NeoX fixture: masking, determinism,
// resume, cancel, early stopping, NaN handling and SIGKILL at random moments.
#include "cli_process.h"
#include "fixture_reference.h"
#include "run_fixture.h"
#include "engine_test.h"
#include "test_paths.h"

#include "engine/data/collate.h"
#include "engine/io/safetensors.h"
#include "engine/run/runner.h"
#include "engine/commands/tools.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/checkpoint/checkpoint_store.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <functional>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace loralab;
using test::smallRun;
using test::stepLosses;
namespace fs = std::filesystem;

class RunnerTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void labels_mask_prompt_and_padding_exactly();
    void truncation_keeps_the_answer_and_drops_old_turns();
    void same_seed_same_losses();
    void resume_matches_an_uninterrupted_run();
    void cancel_takes_effect_within_one_step();
    void early_stopping_fires_and_keeps_best();
    void baseline_evaluation_before_training();
    void user_can_stop_and_change_patience_mid_run();
    void non_finite_loss_stops_and_keeps_the_last_good_checkpoint();
    void bad_inputs_are_reported_before_anything_is_written();
    void missing_gpu_is_refused_before_the_run_starts();
};
REGISTER_TESTS(RunnerTests);

class RunnerSlowTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "slow")
private Q_SLOTS:
    void sigkill_at_random_moments_then_resume();
};
REGISTER_TESTS(RunnerSlowTests);

class RunnerParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    // The two fixture models whose tokenizers give the batch back from its text.
    void eval_command_gives_the_reference_losses_data() { loralab::test::modelRows({"tiny-gpt-neox", "tiny-qwen2"}); }
    void eval_command_gives_the_reference_losses();
};
REGISTER_TESTS(RunnerParityTests);

class RunnerGpuTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "gpu")
private Q_SLOTS:
    void init() { SKIP_WITHOUT_CUDA(); }
    void sft_run_tracks_the_cpu_run();
};
REGISTER_TESTS(RunnerGpuTests);

void RunnerTests::labels_mask_prompt_and_padding_exactly()
{
    const auto tokenizer = loadTokenizer(test::fixtureModel("tiny-gpt-neox"));
    Example a{"\n\nHuman: Hi there\n\nAssistant:", "Hello.", "", 1};
    Example b{"\n\nHuman: A much longer question about many things\n\nAssistant:", "Short.", "", 2};
    TokenizeOptions o;
    o.maxLen = 200;
    const TokenizedExample ta = tokenizeExample(*tokenizer, a, o);
    const TokenizedExample tb = tokenizeExample(*tokenizer, b, o);
    const Batch batch = collate({&ta, &tb}, 1, torch::kCPU);
    for (int row = 0; row < 2; ++row) {
        const TokenizedExample& t = row == 0 ? ta : tb;
        for (std::int64_t i = 0; i < batch.ids.size(1); ++i) {
            const auto label = batch.labels[row][i].item<std::int64_t>();
            const bool prompt = i < t.promptTokens;
            const bool padding = i >= static_cast<std::int64_t>(t.ids.size());
            QCOMPARE(label == -100, prompt || padding);
            QCOMPARE(batch.mask[row][i].item<std::int64_t>(), padding ? 0 : 1);
            if (!prompt && !padding) QCOMPARE(label, batch.ids[row][i].item<std::int64_t>());
        }
    }
    QCOMPARE(ta.ids.back(), tokenizer->eosId()); // answers end with EOS
    o.trainOnPrompt = true;
    const TokenizedExample withPrompt = tokenizeExample(*tokenizer, a, o);
    QCOMPARE(withPrompt.labels[0], ta.ids[0]);
}

void RunnerTests::truncation_keeps_the_answer_and_drops_old_turns()
{
    const auto tokenizer = loadTokenizer(test::fixtureModel("tiny-gpt-neox"));
    Example e;
    e.prompt = "\n\nHuman: First question that is long enough\n\nAssistant: First answer\n\nHuman: Second one?\n\nAssistant:";
    e.target = "The answer.";
    TokenizeOptions o;
    o.appendEos = false;
    const auto answer = tokenizer->encode(e.target);
    const auto lastTurn = tokenizer->encode("\n\nHuman: Second one?\n\nAssistant:");
    o.maxLen = static_cast<std::int64_t>(answer.size() + lastTurn.size() + 2);
    const TokenizedExample t = tokenizeExample(*tokenizer, e, o);
    QCOMPARE(t.droppedTurns, 1);
    QVERIFY(!t.answerCut);
    QVERIFY(static_cast<std::int64_t>(t.ids.size()) <= o.maxLen);
    QVERIFY(std::equal(answer.begin(), answer.end(), t.ids.end() - static_cast<std::ptrdiff_t>(answer.size())));
    QVERIFY(std::equal(lastTurn.begin(), lastTurn.end(), t.ids.begin()));
}

void RunnerTests::same_seed_same_losses()
{
    RunControl c1, c2, c3;
    RunConfig config = smallRun("seed_a");
    const auto a = runExperiment(config, c1, {});
    config.runsDir = (test::scratchDir("seed_b") / "runs").string();
    const auto b = runExperiment(config, c2, {});
    config.seed = 43;
    config.runsDir = (test::scratchDir("seed_c") / "runs").string();
    const auto c = runExperiment(config, c3, {});
    QVERIFY(stepLosses(a.summary.runDir) == stepLosses(b.summary.runDir));
    QVERIFY(stepLosses(a.summary.runDir) != stepLosses(c.summary.runDir));
    QVERIFY(a.summary.finalTrainLoss < a.summary.firstTrainLoss);
}

void RunnerTests::resume_matches_an_uninterrupted_run()
{
    RunControl straightControl;
    RunConfig config = smallRun("resume_straight");
    config.maxSteps = 10;
    const auto straight = runExperiment(config, straightControl, {});

    RunConfig interrupted = smallRun("resume_cut");
    interrupted.maxSteps = 10;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onStep = [&](const StepRecord& r) {
        if (r.step == 6) control.cancel.store(true);
    };
    const auto first = runExperiment(interrupted, control, callbacks);
    QCOMPARE(std::string(stopReasonName(first.summary.stopReason)), std::string("cancelled"));
    QCOMPARE(first.summary.steps, 6);
    RunControl again;
    const auto resumed = runExperiment(interrupted, again, {}, first.summary.runDir);
    QCOMPARE(std::string(stopReasonName(resumed.summary.stopReason)), std::string("completed"));
    const auto expected = stepLosses(straight.summary.runDir);
    const auto got = stepLosses(first.summary.runDir);
    QVERIFY(expected.size() == 10u);
    QVERIFY(got.size() == 10u);
    for (std::size_t i = 0; i < expected.size(); ++i) QCOMPARE_EQ(got[i], expected[i]);
}

void RunnerTests::cancel_takes_effect_within_one_step()
{
    RunConfig config = smallRun("cancel");
    config.maxSteps = 50;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onStep = [&](const StepRecord& r) {
        if (r.step == 3) control.cancel.store(true);
    };
    const auto r = runExperiment(config, control, callbacks);
    QCOMPARE(r.summary.steps, 3);
    QCOMPARE(std::string(stopReasonName(r.summary.stopReason)), std::string("cancelled"));
    CheckpointStore store(fs::path(r.summary.runDir) / "checkpoints");
    QVERIFY(store.resolve("last").has_value());
}

void RunnerTests::early_stopping_fires_and_keeps_best()
{
    RunConfig config = smallRun("early");
    config.maxSteps = 40;
    config.evalInterval = 2;
    config.patience = 2;
    config.minDelta = 100.0; // nothing after the first evaluation counts as better
    std::vector<EvalRecord> evals;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onEval = [&](const EvalRecord& e) { evals.push_back(e); };
    const auto r = runExperiment(config, control, callbacks);
    QCOMPARE(std::string(stopReasonName(r.summary.stopReason)), std::string("early_stopping"));
    QCOMPARE(r.summary.steps, 6);
    QVERIFY(evals.size() == 3u);
    QVERIFY(evals[0].improved);
    QCOMPARE(evals[2].evalsLeft, 0);
    QCOMPARE(r.summary.bestStep, 2);
    CheckpointStore store(fs::path(r.summary.runDir) / "checkpoints");
    QVERIFY(store.resolve("best").has_value());
    QCOMPARE(store.resolve("best")->filename().string(), std::string("step-000002"));
}

void RunnerTests::baseline_evaluation_before_training()
{
    RunConfig config = smallRun("baseline");
    config.evalAtStart = true;
    config.maxSteps = 4;
    std::vector<EvalRecord> evals;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onEval = [&](const EvalRecord& e) { evals.push_back(e); };
    runExperiment(config, control, callbacks);
    QVERIFY(evals.size() == 2u);
    QCOMPARE(evals[0].step, 0);
    QCOMPARE(evals[1].step, 4);
    QVERIFY(evals[1].loss < evals[0].loss);
    QVERIFY(evals[1].improved);
}

void RunnerTests::user_can_stop_and_change_patience_mid_run()
{
    RunConfig config = smallRun("steer");
    config.maxSteps = 40;
    config.evalInterval = 2;
    config.patience = 1;
    config.minDelta = 100.0;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onStep = [&](const StepRecord& r) {
        if (r.step == 1) control.patience.store(10); // would have stopped at step 4 with patience 1
        if (r.step == 9) control.stopKeepBest.store(true);
    };
    const auto r = runExperiment(config, control, callbacks);
    QCOMPARE(std::string(stopReasonName(r.summary.stopReason)), std::string("user_stop"));
    QCOMPARE(r.summary.steps, 9);
}

void RunnerTests::non_finite_loss_stops_and_keeps_the_last_good_checkpoint()
{
    RunConfig config = smallRun("nan");
    config.method = RunMethod::Full;
    config.learningRate = 1e30; // the first update blows the weights up
    config.maxGradNorm = 0.0;
    config.schedule = "constant";
    config.maxSteps = 10;
    config.checkpointInterval = 1;
    config.evalInterval = 0;
    RunControl control;
    const auto r = runExperiment(config, control, {});
    QCOMPARE(std::string(stopReasonName(r.summary.stopReason)), std::string("non_finite_loss"));
    QVERIFY(r.summary.steps >= 1);
    CheckpointStore store(fs::path(r.summary.runDir) / "checkpoints");
    const auto last = store.resolve("last");
    QVERIFY(last.has_value());
    const auto state = nlohmann::json::parse(readTextFile(*last / "trainer_state.json"));
    QCOMPARE(state["step"].get<std::int64_t>(), r.summary.steps);
    QVERIFY(readTextFile(fs::path(r.summary.runDir) / "events.log").find("no update was made") != std::string::npos);
}

void RunnerTests::bad_inputs_are_reported_before_anything_is_written()
{
    RunConfig config = smallRun("bad");
    RunControl control;
    config.dataset = "/nonexistent/train.jsonl";
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "/nonexistent/train.jsonl", "not found");
    config = smallRun("bad2");
    config.loraTargets = {"q_proj"};
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "q_proj");
    config = smallRun("bad3");
    config.batchSize = 0;
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "batch_size");
    QVERIFY(!fs::exists(config.runsDir));
}

namespace {

// Every file of the run reads back; a killed process may leave at most a
// partial last line in the JSONL logs.
void checkRunReadable(const fs::path& run)
{
    VERIFY_JSON(readTextFile(run / "config.json"));
    for (const char* log : {"metrics.jsonl", "samples.jsonl"}) {
        if (!fs::exists(run / log)) continue;
        std::istringstream in(readTextFile(run / log));
        std::vector<std::string> lines;
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        for (std::size_t i = 0; i + 1 < lines.size(); ++i) VERIFY_JSON(lines[i]);
    }
    CheckpointStore store(run / "checkpoints");
    for (const char* label : {"last", "best"}) {
        const auto dir = store.resolve(label);
        if (!dir) continue;
        VERIFY_JSON(readTextFile(*dir / "trainer_state.json"));
        QVERIFY(SafetensorsFile(*dir / "adapter_model.safetensors").names().size() > 0);
    }
}

// The size of a file, 0 while it does not exist.
std::uintmax_t sizeOrZero(const fs::path& path)
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

} // namespace

// Each round starts the CLI (fresh, then resuming), waits until it trains
// (the run directory appears, or the metrics log grows), lets it go on for a
// random 0-1.2 s and kills it: the moment falls anywhere in a step, an
// evaluation or a checkpoint write (one after every step). Waiting for
// progress rather than for a fixed time keeps the test meaningful on a loaded
// machine, where start-up alone can take a second.
void RunnerSlowTests::sigkill_at_random_moments_then_resume()
{
    RunConfig config = smallRun("sigkill");
    // Long enough that twelve rounds of kills cannot finish it early on a fast
    // machine; the last resume then trains what is left.
    config.maxSteps = 300;
    config.earlyStopping = false; // the run must reach max_steps
    config.evalInterval = 3;
    config.checkpointInterval = 1; // a checkpoint write is always close by
    const fs::path dir = fs::path(config.runsDir).parent_path();
    writeFileAtomic(dir / "config.json", runConfigToJson(config));

    std::mt19937 rng(12345);
    std::string runDir;
    int kills = 0;
    bool finished = false; // a resumed process reached max_steps between kills
    for (int round = 0; round < 12; ++round) {
        std::vector<std::string> args = {"run", (dir / "config.json").string(), "--threads", "1"};
        if (!runDir.empty()) args = {"run", "--resume", runDir, "--threads", "1"};
        const std::uintmax_t logSize = runDir.empty() ? 0 : sizeOrZero(fs::path(runDir) / "metrics.jsonl");
        const fs::path log = dir / ("round-" + std::to_string(round) + ".log");
        const pid_t pid = test::startCli(args, log.string());
        QVERIFY(pid > 0);
        int status = 0;
        // Past two minutes without progress the process is killed all the same.
        const bool training = test::waitForOrExit(pid, [&] {
            if (runDir.empty()) return fs::exists(config.runsDir) && !fs::is_empty(config.runsDir);
            return sizeOrZero(fs::path(runDir) / "metrics.jsonl") > logSize;
        }, status, 120) || status == -1;
        bool killed = false;
        if (training) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1200)(rng)));
            killed = ::kill(pid, SIGKILL) == 0;
            ::waitpid(pid, &status, 0);
        }
        if (runDir.empty()) {
            if (fs::exists(config.runsDir))
                for (const auto& e : fs::directory_iterator(config.runsDir)) runDir = e.path().string();
            if (runDir.empty()) continue; // killed before the run directory existed
        }
        if (killed && WIFSIGNALED(status)) ++kills;
        CALL_CHECKS(checkRunReadable(runDir));
        // Resuming needs a "last" checkpoint; before the first one the run starts over.
        if (!CheckpointStore(fs::path(runDir) / "checkpoints").resolve("last")) {
            fs::remove_all(runDir);
            runDir.clear();
        }
        if (WIFEXITED(status)) { // the run finished before the kill
            if (WEXITSTATUS(status) != 0) std::cout << "round " << round << ":\n" << readTextFile(log) << "\n";
            QCOMPARE(WEXITSTATUS(status), 0);
            finished = true;
            break;
        }
        // Killed after it wrote its summary, while it exited: finished all the same.
        if (fs::exists(fs::path(runDir) / "summary.json") && readRunDirectory(runDir).summary.steps == config.maxSteps) {
            finished = true;
            break;
        }
    }
    std::cout << "survived " << kills << " kills\n";
    QVERIFY(kills >= 5);
    QVERIFY(!runDir.empty());
    if (!finished) { // the last resume trains what is left
        const pid_t pid = test::startCli({"run", "--resume", runDir, "--threads", "1"});
        int status = 0;
        ::waitpid(pid, &status, 0);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CALL_CHECKS(checkRunReadable(runDir));
    const auto records = readRunDirectory(runDir);
    QVERIFY(!records.steps.empty());
    QCOMPARE(records.steps.back().step, config.maxSteps);
    // Each step appears once: work repeated after a kill replaced its first record.
    for (std::size_t i = 0; i < records.steps.size(); ++i) QCOMPARE(records.steps[i].step, static_cast<std::int64_t>(i + 1));
    QVERIFY(records.hasSummary);
}

namespace {

// The fixture batch as a prompt/completion file, written to `file`: each row's
// text split where its labels begin.
void fixtureAsCompletions(const std::string& name, const fs::path& dir, fs::path& file)
{
    const auto ref = nlohmann::json::parse(readTextFile(test::reference(name + ".json")));
    const auto tokenizer = loadTokenizer(test::fixtureModel(name));
    std::string lines;
    for (std::size_t row = 0; row < ref["input_ids"].size(); ++row) {
        std::vector<std::int64_t> prompt, completion;
        for (std::size_t t = 0; t < ref["input_ids"][row].size(); ++t) {
            if (ref["attention_mask"][row][t].get<int>() == 0) continue;
            const auto id = ref["input_ids"][row][t].get<std::int64_t>();
            (ref["labels"][row][t].get<std::int64_t>() == -100 ? prompt : completion).push_back(id);
        }
        const nlohmann::json record = {{"prompt", tokenizer->decode(prompt)}, {"completion", tokenizer->decode(completion)}};
        // The file is only a faithful copy of the batch if the texts tokenize back to the same ids.
        QVERIFY(tokenizer->encode(record["prompt"].get<std::string>()) == prompt);
        QVERIFY(tokenizer->encode(record["completion"].get<std::string>()) == completion);
        lines += record.dump() + "\n";
    }
    file = dir / "completions.jsonl";
    writeFileAtomic(file, lines);
}

} // namespace

void RunnerParityTests::eval_command_gives_the_reference_losses()
{
    const std::string name = test::currentModel();
    const auto ref = nlohmann::json::parse(readTextFile(test::reference(name + ".json")));
    fs::path file;
    CALL_CHECKS(fixtureAsCompletions(name, test::scratchDir("eval_" + name), file));
    const CompletionEval base = evaluateCompletions(test::fixtureModel(name).string(), "", file.string(), "cpu", 1);
    const CompletionEval lora =
        evaluateCompletions(test::fixtureModel(name).string(), test::fixtureAdapter(name).string(), file.string(), "cpu", 2);
    VERIFY_NEAR(base.loss, ref["base_loss"].get<double>(), 1e-5);
    VERIFY_NEAR(lora.loss, ref["lora_loss"].get<double>(), 1e-5);
    QCOMPARE(base.tokens, lora.tokens);
}

// The same short LoRA SFT run on the embedded model, on the CPU and on the GPU:
// the GPU's losses track the CPU's, and its memory figures come from the CUDA
// caching allocator (bytes held by tensors), not from the process.
void RunnerGpuTests::sft_run_tracks_the_cpu_run()
{
    const auto configFor = [](const std::string& device) {
        RunConfig c = smallRun("gpu_sft_" + device);
        c.model = "default";
        c.dataset = "default:dialogues";
        c.maxSteps = 20;
        c.batchSize = 8;
        c.maxLen = 128;
        c.loraDropout = 0.0; // dropout masks come from each device's own generator
        c.evalInterval = 10;
        c.checkpointInterval = 10;
        c.device = device;
        return c;
    };
    RunControl cpuControl, gpuControl;
    const auto onCpu = runExperiment(configFor("cpu"), cpuControl, {});
    const auto onGpu = runExperiment(configFor("cuda"), gpuControl, {});
    const RunRecords cpu = readRunDirectory(onCpu.summary.runDir);
    const RunRecords gpu = readRunDirectory(onGpu.summary.runDir);
    QVERIFY(cpu.steps.size() == 20u);
    QVERIFY(gpu.steps.size() == 20u);
    // Step 1 is a forward pass of identical weights: fp32 parity. Later steps
    // differ by summation order only, which AdamW's normalised updates carry
    // forward; 0.5 % over 20 steps still catches any wrong kernel.
    VERIFY_NEAR(gpu.steps[0].loss, cpu.steps[0].loss, 1e-5);
    double worst = 0.0;
    for (std::size_t i = 0; i < cpu.steps.size(); ++i) {
        const double relative = std::fabs(gpu.steps[i].loss - cpu.steps[i].loss) / std::fabs(cpu.steps[i].loss);
        worst = std::max(worst, relative);
        QVERIFY(relative <= 5e-3);
    }
    std::cout << "CPU " << cpu.steps.front().loss << " -> " << cpu.steps.back().loss << ", GPU " << gpu.steps.front().loss
              << " -> " << gpu.steps.back().loss << "; worst relative difference " << worst << "\n";
    QVERIFY(gpu.steps.back().loss < gpu.steps.front().loss);

    const auto allocator = compat::cudaAllocatorBytes(0);
    for (const auto& s : gpu.steps) {
        QVERIFY(s.memoryBytes >= s.estimate.weightBytes);
        QVERIFY(s.peakMemoryBytes >= s.memoryBytes);
        QVERIFY(s.peakMemoryBytes <= allocator.reserved);
    }
    // Tensors alone on the GPU, against the whole process's resident set on the CPU.
    QVERIFY(gpu.steps.back().peakMemoryBytes < cpu.steps.back().peakMemoryBytes);
    std::cout << "GPU peak " << gpu.steps.back().peakMemoryBytes << " bytes (allocator reserves " << allocator.reserved
              << "), CPU resident peak " << cpu.steps.back().peakMemoryBytes << "\n";
}

// A GPU that is not there is refused by name before anything is written.
void RunnerTests::missing_gpu_is_refused_before_the_run_starts()
{
    RunConfig config = smallRun("missing_gpu");
    config.device = "cuda:7";
    RunControl control;
    if (compat::cudaDeviceCount() > 7) QSKIP("this machine has a cuda:7");
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "cuda:7");
    QVERIFY(!fs::exists(config.runsDir) || fs::is_empty(config.runsDir));
    config.device = "cuda:x";
    VERIFY_THROWS_WITH(runExperiment(config, control, {}), "unknown device 'cuda:x'");
}

#include "test_runner.moc"
