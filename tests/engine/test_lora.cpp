// LoRA and fine-tuning against PEFT and PyTorch: adapter outputs, gradients,
// one AdamW step for LoRA and for full fine-tuning, parameter counts, merging,
// adapter files and exact resume.
#include "engine_test.h"
#include "lora_fixture.h"

#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/model/model_summary.h"
#include "engine/train/loss.h"
#include "engine/train/token_log_probs.h"
#include "engine/train/trainer.h"
#include "engine/util/error.h"

using namespace loralab;
using namespace loralab::test;

namespace {


void checkLoraOutputs(const std::string& name, const Target& t)
{
    Fixture f = openFixture(name, true, t);
    torch::NoGradGuard noGrad;
    const torch::Tensor logits = f.model.net->forward(f.batch.ids, f.batch.mask).cpu();
    const torch::Tensor expected = SafetensorsFile(reference(name + "_logits.safetensors")).load("lora_logits");
    const torch::Tensor valid = f.batch.mask.cpu().to(torch::kBool);
    const double err = maxAbsError(logits.index({valid}), expected.index({valid}));
    std::cout << name << " LoRA logits on " << t.device << " " << t.dtype << ": max abs error " << err << "\n";
    QVERIFY(err <= t.logitsMaxAbs);
    VERIFY_NEAR(batchLoss(*f.model.net, f.batch), f.ref["lora_loss"].get<double>(), t.loss);
}

void checkLoraGradients(const std::string& name, const Target& t)
{
    Fixture f = openFixture(name, true, t);
    setTrainable(*f.model.net, Method::Lora);
    modelLoss(*f.model.net, f.batch.ids, f.batch.mask, f.batch.labels).loss.backward();
    const SafetensorsFile grads(reference(name + "_lora_grads.safetensors"));
    std::size_t compared = 0;
    double worst = 0.0;
    for (const auto& [param, tensor] : trainableParameters(*f.model.net)) {
        // PEFT's in-memory names carry the adapter name: "...lora_A.default.weight".
        std::string key = "base_model.model." + param;
        key.insert(key.size() - std::string("weight").size(), "default.");
        QVERIFY(grads.contains(key));
        QVERIFY(tensor.grad().defined());
        const double err = relativeL2Error(tensor.grad().cpu(), grads.load(key));
        worst = std::max(worst, err);
        QVERIFY(err <= t.gradRelL2);
        ++compared;
    }
    std::cout << name << " on " << t.device << " " << t.dtype << ": " << compared
              << " LoRA gradients, worst relative L2 error " << worst << "\n";
    QCOMPARE(compared, grads.names().size());
}

void checkLoraStep(const std::string& name, const Target& t)
{
    Fixture f = openFixture(name, true, t);
    std::vector<torch::Tensor> baseBefore;
    for (const auto& [n, p] : f.model.net->uniqueParameters())
        if (n.find(".lora_") == std::string::npos) baseBefore.push_back(p.detach().clone());

    Trainer trainer(f.model.net, fixtureOptimizer(Method::Lora));
    QCOMPARE(trainer.trainableParams(), f.ref["lora_trainable_params"].get<std::int64_t>());
    const StepResult r = trainer.step({f.batch});
    VERIFY_NEAR(r.loss, f.ref["lora_loss"].get<double>(), t.loss);
    VERIFY_NEAR(r.gradNorm, f.ref["lora_grad_norm_before_clip"].get<double>(), t.gradNorm);
    VERIFY_NEAR(batchLoss(*f.model.net, f.batch), f.ref["lora_loss_after_1_step"].get<double>(), t.loss);

    // The frozen base weights did not move by a single bit.
    std::size_t i = 0;
    for (const auto& [n, p] : f.model.net->uniqueParameters()) {
        if (n.find(".lora_") != std::string::npos) continue;
        QVERIFY(!p.grad().defined());
        QVERIFY(torch::equal(p, baseBefore[i++]));
    }
    // Folding B A scaling into the weights gives the same model.
    mergeLora(*f.model.net);
    VERIFY_NEAR(batchLoss(*f.model.net, f.batch), f.ref["merged_after_step_loss"].get<double>(), t.loss);
    unmergeLora(*f.model.net);
    VERIFY_NEAR(batchLoss(*f.model.net, f.batch), f.ref["lora_loss_after_1_step"].get<double>(), t.loss);
}

void checkFullStep(const std::string& name, const Target& t)
{
    Fixture f = openFixture(name, false, t);
    Trainer trainer(f.model.net, fixtureOptimizer(Method::Full));
    QCOMPARE(trainer.trainableParams(), f.ref["full_trainable_params"].get<std::int64_t>());
    const StepResult r = trainer.step({f.batch});
    VERIFY_NEAR(r.loss, f.ref["base_loss"].get<double>(), t.loss);
    VERIFY_NEAR(r.gradNorm, f.ref["full_grad_norm_before_clip"].get<double>(), t.gradNorm);
    VERIFY_NEAR(batchLoss(*f.model.net, f.batch), f.ref["full_loss_after_1_step"].get<double>(), t.loss);
}

} // namespace

class LoraParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void lora_outputs_gpt_neox();
    void lora_outputs_qwen2();
    void lora_outputs_llama();
    void lora_gradients_gpt_neox();
    void lora_gradients_qwen2();
    void lora_gradients_llama();
    void lora_step_gpt_neox();
    void lora_step_qwen2();
    void lora_step_llama();
    void full_step_gpt_neox();
    void full_step_qwen2();
    void full_step_llama();
    void bf16_lora_outputs_gradients_and_step_data() { loralab::test::fixtureModelRows(); }
    void bf16_lora_outputs_gradients_and_step();
};
REGISTER_TESTS(LoraParityTests);

class LoraGpuTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "gpu")
private Q_SLOTS:
    void init() { SKIP_WITHOUT_CUDA(); }
    void lora_outputs_data() { loralab::test::fixtureModelRows(); }
    void lora_outputs();
    void lora_gradients_data() { loralab::test::fixtureModelRows(); }
    void lora_gradients();
    void lora_step_data() { loralab::test::fixtureModelRows(); }
    void lora_step();
    void full_step_data() { loralab::test::fixtureModelRows(); }
    void full_step();
    void bf16_lora_outputs_gradients_and_step_data() { loralab::test::fixtureModelRows(); }
    void bf16_lora_outputs_gradients_and_step();
};
REGISTER_TESTS(LoraGpuTests);

class LoraTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void fresh_lora_leaves_outputs_unchanged_data() { loralab::test::fixtureModelRows(); }
    void fresh_lora_leaves_outputs_unchanged();
    void lora_target_selection();
    void lora_scaling_and_rslora();
    void shared_input_lora_matches_separate_layers();
    void frozen_shared_input_weights_run_as_one_product();
    void token_log_probs_match_log_softmax();
    void adapter_roundtrip_and_merged_export_data() { loralab::test::fixtureModelRows(); }
    void adapter_roundtrip_and_merged_export();
    void adapter_files_with_problems();
    void info_counts_like_peft_data() { loralab::test::fixtureModelRows(); }
    void info_counts_like_peft();
};
REGISTER_TESTS(LoraTests);

void LoraParityTests::lora_outputs_gpt_neox() { checkLoraOutputs("tiny-gpt-neox", cpuFp32()); }
void LoraParityTests::lora_outputs_qwen2() { checkLoraOutputs("tiny-qwen2", cpuFp32()); }
void LoraParityTests::lora_outputs_llama() { checkLoraOutputs("tiny-llama-spm", cpuFp32()); }
void LoraParityTests::lora_gradients_gpt_neox() { checkLoraGradients("tiny-gpt-neox", cpuFp32()); }
void LoraParityTests::lora_gradients_qwen2() { checkLoraGradients("tiny-qwen2", cpuFp32()); }
void LoraParityTests::lora_gradients_llama() { checkLoraGradients("tiny-llama-spm", cpuFp32()); }
void LoraParityTests::lora_step_gpt_neox() { checkLoraStep("tiny-gpt-neox", cpuFp32()); }
void LoraParityTests::lora_step_qwen2() { checkLoraStep("tiny-qwen2", cpuFp32()); }
void LoraParityTests::lora_step_llama() { checkLoraStep("tiny-llama-spm", cpuFp32()); }
void LoraParityTests::full_step_gpt_neox() { checkFullStep("tiny-gpt-neox", cpuFp32()); }
void LoraParityTests::full_step_qwen2() { checkFullStep("tiny-qwen2", cpuFp32()); }
void LoraParityTests::full_step_llama() { checkFullStep("tiny-llama-spm", cpuFp32()); }

void LoraParityTests::bf16_lora_outputs_gradients_and_step()
{
    const std::string name = currentModel();
    CALL_CHECKS(checkLoraOutputs(name, bf16(torch::kCPU)));
    CALL_CHECKS(checkLoraGradients(name, bf16(torch::kCPU)));
    checkLoraStep(name, bf16(torch::kCPU));
}

void LoraGpuTests::lora_outputs() { checkLoraOutputs(currentModel(), cudaFp32()); }
void LoraGpuTests::lora_gradients() { checkLoraGradients(currentModel(), cudaFp32()); }
void LoraGpuTests::lora_step() { checkLoraStep(currentModel(), cudaFp32()); }
void LoraGpuTests::full_step() { checkFullStep(currentModel(), cudaFp32()); }
void LoraGpuTests::bf16_lora_outputs_gradients_and_step()
{
    const std::string name = currentModel();
    const Target t = bf16(cudaDevice());
    CALL_CHECKS(checkLoraOutputs(name, t));
    CALL_CHECKS(checkLoraGradients(name, t));
    checkLoraStep(name, t);
}

void LoraTests::fresh_lora_leaves_outputs_unchanged()
{
    const std::string name = currentModel();
    Fixture f = openFixture(name, false);
    torch::NoGradGuard noGrad;
    const torch::Tensor before = f.model.net->forward(f.batch.ids, f.batch.mask);
    AdapterConfig config;
    config.rank = 8;
    config.targetModules = {"all-linear", "lm_head"};
    applyLora(*f.model.net, config);
    QVERIFY(torch::equal(f.model.net->forward(f.batch.ids, f.batch.mask), before)); // B = 0
    for (auto& [n, linear] : f.model.net->linearLayers()) {
        QVERIFY(linear->hasLora());
        const double bound = 1.0 / std::sqrt(static_cast<double>(linear->inFeatures()));
        QVERIFY(linear->loraA()->weight.abs().max().item<double>() <= bound);
        QVERIFY(linear->loraA()->weight.abs().max().item<double>() > 0.5 * bound);
        QVERIFY(linear->loraB()->weight.abs().max().item<double>() == 0.0);
    }
}

void LoraTests::lora_target_selection()
{
    Fixture f = openFixture("tiny-gpt-neox", false);
    AdapterConfig c;
    c.targetModules = {"all-linear"};
    auto targets = selectLoraTargets(*f.model.net, c);
    QCOMPARE(targets.size(), 8u); // 4 per layer, head excluded
    QVERIFY(std::find(targets.begin(), targets.end(), "embed_out") == targets.end());
    c.targetModules = {"all-linear", "lm_head"}; // the head by its usual name, though NeoX calls it embed_out
    QCOMPARE(selectLoraTargets(*f.model.net, c).size(), 9u);
    c.targetModules = {"dense"};
    targets = selectLoraTargets(*f.model.net, c);
    QCOMPARE(targets.size(), 2u); // "dense" but not "dense_h_to_4h"
    c.targetModules = {"q_proj"};
    VERIFY_THROWS_WITH(selectLoraTargets(*f.model.net, c), "'q_proj'", "query_key_value");
    c.targetModules = {};
    c.targetRegex = ".*layers\\.1\\..*dense";
    QCOMPARE(selectLoraTargets(*f.model.net, c).size(), 1u);
}

void LoraTests::lora_scaling_and_rslora()
{
    LoraSettings s;
    s.rank = 16;
    s.alpha = 32;
    VERIFY_NEAR(s.scaling(), 2.0, 1e-12);
    s.rsLora = true;
    VERIFY_NEAR(s.scaling(), 8.0, 1e-12);
}

// Batching the A factors of layers that share an input changes the order of
// the work, not the result: outputs and every gradient match the layers run
// one by one, in fp32 and over bf16 base weights.
void LoraTests::shared_input_lora_matches_separate_layers()
{
    torch::manual_seed(7);
    for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        const auto options = torch::TensorOptions().dtype(dtype);
        std::vector<Linear> layers = {Linear(32, 48, true, options), Linear(32, 16, true, options),
                                      Linear(32, 16, false, options)};
        LoraSettings settings;
        settings.rank = 4;
        settings.alpha = 8;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            torch::NoGradGuard noGrad;
            layers[i]->weight.normal_(0.0, 0.2);
            if (layers[i]->bias.defined()) layers[i]->bias.normal_();
            settings.rank = 4 + 2 * static_cast<std::int64_t>(i); // ranks may differ
            layers[i]->addLora(settings);
            layers[i]->loraB()->weight.normal_(); // non-zero, so the adapter path counts
        }
        const torch::Tensor x = torch::randn({3, 5, 32}).to(dtype);
        auto run = [&](bool batched) {
            for (auto& l : layers) l->zero_grad();
            const torch::Tensor input = x.detach().clone().requires_grad_(true);
            std::vector<torch::Tensor> ys;
            if (batched) {
                ys = forwardSharedInput({layers[0].get(), layers[1].get(), layers[2].get()}, input);
            } else {
                for (auto& l : layers) ys.push_back(l->forward(input));
            }
            torch::Tensor total = torch::zeros({}, torch::kFloat32);
            for (std::size_t i = 0; i < ys.size(); ++i)
                total = total + (ys[i].to(torch::kFloat32) * static_cast<double>(i + 1)).sin().sum();
            total.backward();
            std::vector<torch::Tensor> got;
            for (auto& y : ys) got.push_back(y.detach().to(torch::kFloat32));
            got.push_back(input.grad().to(torch::kFloat32));
            for (auto& l : layers) {
                got.push_back(l->loraA()->weight.grad().clone());
                got.push_back(l->loraB()->weight.grad().clone());
            }
            return got;
        };
        const auto separate = run(false);
        const auto batched = run(true);
        QCOMPARE(separate.size(), batched.size());
        const double tol = dtype == torch::kFloat32 ? 1e-5 : 2e-2;
        for (std::size_t i = 0; i < separate.size(); ++i) {
            const double scale = std::max(1.0, separate[i].abs().max().item<double>());
            VERIFY_NEAR((separate[i] - batched[i]).abs().max().item<double>() / scale, 0.0, tol);
        }
    }
}

// Frozen base weights of layers that read one input (q/k/v with biases,
// gate/up without) run as one product once laid out as rows of one buffer:
// outputs and every gradient equal the separate layers', before and after a
// weight is given new storage (which lays them out again).
void LoraTests::frozen_shared_input_weights_run_as_one_product()
{
    torch::manual_seed(11);
    for (const bool withBias : {true, false}) {
        const auto options = torch::TensorOptions().dtype(torch::kFloat32);
        std::vector<Linear> layers = {Linear(32, 48, withBias, options), Linear(32, 16, withBias, options),
                                      Linear(32, 16, withBias, options)};
        LoraSettings settings;
        settings.rank = 4;
        for (auto& layer : layers) {
            torch::NoGradGuard noGrad;
            layer->weight.normal_(0.0, 0.2).requires_grad_(false);
            if (layer->bias.defined()) layer->bias.normal_().requires_grad_(false);
            layer->addLora(settings);
            layer->loraB()->weight.normal_();
        }
        const torch::Tensor x = torch::randn({3, 5, 32});
        const auto run = [&](bool shared) {
            for (auto& l : layers) l->zero_grad();
            const torch::Tensor input = x.detach().clone().requires_grad_(true);
            std::vector<torch::Tensor> ys;
            if (shared)
                ys = forwardSharedInput({layers[0].get(), layers[1].get(), layers[2].get()}, input);
            else
                for (auto& l : layers) ys.push_back(l->forward(input));
            torch::Tensor total = torch::zeros({});
            for (std::size_t i = 0; i < ys.size(); ++i) total = total + (ys[i] * static_cast<double>(i + 1)).sin().sum();
            total.backward();
            std::vector<torch::Tensor> got;
            for (auto& y : ys) got.push_back(y.detach().clone());
            got.push_back(input.grad().clone());
            for (auto& l : layers) {
                got.push_back(l->loraA()->weight.grad().clone());
                got.push_back(l->loraB()->weight.grad().clone());
            }
            return got;
        };
        const auto compare = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
            QVERIFY(a.size() == b.size());
            for (std::size_t i = 0; i < a.size(); ++i)
                QVERIFY((a[i] - b[i]).abs().max().item<double>() <= 1e-5 * std::max(1.0, a[i].abs().max().item<double>()));
        };
        const auto separate = run(false);
        CALL_CHECKS(compare(separate, run(true)));
        // The weights now share one buffer, and the separate layers still give the same.
        for (auto& l : layers) QVERIFY(l->weight.storage().is_alias_of(layers[0]->weight.storage()));
        if (withBias)
            for (auto& l : layers) QVERIFY(l->bias.storage().is_alias_of(layers[0]->bias.storage()));
        CALL_CHECKS(compare(separate, run(false)));
        // New storage for one weight: laid out again on the next call.
        {
            torch::NoGradGuard noGrad;
            layers[1]->weight.set_data(layers[1]->weight.clone());
        }
        QVERIFY(!layers[1]->weight.storage().is_alias_of(layers[0]->weight.storage()));
        CALL_CHECKS(compare(separate, run(true)));
        QVERIFY(layers[1]->weight.storage().is_alias_of(layers[0]->weight.storage()));
    }
}

// The fused log-probabilities against LibTorch's log_softmax + gather, both
// measured against the same computation in fp64: values and gradients must
// be as accurate as LibTorch's own fp32, for vocabularies that are and are
// not multiples of the vector width and logits spread wide enough to reach
// the exponential's clamp; NaN propagates.
void LoraTests::token_log_probs_match_log_softmax()
{
    torch::manual_seed(3);
    auto viaLogSoftmax = [](const torch::Tensor& x, const torch::Tensor& labels) {
        return torch::log_softmax(x, -1).gather(1, labels.view({-1, 1})).view({-1});
    };
    for (const double spread : {3.0, 30.0}) {
        for (const std::int64_t vocab : {1, 7, 1000, 50304}) {
            const torch::Tensor logits = torch::randn({37, vocab}) * spread;
            const torch::Tensor labels = torch::randint(0, vocab, {37});
            const torch::Tensor upstream = torch::randn({37});
            auto run = [&](bool fused, torch::ScalarType dtype) {
                const torch::Tensor x = logits.to(dtype).requires_grad_(true);
                const torch::Tensor y = fused ? tokenLogProbs(x, labels) : viaLogSoftmax(x, labels);
                (y * upstream.to(dtype)).sum().backward();
                return std::make_pair(y.detach().to(torch::kFloat64), x.grad().to(torch::kFloat64));
            };
            const auto truth = run(false, torch::kFloat64);
            const auto ours = run(true, torch::kFloat32);
            const auto libtorch = run(false, torch::kFloat32);
            auto error = [](const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); };
            QVERIFY(error(ours.first, truth.first) <= std::max(2.0 * error(libtorch.first, truth.first), 1e-6));
            QVERIFY(error(ours.second, truth.second) <= std::max(2.0 * error(libtorch.second, truth.second), 1e-6));
        }
    }
    // Gradient rows sum to zero (softmax minus a one-hot, times the upstream gradient).
    const torch::Tensor x = (torch::randn({4, 300}) * 5.0).requires_grad_(true);
    tokenLogProbs(x, torch::tensor({0, 1, 2, 299})).sum().backward();
    VERIFY_NEAR(x.grad().sum(1).abs().max().item<double>(), 0.0, 1e-5);

    torch::Tensor withNan = torch::randn({2, 20});
    withNan[1][5] = std::numeric_limits<float>::quiet_NaN();
    const torch::Tensor out = tokenLogProbs(withNan, torch::tensor({3, 3}));
    QVERIFY(std::isfinite(out[0].item<double>()));
    QVERIFY(std::isnan(out[1].item<double>()));
    VERIFY_THROWS_WITH(tokenLogProbs(withNan, torch::tensor({3, 20})), "outside the vocabulary of 20");
}

void LoraTests::adapter_roundtrip_and_merged_export()
{
    const std::string name = currentModel();
    Fixture f = openFixture(name, true);
    torch::NoGradGuard noGrad;
    const torch::Tensor expected = f.model.net->forward(f.batch.ids, f.batch.mask);
    const auto dir = scratchDir(std::string("adapter_") + name);
    saveAdapter(*f.model.net, currentAdapterConfig(*f.model.net, name), dir / "adapter");
    const AdapterConfig written = parseAdapterConfig(readTextFile(dir / "adapter/adapter_config.json"), "written");
    QCOMPARE(written.rank, 4);
    VERIFY_NEAR(written.alpha, 8.0, 0.0);

    LoadedModel fresh = loadModel(fixtureModel(name).string());
    loadAdapter(*fresh.net, dir / "adapter");
    QVERIFY(torch::equal(fresh.net->forward(f.batch.ids, f.batch.mask), expected));

    exportMergedModel(*f.model.net, fixtureModel(name), dir / "merged");
    const LoadedModel merged = loadModel((dir / "merged").string());
    QVERIFY(!hasLora(*merged.net));
    const torch::Tensor valid = f.batch.mask.to(torch::kBool);
    QVERIFY(maxAbsError(merged.net->forward(f.batch.ids, f.batch.mask).index({valid}), expected.index({valid})) <= 1e-5);
    QVERIFY(merged.tokenizer != nullptr);
}

void LoraTests::adapter_files_with_problems()
{
    const auto dir = scratchDir("bad_adapter");
    Fixture f = openFixture("tiny-qwen2", false);
    VERIFY_THROWS_WITH(loadAdapter(*f.model.net, dir), (dir / "adapter_config.json").string(), "not found");
    writeFileAtomic(dir / "adapter_config.json", R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "use_dora": true})");
    VERIFY_THROWS_WITH(loadAdapter(*f.model.net, dir), "adapter_config.json", "DoRA");
    writeFileAtomic(dir / "adapter_config.json", R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["query_key_value"]})");
    VERIFY_THROWS_WITH(loadAdapter(*f.model.net, dir), "adapter_model.safetensors", "not found");
    saveSafetensors(dir / "adapter_model.safetensors", {{"x", torch::zeros({1})}});
    VERIFY_THROWS_WITH(loadAdapter(*f.model.net, dir), "adapter_config.json", "query_key_value", "q_proj");
    writeFileAtomic(dir / "adapter_config.json", R"({"peft_type": "LORA", "r": 2, "lora_alpha": 8, "target_modules": ["q_proj"]})");
    saveSafetensors(dir / "adapter_model.safetensors",
                    {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", torch::zeros({4, 64})}});
    VERIFY_THROWS_WITH(loadAdapter(*f.model.net, dir), "adapter_model.safetensors", "wrong shape");
    QVERIFY(!hasLora(*f.model.net)); // a failed load leaves no half-attached adapter
}

void LoraTests::info_counts_like_peft()
{
    // total = base + adapters, trainable = adapters, for the fixture adapters.
    const std::string name = currentModel();
    Fixture f = openFixture(name, true);
    setTrainable(*f.model.net, Method::Lora);
    const ParameterCounts counts = countParameters(*f.model.net);
    QCOMPARE(counts.trainable, f.ref["lora_trainable_params"].get<std::int64_t>());
    QCOMPARE(counts.total, f.ref["full_trainable_params"].get<std::int64_t>() + counts.trainable);
}

#include "test_lora.moc"
