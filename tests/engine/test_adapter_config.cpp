// adapter_config.json as PEFT writes it, and the adapters LoRA Lab refuses.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/lora/adapter_config.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

using namespace loralab;

class AdapterConfigTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void adapter_config_reads_peft_files_data() { loralab::test::fixtureModelRows(); }
    void adapter_config_reads_peft_files();
    void adapter_config_roundtrip();
    void adapter_config_refuses_what_it_cannot_apply();
};
REGISTER_TESTS(AdapterConfigTests);

void AdapterConfigTests::adapter_config_reads_peft_files()
{
    const std::string name = test::currentModel();
    const auto path = test::fixtureAdapter(name) / "adapter_config.json";
    const AdapterConfig c = parseAdapterConfig(readTextFile(path), path.string());
    QCOMPARE(c.rank, 4);
    VERIFY_NEAR(c.alpha, 8.0, 0.0);
    VERIFY_NEAR(c.dropout, 0.0, 0.0);
    QVERIFY(!c.useRsLora);
    QVERIFY(c.targetModules.size() == 4u || c.targetModules.size() == 7u);
}

void AdapterConfigTests::adapter_config_roundtrip()
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
    QCOMPARE(back.rank, 16);
    QVERIFY(back.useRsLora);
    QVERIFY(back.targetModules == c.targetModules);
    QCOMPARE(back.baseModel, c.baseModel);
    QCOMPARE(rankFor(back, "model.layers.0.self_attn.q_proj"), 4);
    QCOMPARE(rankFor(back, "model.layers.10.self_attn.q_proj"), 16);
    const std::string json = adapterConfigToJson(c);
    for (const char* key : {"\"peft_type\": \"LORA\"", "\"task_type\": \"CAUSAL_LM\"", "\"bias\": \"none\"", "\"modules_to_save\": null"})
        QVERIFY(json.find(key) != std::string::npos);
}

void AdapterConfigTests::adapter_config_refuses_what_it_cannot_apply()
{
    VERIFY_THROWS_WITH(parseAdapterConfig("{", "a/adapter_config.json"), "a/adapter_config.json", "not valid JSON");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"peft_type": "IA3", "target_modules": ["x"]})", "p"), "p", "IA3");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "use_dora": true})", "p"), "DoRA");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "modules_to_save": ["lm_head"]})", "p"), "modules_to_save");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 0, "target_modules": ["x"]})", "p"), "r must be positive");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4})", "p"), "target_modules");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": "four", "target_modules": ["x"]})", "p"), "p", "field 'r' should be a whole number", "\"four\"");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": "(unclosed"})", "p"), "regular expression");
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "target_modules": ["x"], "bias": "all"})", "p"), "bias");
}

#include "test_adapter_config.moc"
