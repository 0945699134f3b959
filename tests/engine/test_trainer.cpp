// The trainer against PyTorch and transformers: exact resume from a
// checkpoint, learning-rate schedules, gradient accumulation, the flat AdamW
// buffers and the head's loss in chunks.
#include "engine_test.h"
#include "lora_fixture.h"

#include "engine/io/safetensors.h"
#include "engine/model/model_summary.h"
#include "engine/train/token_log_probs.h"
#include "engine/util/error.h"

using namespace loralab;
using namespace loralab::test;

class TrainerTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void resume_gives_the_same_losses();
    void schedules_follow_transformers();
    void gradient_accumulation_equals_one_big_batch();
};
REGISTER_TESTS(TrainerTests);

class TrainerParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void flat_adamw_matches_one_tensor_at_a_time();
    void chunked_head_loss_matches_whole_logits_data() { loralab::test::fixtureModelRows(); }
    void chunked_head_loss_matches_whole_logits();
};
REGISTER_TESTS(TrainerParityTests);

namespace {

std::vector<double> trainLosses(Trainer& trainer, const Batch& batch, int steps)
{
    std::vector<double> losses;
    for (int i = 0; i < steps; ++i) losses.push_back(trainer.step({batch}).loss);
    return losses;
}

// The losses of each step, into `losses`.
void resumeRun(Method method, int firstSteps, int moreSteps, bool interrupt, std::vector<double>& losses)
{
    Fixture f = openFixture("tiny-gpt-neox", false);
    if (method == Method::Lora) {
        AdapterConfig c;
        c.rank = 4;
        c.dropout = 0.1; // exercises the random state
        c.targetModules = {"all-linear"};
        torch::manual_seed(1);
        applyLora(*f.model.net, c);
    }
    TrainConfig config = fixtureOptimizer(method);
    config.schedule = Schedule::Cosine;
    config.warmupSteps = 2;
    config.totalSteps = firstSteps + moreSteps;
    torch::manual_seed(7);
    auto trainer = std::make_unique<Trainer>(f.model.net, config);
    losses = trainLosses(*trainer, f.batch, firstSteps);
    if (interrupt) {
        const auto dir = scratchDir(std::string("resume_") + choiceName(method));
        trainer->saveCheckpoint(dir, {{"position", 3}}, true, fixtureModel("tiny-gpt-neox"), "tiny-gpt-neox");
        for (int i = 0; i < 3; ++i) trainer->step({f.batch}); // work that is thrown away
        Fixture g = openFixture("tiny-gpt-neox", false);
        if (method == Method::Lora) loadAdapter(*g.model.net, dir);
        trainer = std::make_unique<Trainer>(g.model.net, config);
        QCOMPARE(trainer->loadCheckpoint(dir)["position"].get<int>(), 3);
        QCOMPARE(trainer->stepCount(), firstSteps);
        f = std::move(g);
    }
    for (double l : trainLosses(*trainer, f.batch, moreSteps)) losses.push_back(l);
}

} // namespace

void TrainerTests::resume_gives_the_same_losses()
{
    for (Method method : {Method::Lora, Method::Full}) {
        std::vector<double> straight, resumed;
        CALL_CHECKS(resumeRun(method, 3, 3, false, straight));
        CALL_CHECKS(resumeRun(method, 3, 3, true, resumed));
        QVERIFY(straight.size() == resumed.size());
        for (std::size_t i = 0; i < straight.size(); ++i) QCOMPARE_EQ(straight[i], resumed[i]);
        QVERIFY(straight.back() < straight.front());
    }
}

void TrainerTests::schedules_follow_transformers()
{
    VERIFY_NEAR(scheduledLearningRate(Schedule::Linear, 1.0, 0, 10, 110), 0.0, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Linear, 1.0, 5, 10, 110), 0.5, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Linear, 1.0, 60, 10, 110), 0.5, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Cosine, 1.0, 60, 10, 110), 0.5, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Cosine, 1.0, 10, 10, 110), 1.0, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Cosine, 1.0, 110, 10, 110), 0.0, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::ConstantWithWarmup, 2.0, 50, 10, 110), 2.0, 1e-12);
    VERIFY_NEAR(scheduledLearningRate(Schedule::Constant, 2.0, 0, 10, 110), 2.0, 1e-12);
}

void TrainerTests::gradient_accumulation_equals_one_big_batch()
{
    Fixture a = openFixture("tiny-llama-spm", true);
    Fixture b = openFixture("tiny-llama-spm", true);
    Trainer whole(a.model.net, fixtureOptimizer(Method::Lora));
    Trainer split(b.model.net, fixtureOptimizer(Method::Lora));
    const StepResult r1 = whole.step({a.batch});
    const auto row = [&](int i) {
        return Batch{b.batch.ids.narrow(0, i, 1), b.batch.mask.narrow(0, i, 1), b.batch.labels.narrow(0, i, 1)};
    };
    const StepResult r2 = split.step({row(0), row(1)});
    VERIFY_NEAR(r1.loss, r2.loss, 1e-6);
    VERIFY_NEAR(r1.gradNorm, r2.gradNorm, 1e-5);
    VERIFY_NEAR(batchLoss(*a.model.net, a.batch), batchLoss(*b.model.net, b.batch), 1e-5);
}

// AdamW's flat buffers (one update, one norm and one zeroing for every
// adapter factor, each a view) against one tensor at a time: three LoRA steps
// with weight decay and clipping, with the one-pass CPU kernel and with the
// tensor operations a GPU runs; between the steps the gradients are set to
// none, as a module's zero_grad does, and the flat buffers take them back.
// Full fine-tuning keeps a tensor per parameter (see Trainer).
void TrainerParityTests::flat_adamw_matches_one_tensor_at_a_time()
{
    {
        Fixture full = openFixture("tiny-qwen2", false);
        QVERIFY(!Trainer(full.model.net, fixtureOptimizer(Method::Full)).flatOptimizer());
    }
    for (const bool cpuKernel : {true, false}) {
        Fixture flat = openFixture("tiny-qwen2", true);
        Fixture each = openFixture("tiny-qwen2", true);
        TrainConfig config = fixtureOptimizer(Method::Lora);
        config.maxGradNorm = 0.5; // below the gradients' norm: clipping scales
        config.adam.cpuKernel = cpuKernel;
        Trainer flatTrainer(flat.model.net, config);
        config.adam.flat = false;
        Trainer eachTrainer(each.model.net, config);
        QVERIFY(flatTrainer.flatOptimizer());
        QVERIFY(!eachTrainer.flatOptimizer());
        for (int step = 0; step < 3; ++step) {
            if (step == 1) {
                flat.model.net->zero_grad();
                each.model.net->zero_grad();
            }
            const StepResult a = flatTrainer.step({flat.batch});
            const StepResult b = eachTrainer.step({each.batch});
            VERIFY_NEAR(a.loss, b.loss, 1e-5);
            VERIFY_NEAR(a.gradNorm, b.gradNorm, 1e-5 * b.gradNorm);
            QVERIFY(a.gradNorm > config.maxGradNorm);
        }
        const auto flatParams = trainableParameters(*flat.model.net);
        const auto eachParams = trainableParameters(*each.model.net);
        QVERIFY(flatParams.size() == eachParams.size());
        double worst = 0.0;
        for (std::size_t i = 0; i < flatParams.size(); ++i)
            worst = std::max(worst, relativeL2Error(flatParams[i].second, eachParams[i].second));
        std::cout << (cpuKernel ? "CPU kernel" : "tensor operations") << ": " << flatParams.size()
                  << " parameters after 3 steps, worst relative L2 difference " << worst << "\n";
        QVERIFY(worst <= 1e-5);
        VERIFY_NEAR(batchLoss(*flat.model.net, flat.batch), batchLoss(*each.model.net, each.batch), 1e-5);
    }
}

// The chunked output head and loss (the default) against all logits at once:
// the loss and every gradient of LoRA and of full fine-tuning (the head's own
// weight, tied to the embedding or not, included), in chunks of 3 rows so
// that several chunks and a shorter last one are taken; and the loss alone
// under no_grad.
void TrainerParityTests::chunked_head_loss_matches_whole_logits()
{
    const std::string name = currentModel();
    for (const Method method : {Method::Lora, Method::Full}) {
        Fixture chunked = openFixture(name, method == Method::Lora);
        Fixture whole = openFixture(name, method == Method::Lora);
        setTrainable(*chunked.model.net, method);
        setTrainable(*whole.model.net, method);
        QVERIFY(headLossIsChunked(*chunked.model.net));
        const auto lossOf = [](Fixture& f, bool inChunks) {
            return modelLoss(*f.model.net, f.batch.ids, f.batch.mask, f.batch.labels, HeadLossOptions{inChunks, 3});
        };
        {
            torch::NoGradGuard noGrad;
            VERIFY_NEAR(lossOf(chunked, true).loss.item<double>(), lossOf(whole, false).loss.item<double>(), 1e-6);
        }
        const LossOutput a = lossOf(chunked, true);
        const LossOutput b = lossOf(whole, false);
        QCOMPARE(a.tokens, b.tokens);
        QVERIFY(a.tokens > 2 * 3 && a.tokens % 3 != 0);
        VERIFY_NEAR(a.loss.item<double>(), b.loss.item<double>(), 1e-6);
        a.loss.backward();
        b.loss.backward();
        const auto pa = trainableParameters(*chunked.model.net);
        const auto pb = trainableParameters(*whole.model.net);
        QVERIFY(pa.size() == pb.size());
        double worst = 0.0;
        for (std::size_t i = 0; i < pa.size(); ++i) {
            QVERIFY(pa[i].second.grad().defined() && pb[i].second.grad().defined());
            worst = std::max(worst, relativeL2Error(pa[i].second.grad(), pb[i].second.grad()));
        }
        std::cout << name << " " << choiceName(method) << ": " << a.tokens << " tokens, " << pa.size()
                  << " gradients, worst relative L2 difference " << worst << "\n";
        QVERIFY(worst <= 1e-5);
    }
}

#include "test_trainer.moc"
