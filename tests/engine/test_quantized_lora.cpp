// LoRA over a quantized base against transformers + bitsandbytes + PEFT:
// the fixture models quantized to NF4 / FP4 (plain and double-quantized) with
// the fixture adapters give bitsandbytes' losses, logits and LoRA gradients
// (tests/data/make_quant_fixtures.py). Also how a quantized base works with
// the rest of the engine: what trains, adapters on and off, merging and
// export, memory, refusals, and the adapter the interop check loads in PEFT.
#include "fixture_reference.h"
#include "engine_test.h"

#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/generation.h"
#include "engine/model/model_loader.h"
#include "engine/model/model_summary.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/quantized_linear.h"
#include "engine/train/loss.h"
#include "engine/train/trainer.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

using namespace loralab;
using namespace loralab::test;

namespace {

// Both sides compute in fp32 with the same dequantized weights; what differs
// is the order of summation in the products, as in the fp32 parity tests
// (shared/fixtures/README.md), whose tolerances apply.
constexpr double kLogitsMaxAbs = 1e-4;
constexpr double kLossAbs = 1e-5;
constexpr double kGradRelL2 = 1e-4;

nlohmann::json quantReference() { return nlohmann::json::parse(readTextFile(dataDir() / "quant" / "models.json")); }

QuantizationOptions nf4(bool doubleQuant)
{
    QuantizationOptions o;
    o.kind = BaseQuantization::Nf4;
    o.doubleQuant = doubleQuant;
    return o;
}

struct QuantFixture {
    LoadedModel model;
    Batch batch;
};

QuantFixture openQuantized(const std::string& name, const QuantizationOptions& options, bool withAdapter = true)
{
    QuantFixture f{loadModel(fixtureModel(name).string()), {}};
    const auto ref = referenceJson(name);
    f.batch = {tensor2d(ref["input_ids"]), tensor2d(ref["attention_mask"]), tensor2d(ref["labels"])};
    quantizeFrozenBase(*f.model.net, options);
    if (withAdapter) loadAdapter(*f.model.net, fixtureAdapter(name));
    return f;
}

double lossOf(CausalLMImpl& net, const Batch& b)
{
    torch::NoGradGuard noGrad;
    return modelLoss(net, b.ids, b.mask, b.labels).loss.item<double>();
}

void checkQloraLosses(const std::string& name)
{
    const auto ref = quantReference()[name]["loss"];
    for (const BaseQuantization kind : {BaseQuantization::Nf4, BaseQuantization::Fp4})
        for (const bool nested : {false, true}) {
            QuantizationOptions o;
            o.kind = kind;
            o.doubleQuant = nested;
            QuantFixture f = openQuantized(name, o);
            const std::string key = std::string(choiceName(kind)) + (nested ? "_double" : "_plain");
            const double loss = lossOf(*f.model.net, f.batch);
            std::cout << name << " " << key << ": loss " << loss << " (bitsandbytes + PEFT " << ref[key].get<double>() << ")\n";
            VERIFY_NEAR(loss, ref[key].get<double>(), kLossAbs);
        }
}

void checkQloraLogitsAndGradients(const std::string& name)
{
    const bool nested = quantReference()[name]["double_quant"].get<bool>();
    QuantFixture f = openQuantized(name, nf4(nested));
    const SafetensorsFile expected(dataDir() / "quant" / ("model_" + name + ".safetensors"));
    setTrainable(*f.model.net, Method::Lora);
    const torch::Tensor logits = f.model.net->forward(f.batch.ids, f.batch.mask);
    const torch::Tensor picked = logits[0].index_select(0, expected.load("positions")).detach();
    const double maxErr = maxAbsError(picked, expected.load("logits"));
    std::cout << name << " nf4" << (nested ? " double" : "") << " LoRA logits: max abs error " << maxErr
              << ", relative L2 " << relativeL2Error(picked, expected.load("logits")) << "\n";
    QVERIFY(maxErr <= kLogitsMaxAbs);

    causalLmLoss(logits, f.batch.labels).backward();
    std::size_t compared = 0;
    double worst = 0.0;
    for (const auto& [param, tensor] : trainableParameters(*f.model.net)) {
        std::string key = "base_model.model." + param;
        key.insert(key.size() - std::string("weight").size(), "default.");
        QVERIFY(expected.contains(key));
        QVERIFY(tensor.grad().defined());
        const double err = relativeL2Error(tensor.grad(), expected.load(key));
        worst = std::max(worst, err);
        QVERIFY(err <= kGradRelL2);
        ++compared;
    }
    std::cout << name << ": " << compared << " LoRA gradients through the 4-bit base, worst relative L2 error " << worst << "\n";
    QCOMPARE(compared, expected.names().size() - 2); // all but positions and logits
}

} // namespace

class QuantizedLoraParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void quant_qlora_losses_gpt_neox();
    void quant_qlora_losses_qwen2();
    void quant_qlora_losses_llama();
    void quant_qlora_logits_and_gradients_gpt_neox();
    void quant_qlora_logits_and_gradients_qwen2();
    void quant_qlora_logits_and_gradients_llama();
};
REGISTER_TESTS(QuantizedLoraParityTests);

class QuantizedLoraTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void quant_codes_are_buffers_and_only_adapters_train();
    void quant_refuses_full_fine_tuning();
    void quant_lora_before_or_after_quantizing();
    void quant_merge_refused_export_dequantizes();
    void quant_memory_measured_and_estimated();
};
REGISTER_TESTS(QuantizedLoraTests);

class QuantizedLoraInteropTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "interop")
private Q_SLOTS:
    void quant_qlora_adapter_written();
};
REGISTER_TESTS(QuantizedLoraInteropTests);

void QuantizedLoraParityTests::quant_qlora_losses_gpt_neox() { checkQloraLosses("tiny-gpt-neox"); }
void QuantizedLoraParityTests::quant_qlora_losses_qwen2() { checkQloraLosses("tiny-qwen2"); }
void QuantizedLoraParityTests::quant_qlora_losses_llama() { checkQloraLosses("tiny-llama-spm"); }
void QuantizedLoraParityTests::quant_qlora_logits_and_gradients_gpt_neox() { checkQloraLogitsAndGradients("tiny-gpt-neox"); }
void QuantizedLoraParityTests::quant_qlora_logits_and_gradients_qwen2() { checkQloraLogitsAndGradients("tiny-qwen2"); }
void QuantizedLoraParityTests::quant_qlora_logits_and_gradients_llama() { checkQloraLogitsAndGradients("tiny-llama-spm"); }

void QuantizedLoraTests::quant_codes_are_buffers_and_only_adapters_train()
{
    QuantFixture f = openQuantized("tiny-llama-spm", nf4(true));
    CausalLMImpl& net = *f.model.net;
    std::int64_t quantized = 0;
    for (const auto& [name, linear] : net.linearLayers()) {
        const bool head = name == net.headName();
        QCOMPARE(linear->baseQuantized(), !head);
        if (head) continue;
        ++quantized;
        QVERIFY(!linear->weight.defined());
        QCOMPARE(linear->named_parameters(false).size(), std::size_t{0});
        QCOMPARE(linear->named_buffers(false).size(), std::size_t{6}); // packed, absmax, map, offset, nested absmax and map
    }
    QCOMPARE(quantized, 14); // 2 layers x (q, k, v, o, gate, up, down)
    for (const auto& p : net.named_parameters()) QVERIFY(p.key().find("_proj.weight") == std::string::npos);
    // The total still counts every weight; only the adapters train.
    const LoadedModel dense = loadModel(fixtureModel("tiny-llama-spm").string());
    loadAdapter(*dense.net, fixtureAdapter("tiny-llama-spm"));
    QCOMPARE(countParameters(net).total, countParameters(*dense.net).total);
    Trainer trainer(f.model.net, TrainConfig{});
    QCOMPARE(trainer.trainableParams(), countParameters(*dense.net).byKind.at("lora"));
    const StepResult r = trainer.step({f.batch});
    QVERIFY(r.finite);
    for (const auto& b : net.named_buffers()) QVERIFY(!b.value().requires_grad() && !b.value().grad().defined());
    QVERIFY(lossOf(net, f.batch) < r.loss); // the adapters learned something
}

void QuantizedLoraTests::quant_refuses_full_fine_tuning()
{
    QuantFixture f = openQuantized("tiny-gpt-neox", nf4(false), false);
    VERIFY_THROWS_WITH(setTrainable(*f.model.net, Method::Full), "full fine-tuning", "gpt_neox.layers.0.attention.query_key_value",
                      "7 more layers", "quantized");
    TrainConfig full;
    full.method = Method::Full;
    VERIFY_THROWS_WITH(Trainer(f.model.net, full), "full fine-tuning");
    VERIFY_THROWS_WITH(quantizeFrozenBase(*f.model.net, nf4(false)), "quantized already");
    QuantizationOptions badBlock = nf4(false);
    badBlock.blockSize = 100;
    const LoadedModel fresh = loadModel(fixtureModel("tiny-gpt-neox").string());
    VERIFY_THROWS_WITH(quantizeFrozenBase(*fresh.net, badBlock), "block size 100");
    QVERIFY(!hasQuantizedBase(*fresh.net)); // a refusal leaves the model as it was
    {
        torch::NoGradGuard noGrad;
        fresh.net->named_parameters()["gpt_neox.layers.1.mlp.dense_4h_to_h.weight"][2][3] = std::nanf("");
    }
    VERIFY_THROWS_WITH(quantizeFrozenBase(*fresh.net, nf4(false)), "gpt_neox.layers.1.mlp.dense_4h_to_h", "inf or NaN");
    QVERIFY(!hasQuantizedBase(*fresh.net));
}

void QuantizedLoraTests::quant_lora_before_or_after_quantizing()
{
    // Adapters attached first and the base quantized after give the model
    // quantized first and the adapter loaded after.
    const QuantizationOptions o = nf4(true);
    QuantFixture after = openQuantized("tiny-qwen2", o);
    QuantFixture before{loadModel(fixtureModel("tiny-qwen2").string()), after.batch};
    loadAdapter(*before.model.net, fixtureAdapter("tiny-qwen2"));
    quantizeFrozenBase(*before.model.net, o);
    const double loss = lossOf(*after.model.net, after.batch);
    VERIFY_NEAR(lossOf(*before.model.net, before.batch), loss, 1e-6);
    // With the adapters off: the quantized base alone, below what the adapters add.
    setLoraEnabled(*after.model.net, false);
    const double baseLoss = lossOf(*after.model.net, after.batch);
    QVERIFY(std::fabs(baseLoss - loss) > 1e-3);
    QuantFixture bare = openQuantized("tiny-qwen2", o, false);
    VERIFY_NEAR(lossOf(*bare.model.net, bare.batch), baseLoss, 1e-6);
    setLoraEnabled(*after.model.net, true);
    VERIFY_NEAR(lossOf(*after.model.net, after.batch), loss, 1e-6);
    // A new adapter over the quantized base (all-linear).
    AdapterConfig fresh;
    fresh.rank = 4;
    fresh.targetModules = {"all-linear"};
    QCOMPARE(applyLora(*bare.model.net, fresh).size(), std::size_t{14});
}

void QuantizedLoraTests::quant_merge_refused_export_dequantizes()
{
    QuantFixture f = openQuantized("tiny-llama-spm", nf4(true));
    CausalLMImpl& net = *f.model.net;
    VERIFY_THROWS_WITH(mergeLora(net), "model.layers.0.self_attn.q_proj", "quantized", "export a merged model");
    const double loss = lossOf(net, f.batch);
    const auto dir = scratchDir("quant-export");
    exportMergedModel(net, fixtureModel("tiny-llama-spm"), dir / "merged");
    const LoadedModel merged = loadModel((dir / "merged").string());
    QVERIFY(merged.notes.empty()); // every weight there, none extra
    QCOMPARE(merged.storedDType, std::string("F32"));
    VERIFY_NEAR(lossOf(*merged.net, f.batch), loss, 1e-5);
    // Greedy generation (one token at a time, with the key/value cache) over
    // the quantized base gives the exported model's tokens.
    SamplingOptions greedy;
    greedy.maxNewTokens = 10;
    greedy.stopAtEos = false;
    const auto prompt = referenceJson("tiny-llama-spm")["greedy_prompt_ids"].get<std::vector<std::int64_t>>();
    const GenerationResult ours = generate(net, nullptr, prompt, greedy);
    QCOMPARE(ours.ids.size(), std::size_t{10});
    QVERIFY(ours.ids == generate(*merged.net, nullptr, prompt, greedy).ids);
    // The exported weight is the dequantized base plus B A scaling.
    const Linear q = net.linearLayers().front().second; // a copy of the holder: the list is a temporary
    const torch::Tensor expected = q->denseWeight(torch::kFloat32) + q->loraDelta(torch::kFloat32);
    QVERIFY(torch::allclose(merged.net->linearLayers().front().second->weight, expected, 0.0, 1e-7));
}

void QuantizedLoraTests::quant_memory_measured_and_estimated()
{
    for (const BaseQuantization kind : {BaseQuantization::Int8, BaseQuantization::Nf4, BaseQuantization::Fp4})
        for (const bool nested : {false, true}) {
            QuantizationOptions o;
            o.kind = kind;
            o.doubleQuant = nested;
            LoadedModel m = loadModel(fixtureModel("tiny-gpt-neox").string());
            const std::int64_t denseBytes = modelWeightBytes(*m.net);
            const QuantizedMemoryEstimate estimate = estimateQuantizedMemory(*m.net, o, torch::kCPU);
            const QuantizationSummary s = quantizeFrozenBase(*m.net, o);
            QCOMPARE(s.layers, 8);
            QCOMPARE(modelWeightBytes(*m.net), estimate.weightBytes);
            QCOMPARE(estimateQuantizedMemory(*m.net, o, torch::kCPU).weightBytes, estimate.weightBytes);
            QCOMPARE(denseBytes - s.denseBytes + s.quantizedBytes, estimate.weightBytes);
            QVERIFY(estimate.scratchBytes > 0);
        }
    // A 410M-like layer in NF4 against bf16: 4.5 bits a weight with fp32 block absmax, 4.13 with double quantization.
    QuantizationOptions o = nf4(false);
    const double bf16 = 4096.0 * 1024 * 2;
    VERIFY_NEAR(quantizedWeightBytes(4096, 1024, o) / bf16, 0.28125, 1e-4);
    o.doubleQuant = true;
    VERIFY_NEAR(quantizedWeightBytes(4096, 1024, o) / bf16, 0.2579, 1e-3);
    o.kind = BaseQuantization::Int8;
    VERIFY_NEAR(quantizedWeightBytes(4096, 1024, o) / bf16, 0.502, 1e-3);
}

void QuantizedLoraInteropTests::quant_qlora_adapter_written()
{
    // A few LoRA steps over an NF4 (double-quantized) base; the adapter and
    // this model's logits are written for tests/python/interop_quant.py,
    // which loads the adapter in PEFT over a bitsandbytes 4-bit base.
    for (const char* name : kFixtureModels) {
        QuantFixture f = openQuantized(name, nf4(true), false);
        AdapterConfig a;
        a.rank = 4;
        a.alpha = 8.0;
        a.targetModules = {"all-linear"};
        a.baseModel = fixtureModel(name).string();
        torch::manual_seed(3);
        applyLora(*f.model.net, a);
        TrainConfig c;
        c.adam.lr = 1e-2;
        Trainer trainer(f.model.net, c);
        double first = 0.0;
        for (int step = 0; step < 4; ++step) {
            const StepResult r = trainer.step({f.batch});
            if (step == 0) first = r.loss;
        }
        QVERIFY(lossOf(*f.model.net, f.batch) < first);
        const auto dir = std::filesystem::path(LORALAB_BINARY_DIR) / "interop" / "quant" / name;
        std::filesystem::remove_all(dir);
        saveAdapter(*f.model.net, currentAdapterConfig(*f.model.net, a.baseModel), dir / "adapter");
        torch::NoGradGuard noGrad;
        const torch::Tensor logits = f.model.net->forward(f.batch.ids, f.batch.mask);
        saveSafetensors(dir / "logits.safetensors", {{"input_ids", f.batch.ids}, {"attention_mask", f.batch.mask},
                                                     {"logits", logits.contiguous()}},
                        {{"quant_type", "nf4"}, {"double_quant", "true"}, {"compute_dtype", "float32"}});
        QVERIFY(std::filesystem::exists(dir / "adapter" / "adapter_model.safetensors"));
    }
}

#include "test_quantized_lora.moc"
