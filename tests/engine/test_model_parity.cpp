// Parity of the model forward pass with transformers: logits at valid
// positions, the masked loss, and greedy generation, for the three tiny
// fixture models (GPT-NeoX fp16, sharded Qwen2 bf16 with tied head, Llama with
// a sentencepiece tokenizer).
#include "fixture_reference.h"
#include "engine_test.h"

#include "engine/io/safetensors.h"
#include "engine/model/generation.h"
#include "engine/model/model_loader.h"
#include "engine/train/loss.h"

using namespace loralab;
using namespace loralab::test;

namespace {

void checkBaseLogits(const std::string& name, const Target& t)
{
    const LoadedModel model = loadModel(fixtureModel(name).string(), t.loadOptions());
    const auto ref = referenceJson(name);
    const torch::Tensor ids = tensor2d(ref["input_ids"]);
    const torch::Tensor mask = tensor2d(ref["attention_mask"]);
    torch::NoGradGuard noGrad;
    model.net->eval();
    const torch::Tensor logits = model.net->forward(ids.to(t.device), mask.to(t.device)).cpu();
    const torch::Tensor expected = SafetensorsFile(reference(name + "_logits.safetensors")).load("base_logits");
    QVERIFY(logits.sizes() == expected.sizes());
    const torch::Tensor valid = mask.to(torch::kBool);
    const double maxErr = maxAbsError(logits.index({valid}), expected.index({valid}));
    const double relErr = relativeL2Error(logits.index({valid}), expected.index({valid}));
    std::cout << name << " base logits on " << t.device << " " << t.dtype << ": max abs error " << maxErr
              << ", relative L2 " << relErr << "\n";
    QVERIFY(maxErr <= t.logitsMaxAbs);
    QVERIFY(relErr <= t.logitsRelL2);
}

void checkBaseLoss(const std::string& name, const Target& t)
{
    const LoadedModel model = loadModel(fixtureModel(name).string(), t.loadOptions());
    const auto ref = referenceJson(name);
    const torch::Tensor ids = tensor2d(ref["input_ids"]).to(t.device);
    const torch::Tensor mask = tensor2d(ref["attention_mask"]).to(t.device);
    const torch::Tensor labels = tensor2d(ref["labels"]).to(t.device);
    torch::NoGradGuard noGrad;
    const double fromLogits = causalLmLoss(model.net->forward(ids, mask), labels).item<double>();
    const LossOutput selective = modelLoss(*model.net, ids, mask, labels);
    std::cout << name << " base loss on " << t.device << " " << t.dtype << ": " << selective.loss.item<double>()
              << " (reference " << ref["base_loss"].get<double>() << ")\n";
    VERIFY_NEAR(fromLogits, ref["base_loss"].get<double>(), t.loss);
    VERIFY_NEAR(selective.loss.item<double>(), ref["base_loss"].get<double>(), t.loss);
    const auto labelTokens = (labels.narrow(1, 1, labels.size(1) - 1) != kIgnoreIndex).sum().item<std::int64_t>();
    QCOMPARE(selective.tokens, labelTokens);
}

void checkGreedy(const std::string& name, const Target& t)
{
    const LoadedModel model = loadModel(fixtureModel(name).string(), t.loadOptions());
    const auto ref = referenceJson(name);
    const auto prompt = ref["greedy_prompt_ids"].get<std::vector<std::int64_t>>();
    const auto expected = ref["greedy_new_ids"].get<std::vector<std::int64_t>>();
    SamplingOptions options;
    options.maxNewTokens = static_cast<std::int64_t>(expected.size());
    options.stopAtEos = false;
    const GenerationResult result = generate(*model.net, model.tokenizer.get(), prompt, options);
    QCOMPARE(result.ids.size(), expected.size());
    if (t.exactGreedy) QVERIFY(result.ids == expected);
}

} // namespace

class ModelParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void base_logits_gpt_neox();
    void base_logits_qwen2();
    void base_logits_llama();
    void base_loss_gpt_neox();
    void base_loss_qwen2();
    void base_loss_llama();
    void greedy_gpt_neox();
    void greedy_qwen2();
    void greedy_llama();
    void bf16_logits_and_loss_data() { loralab::test::fixtureModelRows(); }
    void bf16_logits_and_loss();
};
REGISTER_TESTS(ModelParityTests);

class ModelGpuTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "gpu")
private Q_SLOTS:
    void init() { SKIP_WITHOUT_CUDA(); }
    void base_logits_data() { loralab::test::fixtureModelRows(); }
    void base_logits();
    void base_loss_data() { loralab::test::fixtureModelRows(); }
    void base_loss();
    void greedy_data() { loralab::test::fixtureModelRows(); }
    void greedy();
    void bf16_logits_loss_and_greedy_data() { loralab::test::fixtureModelRows(); }
    void bf16_logits_loss_and_greedy();
};
REGISTER_TESTS(ModelGpuTests);

class ModelTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void kv_cache_matches_full_forward_data() { loralab::test::fixtureModelRows(); }
    void kv_cache_matches_full_forward();
    void padding_does_not_change_valid_logits();
    void preset_parameter_counts_match_official_models();
    void vocab_override_resizes_embeddings();
    void sampling_respects_top_k_and_seed();
};
REGISTER_TESTS(ModelTests);

void ModelParityTests::base_logits_gpt_neox() { checkBaseLogits("tiny-gpt-neox", cpuFp32()); }
void ModelParityTests::base_logits_qwen2() { checkBaseLogits("tiny-qwen2", cpuFp32()); }
void ModelParityTests::base_logits_llama() { checkBaseLogits("tiny-llama-spm", cpuFp32()); }
void ModelParityTests::base_loss_gpt_neox() { checkBaseLoss("tiny-gpt-neox", cpuFp32()); }
void ModelParityTests::base_loss_qwen2() { checkBaseLoss("tiny-qwen2", cpuFp32()); }
void ModelParityTests::base_loss_llama() { checkBaseLoss("tiny-llama-spm", cpuFp32()); }
void ModelParityTests::greedy_gpt_neox() { checkGreedy("tiny-gpt-neox", cpuFp32()); }
void ModelParityTests::greedy_qwen2() { checkGreedy("tiny-qwen2", cpuFp32()); }
void ModelParityTests::greedy_llama() { checkGreedy("tiny-llama-spm", cpuFp32()); }

// The bf16 path, within bf16's tolerances, on the CPU here and on the GPU below.
void ModelParityTests::bf16_logits_and_loss()
{
    const std::string name = currentModel();
    CALL_CHECKS(checkBaseLogits(name, bf16(torch::kCPU)));
    checkBaseLoss(name, bf16(torch::kCPU));
}

void ModelGpuTests::base_logits() { checkBaseLogits(currentModel(), cudaFp32()); }
void ModelGpuTests::base_loss() { checkBaseLoss(currentModel(), cudaFp32()); }
void ModelGpuTests::greedy() { checkGreedy(currentModel(), cudaFp32()); }
void ModelGpuTests::bf16_logits_loss_and_greedy()
{
    const std::string name = currentModel();
    const Target t = bf16(cudaDevice());
    CALL_CHECKS(checkBaseLogits(name, t));
    CALL_CHECKS(checkBaseLoss(name, t));
    checkGreedy(name, t);
}

void ModelTests::kv_cache_matches_full_forward()
{
    // Logits computed one token at a time through the cache equal those of a
    // single forward over the whole sequence.
    const std::string name = currentModel();
    const LoadedModel model = loadModel(fixtureModel(name).string());
    torch::NoGradGuard noGrad;
    model.net->eval();
    const torch::Tensor ids = torch::randint(3, model.config.vocabSize, {1, 12}, torch::kInt64);
    const torch::Tensor full = model.net->forward(ids);
    KvCache cache;
    std::vector<torch::Tensor> steps;
    steps.push_back(model.net->logits(model.net->hiddenStates(ids.narrow(1, 0, 5), {}, &cache)));
    for (int t = 5; t < 12; ++t) steps.push_back(model.net->logits(model.net->hiddenStates(ids.narrow(1, t, 1), {}, &cache)));
    QVERIFY(maxAbsError(torch::cat(steps, 1), full) <= 1e-4);
    QCOMPARE(cache.length(), 12);
}

void ModelTests::padding_does_not_change_valid_logits()
{
    const LoadedModel model = loadModel(fixtureModel("tiny-qwen2").string());
    torch::NoGradGuard noGrad;
    const torch::Tensor ids = torch::randint(3, model.config.vocabSize, {1, 7}, torch::kInt64);
    const torch::Tensor alone = model.net->forward(ids);
    const torch::Tensor padded = torch::cat({ids, torch::zeros({1, 5}, torch::kInt64)}, 1);
    const torch::Tensor mask = torch::cat({torch::ones({1, 7}, torch::kInt64), torch::zeros({1, 5}, torch::kInt64)}, 1);
    QVERIFY(maxAbsError(model.net->forward(padded, mask).narrow(1, 0, 7), alone) <= 1e-5);
}

void ModelTests::preset_parameter_counts_match_official_models()
{
    // The published parameter counts of the models the presets copy.
    const std::pair<const char*, std::int64_t> expected[] = {
        {"preset:pythia-70m", 70426624},    {"preset:pythia-160m", 162322944}, {"preset:pythia-410m", 405334016},
        {"preset:pythia-1.4b", 1414647808}, {"preset:qwen1.5-0.5b", 463987712},
    };
    for (const auto& [name, count] : expected) {
        const auto net = buildCausalLM(presetConfig(name), torch::TensorOptions().device(torch::kMeta));
        std::int64_t total = 0;
        for (const auto& [n, p] : net->uniqueParameters()) total += p.numel();
        QCOMPARE(total, count);
    }
}

void ModelTests::vocab_override_resizes_embeddings()
{
    LoadOptions options;
    options.vocabSize = 600;
    const LoadedModel grown = loadModel(fixtureModel("tiny-gpt-neox").string(), options);
    const LoadedModel original = loadModel(fixtureModel("tiny-gpt-neox").string());
    QCOMPARE(grown.net->embedding()->weight.size(0), 600);
    QCOMPARE(grown.net->head()->weight.size(0), 600);
    QVERIFY(torch::equal(grown.net->embedding()->weight.narrow(0, 0, 512), original.net->embedding()->weight));
    // The tied Qwen2 head follows its embedding.
    options.vocabSize = 400;
    const LoadedModel shrunk = loadModel(fixtureModel("tiny-qwen2").string(), options);
    QCOMPARE(shrunk.net->head()->weight.size(0), 400);
    QVERIFY(shrunk.net->head()->weight.is_same(shrunk.net->embedding()->weight));
    torch::NoGradGuard noGrad;
    QCOMPARE(shrunk.net->forward(torch::tensor({{5, 6, 7}}, torch::kInt64)).size(2), 400);
}

void ModelTests::sampling_respects_top_k_and_seed()
{
    std::vector<double> logits = {0.0, 5.0, 4.9, -3.0, 1.0};
    SamplingOptions options;
    options.temperature = 1.0;
    options.topK = 2;
    std::set<std::int64_t> seen;
    std::uint64_t rng = 42;
    for (int i = 0; i < 200; ++i) seen.insert(pickToken(logits, {}, options, rng));
    QVERIFY(seen == (std::set<std::int64_t>{1, 2}));
    std::uint64_t a = 7, b = 7;
    options.topK = 0;
    for (int i = 0; i < 20; ++i) QCOMPARE(pickToken(logits, {}, options, a), pickToken(logits, {}, options, b));
    options.temperature = 0.0;
    options.repetitionPenalty = 100.0;
    QCOMPARE(pickToken(logits, {1}, options, a), 2); // the repeated best token is pushed below the next
}

#include "test_model_parity.moc"
