// config.json parsing for the supported architectures and clear errors for
// the rest.
#include "test_harness.h"
#include "test_paths.h"

#include "engine/model/model_config.h"
#include "engine/util/error.h"

using namespace loralab;

TEST("unit/config_gpt_neox_legacy_keys")
{
    const ModelConfig c = loadModelConfig(test::fixtureModel("tiny-gpt-neox"));
    CHECK(c.architecture == Architecture::GptNeoX);
    CHECK_EQ(c.rotaryDims(), 4); // head dim 16, rotary_pct 0.25
    CHECK_NEAR(c.ropeTheta, 10000.0, 0.0);
    CHECK(c.parallelResidual);
    CHECK(!c.tieWordEmbeddings);
    CHECK(c.qkvBias);
}

TEST("unit/config_gpt_neox_new_keys_win")
{
    const ModelConfig c = parseModelConfig(R"({"model_type": "gpt_neox", "vocab_size": 100, "hidden_size": 64,
        "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "partial_rotary_factor": 0.5,
        "rope_theta": 500.0, "use_parallel_residual": false, "attention_bias": false})", "config.json");
    CHECK_EQ(c.rotaryDims(), 8);
    CHECK_NEAR(c.ropeTheta, 500.0, 0.0);
    CHECK(!c.parallelResidual);
    CHECK(!c.qkvBias);
}

TEST("unit/config_qwen2_and_llama")
{
    const ModelConfig q = loadModelConfig(test::fixtureModel("tiny-qwen2"));
    CHECK(q.architecture == Architecture::Qwen2);
    CHECK_EQ(q.numKvHeads, 2);
    CHECK(q.tieWordEmbeddings);
    CHECK(q.qkvBias);
    CHECK(!q.outputProjBias);
    CHECK_NEAR(q.normEps, 1e-6, 0.0);
    const ModelConfig l = loadModelConfig(test::fixtureModel("tiny-llama-spm"));
    CHECK(l.architecture == Architecture::Llama);
    CHECK(!l.qkvBias);
    CHECK(!l.mlpBias);
    CHECK(!l.tieWordEmbeddings);
}

TEST("unit/config_errors_name_file_and_problem")
{
    CHECK_THROWS_WITH(parseModelConfig(R"({"model_type": "mamba"})", "/m/config.json"), "/m/config.json", "mamba",
                      "gpt_neox", "qwen2", "llama");
    CHECK_THROWS_WITH(parseModelConfig("{not json", "/m/config.json"), "/m/config.json", "not valid JSON");
    CHECK_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": 10})", "c.json"), "c.json", "hidden_size");
    CHECK_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64,
        "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3})", "c.json"),
                      "num_key_value_heads");
    CHECK_THROWS_WITH(parseModelConfig(R"({"model_type": "llama", "vocab_size": "x"})", "c.json"), "vocab_size");
    CHECK_THROWS_WITH(loadModelConfig("/nonexistent/model"), "/nonexistent/model/config.json", "not found");
}

TEST("unit/config_roundtrips_through_json")
{
    for (const char* name : test::kFixtureModels) {
        const ModelConfig a = loadModelConfig(test::fixtureModel(name));
        const ModelConfig b = parseModelConfig(modelConfigToJson(a), "exported");
        CHECK(a.architecture == b.architecture);
        CHECK_EQ(a.numKvHeads, b.numKvHeads);
        CHECK_EQ(a.rotaryDims(), b.rotaryDims());
        CHECK_EQ(a.tieWordEmbeddings, b.tieWordEmbeddings);
        CHECK_EQ(a.qkvBias, b.qkvBias);
        CHECK_EQ(a.mlpBias, b.mlpBias);
        CHECK_NEAR(a.ropeTheta, b.ropeTheta, 0.0);
    }
}

TEST("unit/presets_are_listed_and_unknown_ones_refused")
{
    CHECK_EQ(presetNames().size(), 5u);
    CHECK_EQ(presetConfig("preset:pythia-1.4b").hiddenSize, 2048);
    CHECK_THROWS_WITH(presetConfig("preset:gpt-5"), "unknown preset", "preset:pythia-70m");
}
