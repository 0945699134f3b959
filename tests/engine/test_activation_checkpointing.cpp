// Activation checkpointing: a checkpointed block keeps only its input and
// runs again in backward from the random state of its first run, so the
// loss and every gradient equal those of the model without checkpointing
// (LoRA with dropout and full fine-tuning, every block and every second
// block, on each fixture architecture), while the activations held between
// forward and backward shrink; a training run with it takes the same steps as
// one without (SFT and DPO); and settings that cannot help are refused.
#include "engine_test.h"
#include "lora_fixture.h"
#include "run_fixture.h"

#include "engine/config/resources.h"
#include "engine/lora/lora.h"
#include "engine/records/metrics.h"
#include "engine/run/runner.h"
#include "engine/train/memory.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace loralab;
using namespace loralab::test;

class ActivationCheckpointingTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void checkpointed_gradients_equal_plain_data() { fixtureModelRows(); }
    void checkpointed_gradients_equal_plain();
    void checkpointing_holds_fewer_activations();
    void runs_with_checkpointing_take_the_same_steps();
    void checkpointing_that_cannot_help_is_refused();
};
REGISTER_TESTS(ActivationCheckpointingTests);

namespace {

struct Pass {
    double loss = 0;
    std::vector<std::pair<std::string, torch::Tensor>> grads;
};

Pass lossAndGradients(CausalLMImpl& net, const Batch& b, std::int64_t checkpointEvery)
{
    net.setActivationCheckpointing(checkpointEvery);
    net.zero_grad();
    torch::manual_seed(1234); // the dropout masks
    const torch::Tensor loss = modelLoss(net, b.ids, b.mask, b.labels).loss;
    loss.backward();
    Pass out;
    out.loss = loss.item<double>();
    for (auto& item : net.named_parameters()) {
        const torch::Tensor& p = item.value();
        if (p.requires_grad()) out.grads.emplace_back(item.key(), p.grad().defined() ? p.grad().clone() : torch::Tensor());
    }
    net.setActivationCheckpointing(0);
    return out;
}

// Bytes the model's tensors hold once the loss is computed (the graph alive), beyond the weights.
std::int64_t heldAfterForward(CausalLMImpl& net, const Batch& b, std::int64_t checkpointEvery)
{
    net.setActivationCheckpointing(checkpointEvery);
    TensorMemoryScope scope;
    const std::int64_t before = scope.currentBytes();
    torch::Tensor loss = modelLoss(net, b.ids, b.mask, b.labels).loss;
    const std::int64_t held = scope.currentBytes() - before;
    loss.backward();
    net.setActivationCheckpointing(0);
    return held;
}

// The tiny fixture model on the small dialogue set (chosen and rejected answers, for DPO too).
RunConfig shortRun(const std::string& name, Objective objective)
{
    RunConfig c = smallRun(name);
    c.objective = objective;
    c.maxSteps = 3;
    c.evalInterval = 0;
    c.checkpointInterval = 0;
    c.tensorboard = false;
    return c;
}

std::vector<double> lossesOfRun(const RunConfig& config)
{
    RunControl control;
    return stepLosses(trainRun(config, control, {}).summary.runDir);
}

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

void ActivationCheckpointingTests::checkpointed_gradients_equal_plain()
{
    const std::string name = currentModel();
    for (const bool lora : {true, false}) {
        Fixture f = openFixture(name, lora);
        if (lora) setLoraDropout(*f.model.net, 0.1); // the recomputed forward must draw the same masks
        setTrainable(*f.model.net, lora ? Method::Lora : Method::Full);
        f.model.net->train();
        const Pass plain = lossAndGradients(*f.model.net, f.batch, 0);
        for (const std::int64_t every : {1, 2}) {
            const Pass ckpt = lossAndGradients(*f.model.net, f.batch, every);
            QCOMPARE_EQ(ckpt.loss, plain.loss);
            QCOMPARE(ckpt.grads.size(), plain.grads.size());
            QVERIFY(!plain.grads.empty());
            for (std::size_t i = 0; i < plain.grads.size(); ++i) {
                const auto& [key, g] = plain.grads[i];
                QVERIFY2(g.defined() && ckpt.grads[i].second.defined(), key.c_str());
                QVERIFY2(g.abs().max().item<double>() > 0, key.c_str());
                const double diff = (ckpt.grads[i].second - g).abs().max().item<double>();
                const double scale = g.abs().max().item<double>();
                QVERIFY2(diff <= 1e-6 * scale, qPrintable(QStringLiteral("%1 %2 every %3: %4 off (max %5)")
                                                              .arg(lora ? "lora" : "full", key.c_str())
                                                              .arg(every)
                                                              .arg(diff)
                                                              .arg(scale)));
            }
        }
    }
}

void ActivationCheckpointingTests::checkpointing_holds_fewer_activations()
{
    // The embedded model at a length where blocks dominate what the forward keeps.
    LoadedModel m = loadModel(resolveModelSpec("default"), LoadOptions{});
    CausalLMImpl& net = *m.net;
    AdapterConfig a;
    a.rank = 8;
    a.alpha = 16;
    a.dropout = 0.05;
    a.targetModules = {"all-linear"};
    applyLora(net, a);
    setTrainable(net, Method::Lora);
    net.train();
    torch::manual_seed(3);
    const std::int64_t B = 4, T = 128;
    Batch b{torch::randint(0, net.config().vocabSize, {B, T}, torch::kLong), torch::ones({B, T}, torch::kLong), {}};
    b.labels = b.ids.clone();
    const std::int64_t plain = heldAfterForward(net, b, 0);
    const std::int64_t every = heldAfterForward(net, b, 1);
    const std::int64_t half = heldAfterForward(net, b, 2);
    // Every block checkpointed keeps a block input each ([B, T, hidden]) and the head's part.
    const std::int64_t inputs = net.config().numLayers * B * T * net.config().hiddenSize * 4;
    QVERIFY2(every < plain / 3, qPrintable(QStringLiteral("%1 vs %2").arg(every).arg(plain)));
    QVERIFY2(every >= inputs, qPrintable(QStringLiteral("%1 < %2").arg(every).arg(inputs)));
    QVERIFY2(half > every && half < plain, qPrintable(QStringLiteral("%1 %2 %3").arg(plain).arg(half).arg(every)));
}

void ActivationCheckpointingTests::runs_with_checkpointing_take_the_same_steps()
{
    for (const Objective objective : {Objective::Sft, Objective::Dpo}) {
        RunConfig c = shortRun(objective == Objective::Dpo ? "checkpointing-dpo" : "checkpointing-sft", objective);
        const std::vector<double> plain = lossesOfRun(c);
        c.activationCheckpointing = 1;
        const std::vector<double> ckpt = lossesOfRun(c);
        QCOMPARE(ckpt.size(), std::size_t{3});
        QCOMPARE(ckpt.size(), plain.size());
        // The dropout masks of each step are drawn as without checkpointing:
        // the steps agree to rounding (the recomputed forward sums in the same order).
        for (std::size_t i = 0; i < plain.size(); ++i) VERIFY_NEAR(ckpt[i], plain[i], 1e-5 * std::abs(plain[i]));
    }
}

void ActivationCheckpointingTests::checkpointing_that_cannot_help_is_refused()
{
    RunConfig c = shortRun("checkpointing-refused", Objective::Sft);
    const std::string runs = c.runsDir;
    c.activationCheckpointing = 3; // of 2 blocks
    RunControl control;
    const std::string tooSparse = errorOf([&] { trainRun(c, control, {}); });
    QVERIFY2(missingFragments(tooSparse, {"activation_checkpointing 3", "2 blocks", "choose 1 to 2"}).empty(), tooSparse.c_str());
    // A model of one block: the fixture with its second block left out.
    c.model = oneBlockModel("one-block-model").string();
    c.activationCheckpointing = 1;
    const std::string oneBlock = errorOf([&] { trainRun(c, control, {}); });
    QVERIFY2(missingFragments(oneBlock, {"activation_checkpointing 1", "has one transformer block", "saving nothing"}).empty(), oneBlock.c_str());
    // Nothing was written for either.
    QVERIFY(!std::filesystem::exists(runs) || std::filesystem::is_empty(runs));
    // And a negative setting is refused with the option named.
    c.activationCheckpointing = -1;
    QVERIFY(validateRunConfig(c).size() == 1 && validateRunConfig(c)[0].rfind("activation_checkpointing:", 0) == 0);
}

#include "test_activation_checkpointing.moc"
