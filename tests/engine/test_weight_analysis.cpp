// The weight-space analysis against float64 references of the pinned Python
// stack (tests/data/make_analysis_fixtures.py writes tests/data/analysis/):
// norms, spectra, effective ranks and intruder dimensions of the fixture
// adapters and of a full checkpoint, subspace similarity, constructed cases
// with known intruders, refusals of a base that does not fit, and the CLI.
#include "cli_process.h"
#include "fixture_reference.h"
#include "engine_test.h"
#include "test_paths.h"

#include "engine/analysis/spectrum.h"
#include "engine/analysis/update_analysis.h"
#include "engine/io/safetensors.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

constexpr double kAnalysisRel = 1e-6; // relative agreement with the float64 reference

const nlohmann::json& analysisReference()
{
    static const nlohmann::json ref = nlohmann::json::parse(readTextFile(test::dataDir() / "analysis/reference.json"));
    return ref;
}

fs::path fullFixture() { return test::dataDir() / "analysis/tiny-gpt-neox-full"; }

UpdateAnalysis analyseOn(const std::string& device, const fs::path& base, const fs::path& checkpoint, AnalysisOptions options = {})
{
    AnalysisInput input;
    input.baseModel = base.string();
    input.checkpoint = checkpoint.string();
    input.device = device;
    return analyzeUpdate(input, options);
}

UpdateAnalysis analyseOnCpu(const fs::path& base, const fs::path& checkpoint, AnalysisOptions options = {})
{
    return analyseOn("cpu", base, checkpoint, options);
}

bool closeRel(double a, double b, double rel = kAnalysisRel) { return std::fabs(a - b) <= rel * std::max(std::fabs(b), 1e-300); }

// Every number of every layer against the reference case.
void checkAgainstReference(const UpdateAnalysis& got, const nlohmann::json& expected)
{
    QVERIFY(got.layers.size() == expected.size());
    for (const auto& e : expected) {
        const std::string module = e["module"];
        const auto found = std::find_if(got.layers.begin(), got.layers.end(), [&](const LayerUpdate& u) { return u.module == module; });
        QVERIFY(found != got.layers.end());
        const LayerUpdate& u = *found;
        QCOMPARE(u.kind, e["kind"].get<std::string>());
        QCOMPARE(u.layer, e["layer"].get<std::int64_t>());
        QCOMPARE(u.outFeatures, e["shape"][0].get<std::int64_t>());
        QVERIFY(closeRel(u.updateNorm, e["update_norm"]));
        QVERIFY(closeRel(u.baseNorm, e["base_norm"]));
        QVERIFY(closeRel(u.relativeNorm, e["relative_norm"]));
        QVERIFY(u.singularValues.size() == e["singular_values"].size());
        for (std::size_t i = 0; i < u.singularValues.size(); ++i) QVERIFY(closeRel(u.singularValues[i], e["singular_values"][i]));
        QCOMPARE(u.numericalRank, e["numerical_rank"].get<std::int64_t>());
        QVERIFY(closeRel(u.effectiveRank, e["effective_rank"]));
        QCOMPARE(u.energyRank, e["energy_rank_90"].get<std::int64_t>());
        QVERIFY(u.intruderCosines.size() == e["intruder_cosines"].size());
        for (std::size_t i = 0; i < u.intruderCosines.size(); ++i) QVERIFY(closeRel(u.intruderCosines[i], e["intruder_cosines"][i]));
        QCOMPARE(u.intruderCount, e["intruder_count"].get<std::int64_t>());
        QVERIFY(u.spectrumFloat64 && u.intrudersFloat64);
    }
}

void checkLoraFixture(const std::string& model)
{
    const UpdateAnalysis a = analyseOnCpu(test::fixtureModel(model), test::fixtureAdapter(model));
    QVERIFY(a.kind == UpdateKind::Lora);
    QVERIFY(a.complete);
    const auto& expected = analysisReference()["cases"]["lora/" + model]["layers"];
    checkAgainstReference(a, expected);
    for (const auto& u : a.layers) {
        QCOMPARE(u.loraRank, 4);
        VERIFY_NEAR(u.loraScale, 2.0, 0.0); // alpha 8 / r 4
    }
    // The summary per kind: the reference's layers of that kind, averaged.
    for (const auto& k : a.kinds) {
        double norms = 0.0, ranks = 0.0;
        std::int64_t layers = 0, intruders = 0;
        for (const auto& e : expected)
            if (e["kind"] == k.kind) {
                ++layers;
                norms += e["relative_norm"].get<double>();
                ranks += e["effective_rank"].get<double>();
                intruders += e["intruder_count"].get<std::int64_t>();
            }
        QCOMPARE(k.layers, layers);
        QVERIFY(closeRel(k.meanRelativeNorm, norms / static_cast<double>(layers)));
        QVERIFY(closeRel(k.meanEffectiveRank, ranks / static_cast<double>(layers)));
        QCOMPARE(k.intruderTotal, intruders);
    }
}

// Columns of a random orthogonal [n, n] matrix, float64, from a seeded generator.
torch::Tensor randomOrthogonal(std::int64_t n, std::uint64_t seed)
{
    torch::manual_seed(seed);
    return std::get<0>(at::linalg_qr(torch::randn({n, n}, torch::kDouble), "reduced"));
}

// A copy of the tiny-gpt-neox fixture whose first query_key_value weight
// [192, 64] is U diag(s) V^T with the given factors, stored in float32.
const char* kConstructedModule = "gpt_neox.layers.0.attention.query_key_value";

void writeModelWith(const fs::path& dir, const torch::Tensor& weight)
{
    fs::create_directories(dir);
    NamedTensors tensors = loadSafetensors(test::fixtureModel("tiny-gpt-neox") / "model.safetensors");
    for (auto& [name, t] : tensors)
        if (name == std::string(kConstructedModule) + ".weight") t = weight.to(torch::kFloat);
    saveSafetensors(dir / "model.safetensors", tensors);
    for (const char* file : {"config.json", "tokenizer.json"}) fs::copy_file(test::fixtureModel("tiny-gpt-neox") / file, dir / file);
}

} // namespace

class WeightAnalysisParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void analysis_lora_tiny_gpt_neox();
    void analysis_lora_tiny_qwen2();
    void analysis_lora_tiny_llama();
    void analysis_full_checkpoint();
    void analysis_full_checkpoint_in_float32();
    void analysis_subspace_similarity_reference();
};
REGISTER_TESTS(WeightAnalysisParityTests);

class WeightAnalysisGpuTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "gpu")
private Q_SLOTS:
    void analysis_on_cuda();
};
REGISTER_TESTS(WeightAnalysisGpuTests);

class WeightAnalysisTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void analysis_lora_core_equals_full_svd();
    void analysis_effective_ranks_of_known_spectra();
    void analysis_subspace_similarity_self_orthogonal_symmetric();
    void analysis_intruders_constructed();
    void analysis_refuses_a_base_of_another_architecture();
    void analysis_refuses_shapes_that_differ();
    void analysis_progress_and_cancel();
    void cli_analyze_table_json_and_refusal();
};
REGISTER_TESTS(WeightAnalysisTests);

void WeightAnalysisParityTests::analysis_lora_tiny_gpt_neox() { checkLoraFixture("tiny-gpt-neox"); }
void WeightAnalysisParityTests::analysis_lora_tiny_qwen2() { checkLoraFixture("tiny-qwen2"); }
void WeightAnalysisParityTests::analysis_lora_tiny_llama() { checkLoraFixture("tiny-llama-spm"); }

void WeightAnalysisParityTests::analysis_full_checkpoint()
{
    const UpdateAnalysis a = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), fullFixture());
    QVERIFY(a.kind == UpdateKind::Full);
    checkAgainstReference(a, analysisReference()["cases"]["full/tiny-gpt-neox"]["layers"]);
    QCOMPARE(a.kinds.size(), 5u); // four kinds in the blocks and the head
    for (const auto& u : a.layers) QCOMPARE(u.loraRank, 0);
}

void WeightAnalysisParityTests::analysis_full_checkpoint_in_float32()
{
    // With no matrix small enough for float64 the dense decompositions run in
    // float32: the flags say so and the numbers stay within float32's reach.
    AnalysisOptions options;
    options.float64MaxElements = 0;
    const UpdateAnalysis a = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), fullFixture(), options);
    const auto& expected = analysisReference()["cases"]["full/tiny-gpt-neox"]["layers"];
    QVERIFY(a.layers.size() == expected.size());
    for (const auto& e : expected) {
        const auto u = std::find_if(a.layers.begin(), a.layers.end(), [&](const LayerUpdate& x) { return x.module == e["module"]; });
        QVERIFY(u != a.layers.end());
        QVERIFY(!u->spectrumFloat64 && !u->intrudersFloat64);
        QVERIFY(closeRel(u->singularValues.front(), e["singular_values"][0], 1e-4));
        QVERIFY(closeRel(u->effectiveRank, e["effective_rank"], 1e-4));
    }
}

void WeightAnalysisGpuTests::analysis_on_cuda()
{
    // float64 on the GPU (cuSOLVER) agrees with the reference as closely as the CPU does.
    const std::string device = test::cudaOrSkip().str();
    const UpdateAnalysis lora = analyseOn(device, test::fixtureModel("tiny-gpt-neox"), test::fixtureAdapter("tiny-gpt-neox"));
    QCOMPARE(lora.device.rfind("cuda", 0), 0u);
    checkAgainstReference(lora, analysisReference()["cases"]["lora/tiny-gpt-neox"]["layers"]);
    const UpdateAnalysis full = analyseOn(device, test::fixtureModel("tiny-gpt-neox"), fullFixture());
    checkAgainstReference(full, analysisReference()["cases"]["full/tiny-gpt-neox"]["layers"]);
}

void WeightAnalysisTests::analysis_lora_core_equals_full_svd()
{
    // Spectrum of scale * B A from the r x r core against the SVD of the product itself.
    torch::manual_seed(7);
    const torch::Tensor b = torch::randn({96, 6}, torch::kDouble);
    const torch::Tensor a = torch::randn({6, 40}, torch::kDouble);
    const double scale = 16.0 / std::sqrt(6.0); // rsLoRA's alpha / sqrt(r)
    const torch::Tensor product = b.matmul(a) * scale;
    const Spectrum core = lowRankSpectrum(b, a, scale, true);
    const Spectrum dense = denseSpectrum(product, true);
    QVERIFY(core.values.numel() == 6);
    const double largest = dense.values[0].item<double>();
    for (std::int64_t i = 0; i < 6; ++i) QVERIFY(closeRel(core.values[i].item<double>(), dense.values[i].item<double>(), 1e-12));
    QVERIFY(dense.values.narrow(0, 6, 34).max().item<double>() <= 1e-12 * largest);
    // The vectors are the update's: orthonormal, and U S V^T rebuilds it.
    const torch::Tensor rebuilt = core.left.matmul(torch::diag(core.values)).matmul(core.right.t());
    QVERIFY((rebuilt - product).abs().max().item<double>() <= 1e-12 * largest);
    QVERIFY((core.left.t().matmul(core.left) - torch::eye(6, torch::kDouble)).abs().max().item<double>() <= 1e-12);
    QVERIFY((core.right.t().matmul(core.right) - torch::eye(6, torch::kDouble)).abs().max().item<double>() <= 1e-12);
    QCOMPARE(numericalRank(dense.values, 96, 40), 6);
}

void WeightAnalysisTests::analysis_effective_ranks_of_known_spectra()
{
    const auto values = [](std::vector<double> v) { return torch::tensor(v, torch::kDouble); };
    VERIFY_NEAR(effectiveRank(values({2, 2, 2, 2})), 4.0, 1e-12); // flat: every direction counts
    VERIFY_NEAR(effectiveRank(values({5, 0, 0})), 1.0, 1e-12);
    // p = (3/4, 1/4): exp(-(3/4 ln 3/4 + 1/4 ln 1/4)).
    VERIFY_NEAR(effectiveRank(values({3, 1})), std::exp(-(0.75 * std::log(0.75) + 0.25 * std::log(0.25))), 1e-12);
    QCOMPARE(energyRank(values({3, 1}), 0.9), 1);       // 9 of 10 is exactly 90 %
    QCOMPARE(energyRank(values({2, 2, 2, 2}), 0.9), 4); // 3 of 4 directions hold only 75 %
    QCOMPARE(energyRank(values({2, 2, 2, 2}), 1.0), 4);
    VERIFY_NEAR(effectiveRank(values({0, 0})), 0.0, 0.0);
    QCOMPARE(energyRank(values({0, 0}), 0.9), 0);
    QCOMPARE(numericalRank(values({0, 0}), 3, 3), 0);
}

void WeightAnalysisTests::analysis_subspace_similarity_self_orthogonal_symmetric()
{
    AnalysisOptions options;
    options.keepDirections = 8;
    options.intruders = false;
    const UpdateAnalysis lora = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), test::fixtureAdapter("tiny-gpt-neox"), options);
    const UpdateAnalysis full = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), fullFixture(), options);
    for (const SingularSide side : {SingularSide::Right, SingularSide::Left}) {
        const UpdateComparison self = compareUpdates(lora, lora, {8, side});
        QVERIFY(self.layers.size() == 8u);
        for (const auto& s : self.layers) {
            QCOMPARE(s.k, 4); // capped by the adapter's rank
            VERIFY_NEAR(s.similarity, 1.0, 1e-12);
        }
        const UpdateComparison ab = compareUpdates(lora, full, {8, side});
        const UpdateComparison ba = compareUpdates(full, lora, {8, side});
        QVERIFY(ab.layers.size() == 8u);
        QVERIFY(ba.layers.size() == 8u);
        for (std::size_t i = 0; i < ab.layers.size(); ++i) {
            QCOMPARE(ab.layers[i].module, ba.layers[i].module);
            VERIFY_NEAR(ab.layers[i].similarity, ba.layers[i].similarity, 1e-12);
        }
        QCOMPARE(ab.notes.size(), 1u); // the head: only the full update changes it
    }
    // An update in the orthogonal complement of another's top directions.
    const torch::Tensor q = randomOrthogonal(64, 3);
    VERIFY_NEAR(subspaceSimilarity(q.narrow(1, 0, 8), q.narrow(1, 8, 8), 8, 8), 0.0, 1e-12);
    VERIFY_NEAR(subspaceSimilarity(q.narrow(1, 0, 8), q.narrow(1, 0, 8), 8, 8), 1.0, 1e-12);
    // phi(i, j) with i < j: the smaller span inside the larger one gives 1.
    VERIFY_NEAR(subspaceSimilarity(q.narrow(1, 0, 3), q.narrow(1, 0, 8), 3, 8), 1.0, 1e-12);
}

void WeightAnalysisParityTests::analysis_subspace_similarity_reference()
{
    AnalysisOptions options;
    options.keepDirections = 8;
    options.intruders = false;
    const UpdateAnalysis lora = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), test::fixtureAdapter("tiny-gpt-neox"), options);
    const UpdateAnalysis full = analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), fullFixture(), options);
    const auto& expected = analysisReference()["comparison"]["layers"];
    for (const SingularSide side : {SingularSide::Right, SingularSide::Left}) {
        const UpdateComparison c = compareUpdates(lora, full, {8, side});
        QVERIFY(c.layers.size() == expected.size());
        for (const auto& e : expected) {
            const auto found = std::find_if(c.layers.begin(), c.layers.end(), [&](const LayerSimilarity& s) { return s.module == e["module"]; });
            QVERIFY(found != c.layers.end());
            QCOMPARE(found->k, e["k"].get<std::int64_t>());
            QVERIFY(closeRel(found->similarity, e[singularSideName(side)], kAnalysisRel));
        }
    }
}

void WeightAnalysisTests::analysis_intruders_constructed()
{
    // Base W = U diag(s) V^T, [192, 64], with distinct s; U's 64 columns leave
    // a 128-dimensional complement of W's column space.
    const torch::Tensor u = randomOrthogonal(192, 11);
    const torch::Tensor v = randomOrthogonal(64, 12);
    const torch::Tensor s = torch::linspace(3.0, 0.5, 64, torch::kDouble);
    const torch::Tensor w = u.narrow(1, 0, 64).matmul(torch::diag(s)).matmul(v.t());
    const fs::path dir = test::scratchDir("analysis-intruders");
    writeModelWith(dir / "base", w);

    // A LoRA update B A * scale = 40 u_c1 v_63^T + 30 u_c2 v_62^T: two new
    // output directions orthogonal to every u_i, larger than any s_i. W + dW
    // then has singular vectors (s_j u_j + sigma u_c) / norm, whose largest
    // |cos| with W's is s_j / sqrt(s_j^2 + sigma^2) < 0.02, and keeps u_i for the rest.
    const double scale = 2.0; // alpha 4, r 2
    const torch::Tensor bFactor = torch::stack({u.select(1, 64) * 40.0, u.select(1, 65) * 30.0}, 1) / scale; // [192, 2]
    const torch::Tensor aFactor = torch::stack({v.select(1, 63), v.select(1, 62)}, 0);                      // [2, 64]
    const fs::path adapter = dir / "adapter";
    fs::create_directories(adapter);
    const std::string key = std::string("base_model.model.") + kConstructedModule;
    saveSafetensors(adapter / "adapter_model.safetensors",
                    {{key + ".lora_A.weight", aFactor.to(torch::kFloat)}, {key + ".lora_B.weight", bFactor.to(torch::kFloat)}});
    writeFileAtomic(adapter / "adapter_config.json", R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": [")" +
                                                         std::string(kConstructedModule) + R"("]})");
    const UpdateAnalysis added = analyseOnCpu(dir / "base", adapter);
    QVERIFY(added.layers.size() == 1u);
    const LayerUpdate& l = added.layers[0];
    QCOMPARE(l.intruderCount, 2);
    QVERIFY(l.intruderCosines.size() == 10u);
    QVERIFY(l.intruderCosines[0] < 0.02 && l.intruderCosines[1] < 0.02);
    for (std::size_t i = 2; i < 10; ++i) QVERIFY(l.intruderCosines[i] > 0.999);
    QVERIFY(closeRel(l.singularValues[0], 40.0, 1e-6) && closeRel(l.singularValues[1], 30.0, 1e-6));

    // Fewer of them than top-k, and a stricter epsilon, count the same two.
    AnalysisOptions strict;
    strict.intruderTopK = 3;
    strict.intruderEpsilon = 0.05;
    QCOMPARE(analyseOnCpu(dir / "base", adapter, strict).layers[0].intruderCount, 2);

    // Rescaling W's singular values (the order changes, no value repeats)
    // keeps every singular vector: no intruder.
    const torch::Tensor rescaled = s * torch::linspace(0.4, 2.5, 64, torch::kDouble);
    writeModelWith(dir / "rescaled", u.narrow(1, 0, 64).matmul(torch::diag(rescaled)).matmul(v.t()));
    const UpdateAnalysis scaled = analyseOnCpu(dir / "base", dir / "rescaled");
    const auto layer = std::find_if(scaled.layers.begin(), scaled.layers.end(), [](const LayerUpdate& x) { return x.module == kConstructedModule; });
    QVERIFY(layer != scaled.layers.end());
    QVERIFY(layer->updateNorm > 1.0);
    QCOMPARE(layer->intruderCount, 0);
    for (const double c : layer->intruderCosines) QVERIFY(c > 0.999);
    std::int64_t total = 0;
    for (const auto& x : scaled.layers) total += x.intruderCount;
    QCOMPARE(total, 0); // the other layers are unchanged
}

void WeightAnalysisTests::analysis_refuses_a_base_of_another_architecture()
{
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-qwen2"), test::fixtureAdapter("tiny-gpt-neox")),
                      "adapter_model.safetensors", "tensor 'base_model.model.gpt_neox.layers.", "tiny-qwen2 (qwen2) does not have");
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-qwen2"), fullFixture()), "tiny-gpt-neox-full",
                      "has no tensor 'model.layers.0.", "the checkpoint is a gpt_neox model");
}

void WeightAnalysisTests::analysis_refuses_shapes_that_differ()
{
    const fs::path dir = test::scratchDir("analysis-shapes");
    // An adapter whose B factor has 96 output rows for a [192, 64] layer.
    fs::copy(test::fixtureAdapter("tiny-gpt-neox"), dir / "adapter");
    NamedTensors factors = loadSafetensors(dir / "adapter/adapter_model.safetensors");
    const std::string wrong = "base_model.model.gpt_neox.layers.1.attention.query_key_value.lora_B.weight";
    for (auto& [name, t] : factors)
        if (name == wrong) t = t.narrow(0, 0, 96).contiguous();
    saveSafetensors(dir / "adapter/adapter_model.safetensors", factors);
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), dir / "adapter"), "tensor '" + wrong + "' has shape [96, 4]",
                      "gpt_neox.layers.1.attention.query_key_value.weight [192, 64]");
    // A full checkpoint with one weight of another shape.
    fs::create_directories(dir / "full");
    NamedTensors weights = loadSafetensors(fullFixture() / "model.safetensors");
    for (auto& [name, t] : weights)
        if (name == "gpt_neox.layers.0.mlp.dense_h_to_4h.weight") t = t.narrow(0, 0, 128).contiguous();
    saveSafetensors(dir / "full/model.safetensors", weights);
    fs::copy_file(fullFixture() / "config.json", dir / "full/config.json");
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), dir / "full"),
                      "tensor 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight' has shape [128, 64]", "is [256, 64]");
    // Neither an adapter nor a checkpoint.
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), dir), "holds neither a PEFT adapter");
    VERIFY_THROWS_WITH(analyseOnCpu(test::fixtureModel("tiny-gpt-neox"), dir / "missing"), "missing: not found");
}

void WeightAnalysisTests::analysis_progress_and_cancel()
{
    AnalysisInput input;
    input.baseModel = test::fixtureModel("tiny-gpt-neox").string();
    input.checkpoint = test::fixtureAdapter("tiny-gpt-neox").string();
    input.device = "cpu";
    std::vector<AnalysisProgress> seen;
    const UpdateAnalysis stopped = analyzeUpdate(input, {}, [&](const AnalysisProgress& p) {
        seen.push_back(p);
        return p.done < 3;
    });
    QVERIFY(!stopped.complete);
    QCOMPARE(stopped.layers.size(), 3u);
    QVERIFY(seen.size() == 4u);
    QCOMPARE(seen[0].total, 8u);
    for (std::size_t i = 0; i < 3; ++i) QCOMPARE(seen[i].module, stopped.layers[i].module);
    QCOMPARE(seen[3].done, 3u); // the call that stopped it named the fourth layer
    QVERIFY(!seen[3].module.empty());
    QCOMPARE(stopped.kinds.size(), 3u); // the kinds of the layers done
    seen.clear();
    const UpdateAnalysis whole = analyzeUpdate(input, {}, [&](const AnalysisProgress& p) {
        seen.push_back(p);
        return true;
    });
    QVERIFY(whole.complete);
    QVERIFY(seen.size() == 9u);
    QCOMPARE(seen.back().done, 8u);
    QVERIFY(seen.back().module.empty());
}

void WeightAnalysisTests::cli_analyze_table_json_and_refusal()
{
    const std::string base = test::fixtureModel("tiny-gpt-neox").string();
    const std::string adapter = test::fixtureAdapter("tiny-gpt-neox").string();
    const auto table = test::runCli({"analyze", adapter, "--model", base, "--device", "cpu", "--threads", "1"});
    QCOMPARE(table.exitCode, 0);
    for (const char* line : {"kind             layers  |dW|/|W|  eff. rank  rank 90%  intruders",
                             "gpt_neox.layers.0.attention.query_key_value      0  192x64"})
        QVERIFY(table.output.find(line) != std::string::npos);
    if (table.exitCode != 0) std::cout << table.output;

    const auto json = test::runCli({"analyze", adapter, fullFixture().string(), "--model", base, "--json", "--device", "cpu",
                                    "--threads", "1", "--top-k", "5", "--side", "left"});
    QVERIFY(json.exitCode == 0);
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(json.output);
    } catch (const std::exception& e) {
        test::fail(__FILE__, __LINE__, std::string("not JSON: ") + e.what() + "\n" + json.output);
        return;
    }
    QCOMPARE(parsed["analyses"].size(), 2u);
    QCOMPARE(parsed["analyses"][1]["method"].get<std::string>(), "full");
    QCOMPARE(parsed["analyses"][0]["layers"][0]["intruder_cosines"].size(), 5u);
    QCOMPARE(parsed["comparison"]["side"].get<std::string>(), "left");
    const auto& expected = analysisReference()["comparison"]["layers"][0];
    for (const auto& l : parsed["comparison"]["layers"])
        if (l["module"] == expected["module"]) QVERIFY(closeRel(l["similarity"], expected["left"]));

    const auto refused = test::runCli({"analyze", adapter, "--model", test::fixtureModel("tiny-qwen2").string(), "--device", "cpu"});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY(refused.output.find("error: ") != std::string::npos &&
          refused.output.find("tensor 'base_model.model.gpt_neox.layers.") != std::string::npos);
}

#include "test_weight_analysis.moc"
