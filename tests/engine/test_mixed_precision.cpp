// Full fine-tuning of a bf16 model: AdamW keeps fp32 master weights, so steps
// smaller than bf16's spacing accumulate instead of rounding away, and a
// checkpoint carries them so a resume goes on from them.
#include "engine_test.h"

#include "engine/train/optimizer.h"

using namespace loralab;

class MixedPrecisionTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void bf16_weights_move_by_steps_below_their_spacing();
    void master_weights_travel_with_the_optimizer_state();
};
REGISTER_TESTS(MixedPrecisionTests);

namespace {

// Ten steps of lr 1e-3 on weights of 1.0: each step (about 1e-3) is below
// half of bf16's spacing at 1.0 (3.9e-3), ten of them are not.
torch::Tensor trainTenSteps(AdamW& adam, torch::Tensor& weight)
{
    for (int i = 0; i < 10; ++i) {
        weight.mutable_grad() = torch::ones_like(weight);
        adam.step(1e-3);
    }
    return weight;
}

} // namespace

void MixedPrecisionTests::bf16_weights_move_by_steps_below_their_spacing()
{
    torch::Tensor weight = torch::ones({8}, torch::TensorOptions().dtype(torch::kBFloat16)).requires_grad_(true);
    AdamWConfig config;
    config.flat = false;
    AdamW adam({{"norm.weight", weight}}, config);
    trainTenSteps(adam, weight);
    const double moved = 1.0 - weight.to(torch::kFloat32).max().item<double>();
    QVERIFY2(moved > 5e-3, qPrintable(QString::number(moved)));
    // The master weights took every step exactly (Adam's first steps are about lr each).
    const NamedTensors state = adam.state();
    const auto master = std::find_if(state.begin(), state.end(), [](const auto& t) { return t.first == "master.norm.weight"; });
    QVERIFY(master != state.end());
    QCOMPARE(master->second.scalar_type(), torch::kFloat32);
    VERIFY_NEAR(master->second.max().item<double>(), 1.0 - 10 * 1e-3, 1e-4);
    // The optimizer's memory counts them.
    QCOMPARE(adam.stateBytes(), std::int64_t{8 * 4 * 3});
}

void MixedPrecisionTests::master_weights_travel_with_the_optimizer_state()
{
    torch::Tensor a = torch::ones({4}, torch::TensorOptions().dtype(torch::kBFloat16)).requires_grad_(true);
    AdamWConfig config;
    config.flat = false;
    AdamW first({{"w", a}}, config);
    trainTenSteps(first, a);
    const NamedTensors saved = first.state();
    // A resumed optimizer on the rounded weights takes up the exact ones.
    torch::Tensor b = a.detach().clone().requires_grad_(true);
    AdamW resumed({{"w", b}}, config);
    resumed.loadState(saved, first.stepCount());
    trainTenSteps(first, a);
    trainTenSteps(resumed, b);
    QVERIFY(torch::equal(a, b));
}

#include "test_mixed_precision.moc"
