// config.json parsing for the supported architectures and clear errors for
// the rest.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/model/model_config.h"
#include "engine/util/error.h"

using namespace loralab;

class ModelConfigTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void config_gpt_neox_legacy_keys();
    void config_gpt_neox_new_keys_win();
    void config_qwen2_and_llama();
    void config_errors_name_file_and_problem();
    void config_roundtrips_through_json_data() { loralab::test::fixtureModelRows(); }
    void config_roundtrips_through_json();
    void presets_are_listed_and_unknown_ones_refused();
};
REGISTER_TESTS(ModelConfigTests);

void ModelConfigTests::config_gpt_neox_legacy_keys()
{
    const ModelConfig c = loadModelConfig(test::fixtureModel("tiny-gpt-neox"));
    QVERIFY(c.architecture == Architecture::GptNeoX);
    QCOMPARE(c.rotaryDims(), 4); // head dim 16, rotary_pct 0.25
    VERIFY_NEAR(c.ropeTheta, 10000.0, 0.0);
    QVERIFY(c.parallelResidual);
    QVERIFY(!c.tieWordEmbeddings);
    QVERIFY(c.qkvBias);
}

void ModelConfigTests::config_gpt_neox_new_keys_win()
{
    const ModelConfig c = parseModelConfig(R"({"model_type": "gpt_neox", "vocab_size": 100, "hidden_size": 64,
        "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "partial_rotary_factor": 0.5,
        "rope_theta": 500.0, "use_parallel_residual": false, "attention_bias": false})", "config.json");
    QCOMPARE(c.rotaryDims(), 8);
    VERIFY_NEAR(c.ropeTheta, 500.0, 0.0);
    QVERIFY(!c.parallelResidual);
    QVERIFY(!c.qkvBias);
}

void ModelConfigTests::config_qwen2_and_llama()
{
    const ModelConfig q = loadModelConfig(test::fixtureModel("tiny-qwen2"));
    QVERIFY(q.architecture == Architecture::Qwen2);
    QCOMPARE(q.numKvHeads, 2);
    QVERIFY(q.tieWordEmbeddings);
    QVERIFY(q.qkvBias);
    QVERIFY(!q.outputProjBias);
    VERIFY_NEAR(q.normEps, 1e-6, 0.0);
    const ModelConfig l = loadModelConfig(test::fixtureModel("tiny-llama-spm"));
    QVERIFY(l.architecture == Architecture::Llama);
    QVERIFY(!l.qkvBias);
    QVERIFY(!l.mlpBias);
    QVERIFY(!l.tieWordEmbeddings);
}

void ModelConfigTests::config_errors_name_file_and_problem()
{
    VERIFY_THROWS_WITH(parseModelConfig(R"({"model_type": "mamba"})", "/m/config.json"), "/m/config.json", "mamba",
                       "gpt_neox", "qwen2", "llama");
    VERIFY_THROWS_WITH(parseModelConfig("{not json", "/m/config.json"), "/m/config.json", "not valid JSON");
    VERIFY_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": 10})", "c.json"), "c.json", "hidden_size");
    VERIFY_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64,
        "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3})", "c.json"),
                       "num_key_value_heads");
    VERIFY_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": "x"})", "c.json"), "vocab_size");
    VERIFY_THROWS_WITH(loadModelConfig("/nonexistent/model"), "/nonexistent/model/config.json", "not found");
}

void ModelConfigTests::config_roundtrips_through_json()
{
    const std::string name = test::currentModel();
    const ModelConfig a = loadModelConfig(test::fixtureModel(name));
    const ModelConfig b = parseModelConfig(modelConfigToJson(a), "exported");
    QVERIFY(a.architecture == b.architecture);
    QCOMPARE(a.numKvHeads, b.numKvHeads);
    QCOMPARE(a.rotaryDims(), b.rotaryDims());
    QCOMPARE(a.tieWordEmbeddings, b.tieWordEmbeddings);
    QCOMPARE(a.qkvBias, b.qkvBias);
    QCOMPARE(a.mlpBias, b.mlpBias);
    VERIFY_NEAR(a.ropeTheta, b.ropeTheta, 0.0);
}

void ModelConfigTests::presets_are_listed_and_unknown_ones_refused()
{
    QCOMPARE(presetNames().size(), 5u);
    QCOMPARE(presetConfig("preset:pythia-1.4b").hiddenSize, 2048);
    VERIFY_THROWS_WITH(presetConfig("preset:gpt-5"), "unknown preset", "preset:pythia-70m");
}

#include "test_model_config.moc"
