// A run over a quantized base (run option base_quantization): it trains its
// adapters, holds the codes rather than the dense weights, estimates what it
// holds, and refuses the combinations that cannot train.
#include "engine_test.h"
#include "run_fixture.h"

#include "engine/config/run_config.h"
#include "engine/run/runner.h"

#include <algorithm>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

// The problems validateRunConfig finds, joined, for messages.
std::string problemsOf(const RunConfig& c)
{
    std::string out;
    for (const auto& p : validateRunConfig(c)) out += p + "\n";
    return out;
}

} // namespace

class QuantizedRunTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void nf4_run_trains_its_adapters_over_fewer_weight_bytes();
    void levers_that_do_not_apply_are_refused();
};
REGISTER_TESTS(QuantizedRunTests);

void QuantizedRunTests::nf4_run_trains_its_adapters_over_fewer_weight_bytes()
{
    RunConfig dense = test::smallRun("quant_run_dense");
    dense.maxSteps = 6;
    dense.checkpointInterval = 0;
    RunConfig quantized = test::smallRun("quant_run_nf4");
    quantized.maxSteps = 6;
    quantized.checkpointInterval = 0;
    quantized.baseQuantization = BaseQuantization::Nf4;
    quantized.doubleQuant = true;
    QVERIFY2(problemsOf(quantized).empty(), problemsOf(quantized).c_str());
    RunControl c1, c2;
    const RunResult a = trainRun(dense, c1, {});
    std::vector<std::string> notes;
    RunCallbacks callbacks;
    callbacks.onEvent = [&](const std::string& m) { notes.push_back(m); };
    const RunResult b = trainRun(quantized, c2, callbacks);
    QVERIFY(b.summary.state == RunState::Completed);
    QCOMPARE(b.summary.steps, 6);
    QVERIFY(b.summary.finalTrainLoss < b.summary.firstTrainLoss);
    // The same adapters train; the base loses about 7/8 of its linear bytes.
    QCOMPARE(b.summary.trainableParams, a.summary.trainableParams);
    QCOMPARE(b.summary.totalParams, a.summary.totalParams); // the quantized weights still count
    QVERIFY2(b.summary.measured.weightBytes < a.summary.measured.weightBytes,
             (std::to_string(b.summary.measured.weightBytes) + " vs " + std::to_string(a.summary.measured.weightBytes)).c_str());
    // What the run holds is what it estimated it would.
    QCOMPARE(b.summary.estimate.weightBytes, b.summary.measured.weightBytes);
    QCOMPARE(b.summary.estimate.optimizerBytes, b.summary.measured.optimizerBytes);
    // The run says what it did to the base.
    QVERIFY(std::any_of(notes.begin(), notes.end(), [](const std::string& m) {
        return m.find("linear layers as nf4 (double quantization)") != std::string::npos;
    }));
    // The configuration keeps the choice, so a resume quantizes alike.
    const RunConfig back = parseRunConfig(readTextFile(fs::path(b.summary.runDir) / "config.json"), "config.json");
    QVERIFY(back.baseQuantization == BaseQuantization::Nf4 && back.doubleQuant);
}

void QuantizedRunTests::levers_that_do_not_apply_are_refused()
{
    RunConfig c;
    c.method = Method::Full;
    c.baseQuantization = BaseQuantization::Int8;
    QVERIFY(problemsOf(c).find("base_quantization") != std::string::npos);
    QVERIFY(problemsOf(c).find("method lora") != std::string::npos);
    c.method = Method::Lora;
    QVERIFY2(problemsOf(c).empty(), problemsOf(c).c_str());
    c.doubleQuant = true;
    QVERIFY(problemsOf(c).find("double_quant") != std::string::npos);
    RunConfig named;
    setRunOption(named, "base_quantization", "fp4");
    QVERIFY(named.baseQuantization == BaseQuantization::Fp4);
    VERIFY_THROWS_WITH(setRunOption(named, "base_quantization", "q4_0"), "base_quantization", "none, int8, nf4 or fp4");
}

#include "test_quantized_run.moc"
