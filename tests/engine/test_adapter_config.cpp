// adapter_config.json as PEFT writes it, and the adapters LoRA Lab refuses.
#include "test_harness.h"
#include "test_paths.h"

#include "engine/lora/adapter_config.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

using namespace loralab;

TEST("unit/adapter_config_reads_peft_files")
{
    for (const char* name : test::kFixtureModels) {
        const auto path = test::fixtureAdapter(name) / "adapter_config.json";
        const AdapterConfig c = parseAdapterConfig(readTextFile(path), path.string());
        CHECK_EQ(c.rank, 4);
        CHECK_NEAR(c.alpha, 8.0, 0.0);
        CHECK_NEAR(c.dropout, 0.0, 0.0);
        CHECK(!c.useRsLora);
        CHECK(c.targetModules.size() == 4u || c.targetModules.size() == 7u);
    }
}

TEST("unit/adapter_config_roundtrip")
{
    AdapterConfig c;
    c.rank = 16;
    c.alpha = 32;
    c.dropout = 0.05;
    c.useRsLora = true;
    c.targetModules = {"q_proj", "v_proj"};
    c.rankPattern["model.layers.0.self_attn.q_proj"] = 4;
    c.baseModel = "Qwen/Qwen1.5-0.5B";
    const AdapterConfig back = parseAdapterConfig(adapterConfigToJson(c), "x");
    CHECK_EQ(back.rank, 16);
    CHECK(back.useRsLora);
    CHECK(back.targetModules == c.targetModules);
    CHECK_EQ(back.baseModel, c.baseModel);
    CHECK_EQ(rankFor(back, "model.layers.0.self_attn.q_proj"), 4);
    CHECK_EQ(rankFor(back, "model.layers.10.self_attn.q_proj"), 16);
    const std::string json = adapterConfigToJson(c);
    for (const char* key : {"\"peft_type\": \"LORA\"", "\"task_type\": \"CAUSAL_LM\"", "\"bias\": \"none\"", "\"modules_to_save\": null"})
        CHECK(json.find(key) != std::string::npos);
}

TEST("unit/adapter_config_refuses_what_it_cannot_apply")
{
    CHECK_THROWS_WITH(parseAdapterConfig("{", "a/adapter_config.json"), "a/adapter_config.json", "not valid JSON");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"peft_type": "IA3", "target_modules": ["x"]})", "p"), "p", "IA3");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "use_dora": true})", "p"), "DoRA");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "modules_to_save": ["lm_head"]})", "p"), "modules_to_save");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 0, "target_modules": ["x"]})", "p"), "r must be positive");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 4})", "p"), "target_modules");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": "four", "target_modules": ["x"]})", "p"), "p", "wrong type");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": "(unclosed"})", "p"), "regular expression");
    CHECK_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "bias": "all"})", "p"), "bias");
}
