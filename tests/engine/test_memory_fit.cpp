// Whether a run fits before it starts: the estimate against a budget
// (memory_limit_gib here, so the outcome does not depend on the machine),
// each lever's estimate as the estimate of the run with that change, only
// levers that apply, and a run that does not fit refused before its folder
// exists, with the levers that would make it fit.
#include "engine_test.h"
#include "run_fixture.h"

#include "engine/commands/bench.h"
#include "engine/run/memory_fit.h"
#include "engine/run/runner.h"

#include <map>

using namespace loralab;
using namespace loralab::test;

class MemoryFitTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void levers_of_a_run_that_does_not_fit();
    void levers_of_a_lora_run_and_what_does_not_apply();
    void run_that_does_not_fit_is_refused_before_its_folder();
    void bench_reports_memory_by_kind();
};
REGISTER_TESTS(MemoryFitTests);

namespace {

constexpr double kGib = double(std::int64_t{1} << 30);

std::map<std::string, MemoryLever> leversByOption(const MemoryFit& fit)
{
    std::map<std::string, MemoryLever> out;
    for (const MemoryLever& l : fit.levers) out[l.setting.substr(0, l.setting.find(' '))] = l;
    return out;
}

std::int64_t valueOf(const MemoryLever& l) { return std::stoll(l.setting.substr(l.setting.find(' ') + 1)); }

RunConfig fullRun()
{
    RunConfig c;
    c.model = "preset:pythia-70m"; // built on the meta device: nothing is allocated
    c.method = Method::Full;
    c.batchSize = 16;
    c.maxLen = 128;
    c.device = "cpu";
    return c;
}

} // namespace

void MemoryFitTests::levers_of_a_run_that_does_not_fit()
{
    RunConfig c = fullRun();
    const MemoryFit free = planMemory(c);
    QVERIFY(free.estimate.total() > 0);
    QCOMPARE(free.sequenceLength, c.maxLen);
    // A budget 70 % of the estimate: the run does not fit, some levers do.
    c.memoryLimitGib = 0.7 * static_cast<double>(free.estimate.total()) / kGib;
    const MemoryFit fit = planMemory(c);
    QVERIFY(!fit.fits && fit.limited);
    QCOMPARE(fit.estimate.total(), free.estimate.total());
    QVERIFY(std::llabs(fit.budgetBytes - static_cast<std::int64_t>(c.memoryLimitGib * kGib)) <= 1);
    const auto levers = leversByOption(fit);
    for (const char* option : {"batch_size", "max_len", "activation_checkpointing", "method", "dtype"})
        QVERIFY2(levers.count(option), option);
    // A full run has no quantized-base lever (a quantized base cannot train).
    QVERIFY(!levers.count("base_quantization"));
    for (const MemoryLever& l : fit.levers) {
        QVERIFY2(l.estimate.total() < fit.estimate.total(), l.setting.c_str());
        QCOMPARE(l.fits, l.estimate.total() <= fit.budgetBytes);
    }
    // Each lever's estimate is that of the run with the change.
    RunConfig checkpointed = c;
    checkpointed.activationCheckpointing = 1;
    QCOMPARE(levers.at("activation_checkpointing").estimate.total(), planMemory(checkpointed).estimate.total());
    RunConfig lora = c;
    lora.method = Method::Lora;
    QCOMPARE(levers.at("method").estimate.total(), planMemory(lora).estimate.total());
    // The batch lever is the largest batch that fits, with the micro-batches
    // that keep the sequences a step sees.
    const MemoryLever& batch = levers.at("batch_size");
    QVERIFY(batch.fits);
    const std::int64_t b = valueOf(batch);
    QVERIFY(b >= 1 && b < c.batchSize);
    RunConfig smaller = c;
    smaller.batchSize = b;
    QCOMPARE(planMemory(smaller).estimate.total(), batch.estimate.total());
    smaller.batchSize = b + 1;
    QVERIFY(!planMemory(smaller).fits);
    QVERIFY2(batch.setting.find("grad_accum " + std::to_string((16 + b - 1) / b)) != std::string::npos, batch.setting.c_str());
    // max_len: a multiple of 8 that fits.
    const MemoryLever& length = levers.at("max_len");
    QVERIFY(length.fits && valueOf(length) % 8 == 0 && valueOf(length) < c.maxLen);
    // The refusal names the budget and what fits.
    const std::string refusal = fit.refusal(c);
    QVERIFY2(missingFragments(refusal, {"memory_limit_gib", "it fits with any of", batch.setting, "batch_size 16 x 128 tokens"}).empty(),
             refusal.c_str());
    // A budget nothing alone meets: every lever together is tried.
    c.memoryLimitGib = 0.05 * static_cast<double>(free.estimate.total()) / kGib;
    const MemoryFit tight = planMemory(c);
    QVERIFY(!tight.fits);
    for (const MemoryLever& l : tight.levers) QVERIFY2(!l.fits, l.setting.c_str());
    QVERIFY(!tight.combined.empty());
    QVERIFY(tight.combined.front().estimate.total() < levers.at("method").estimate.total());
    QVERIFY2(missingFragments(tight.refusal(c), {"no lever alone makes it fit", "all of these together"}).empty(),
             tight.refusal(c).c_str());
}

void MemoryFitTests::levers_of_a_lora_run_and_what_does_not_apply()
{
    RunConfig c = fullRun();
    c.method = Method::Lora;
    const auto levers = leversByOption(planMemory(c));
    QVERIFY(!levers.count("method"));
    // The quantized bases: int8 and NF4 hold less than the fp32 weights, NF4 the least.
    const MemoryFit plain = planMemory(c);
    std::int64_t int8 = 0, nf4 = 0;
    for (const MemoryLever& l : plain.levers) {
        if (l.setting == "base_quantization int8") int8 = l.estimate.weightBytes;
        if (l.setting.rfind("base_quantization nf4", 0) == 0) nf4 = l.estimate.weightBytes;
    }
    QVERIFY(nf4 > 0 && nf4 < int8 && int8 < plain.estimate.weightBytes);
    // With a 4-bit base and bf16 already: no quantization or dtype lever.
    c.baseQuantization = BaseQuantization::Nf4;
    c.dtype = WeightDType::Bf16;
    const MemoryFit quantized = planMemory(c);
    QVERIFY(quantized.estimate.weightBytes < plain.estimate.weightBytes / 2);
    const auto quantizedLevers = leversByOption(quantized);
    QVERIFY(!quantizedLevers.count("base_quantization") && !quantizedLevers.count("dtype"));
    // A model of one block has no checkpointing lever, and a batch of one no batch lever.
    RunConfig small = fullRun();
    small.model = oneBlockModel("memory-fit-one-block").string();
    small.batchSize = 1;
    const auto oneBlock = leversByOption(planMemory(small));
    QVERIFY(!oneBlock.count("activation_checkpointing"));
    QVERIFY(!oneBlock.count("batch_size"));
    QVERIFY(oneBlock.count("max_len"));
}

void MemoryFitTests::run_that_does_not_fit_is_refused_before_its_folder()
{
    RunConfig c = smallRun("memory-fit-refused");
    c.method = Method::Full;
    c.memoryLimitGib = 1e-4; // 105 kB: less than the tiny model's weights
    RunControl control;
    VERIFY_THROWS_WITH(trainRun(c, control, {}), "a training step needs about", "memory_limit_gib", "no lever alone makes it fit");
    QVERIFY(!std::filesystem::exists(c.runsDir) || std::filesystem::is_empty(c.runsDir));
    // With room for it the same run starts (and is written).
    c.memoryLimitGib = 1.0;
    c.maxSteps = 1;
    c.evalInterval = 0;
    c.checkpointInterval = 0;
    const RunResult r = trainRun(c, control, {});
    QVERIFY(std::filesystem::exists(r.summary.runDir));
}

void MemoryFitTests::bench_reports_memory_by_kind()
{
    // The embedded model, LoRA over an NF4 base at 8 x 128: the measured peak
    // by kind adds up to the tensor peak, and the estimate is near it.
    BenchConfig c;
    c.model = "default";
    c.batchSize = 8;
    c.sequenceLength = 128;
    c.baseQuantization = BaseQuantization::Nf4;
    c.doubleQuant = true;
    c.steps = 2;
    c.warmupSteps = 1;
    c.threads = 1;
    c.device = "cpu";
    const BenchResult r = runBench(c);
    QCOMPARE(r.measured.total(), r.tensorPeakBytes);
    // The base as quantized, and the adapters (fp32, as large as their gradients).
    QCOMPARE(r.measured.weightBytes, r.weightBytes + r.measured.gradientBytes);
    QCOMPARE(r.estimate.weightBytes, r.measured.weightBytes);
    QCOMPARE(r.estimate.gradientBytes, r.measured.gradientBytes);
    QCOMPARE(r.estimate.optimizerBytes, r.measured.optimizerBytes);
    QVERIFY(r.measured.activationBytes > 0);
    const double ratio = static_cast<double>(r.estimate.total()) / static_cast<double>(r.measured.total());
    QVERIFY2(std::fabs(ratio - 1.0) <= 0.10, std::to_string(ratio).c_str());
    const nlohmann::json j = nlohmann::json::parse(benchResultToJson(r));
    QCOMPARE(j["memory_measured"]["total"].get<std::int64_t>(), r.tensorPeakBytes);
    QCOMPARE(j["memory_estimate"]["activations"].get<std::int64_t>(), r.estimate.activationBytes);
}

#include "test_memory_fit.moc"
