// GGUF export of the fixture models with their fixture adapters folded in:
// each writes model-f16.gguf, model-q8_0.gguf and the merged safetensors
// export beside them, for tests/python/check_gguf.py to compare tensor by
// tensor with gguf-py. Here: the files appear whole, the model is left as it
// was, and what llama.cpp cannot express or a path that cannot be written
// are Errors that say so.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/export/gguf_export.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/commands/tools.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <torch/torch.h>

namespace {

namespace fs = std::filesystem;
using loralab::test::fixtureAdapter;
using loralab::test::fixtureModel;
using loralab::test::kFixtureModels;
using loralab::test::scratchDir;
using namespace loralab;

class GgufExportTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void gguf_export_fixtures();
    void gguf_export_from_an_adapter_folder();
    void gguf_export_refuses();
};
REGISTER_TESTS(GgufExportTests);

void GgufExportTests::gguf_export_fixtures()
{
    const fs::path root = scratchDir("gguf-export");
    for (const char* name : kFixtureModels) {
        LoadedModel model = loadModel(fixtureModel(name).string());
        loadAdapter(*model.net, fixtureAdapter(name));
        std::vector<torch::Tensor> before;
        for (auto& [key, p] : model.net->uniqueParameters()) before.push_back(p.detach().clone());

        const fs::path dir = root / name;
        exportMergedModel(*model.net, fixtureModel(name), dir / "merged");
        exportGguf(*model.net, *model.tokenizer, fixtureModel(name), dir / "model-f16.gguf", GgufType::F16);
        exportGguf(*model.net, *model.tokenizer, fixtureModel(name), dir / "model-q8_0.gguf", GgufType::Q8_0);

        std::vector<std::string> files;
        for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename().string());
        std::sort(files.begin(), files.end());
        QVERIFY((files == std::vector<std::string>{"merged", "model-f16.gguf", "model-q8_0.gguf"})); // no temporary file left
        QVERIFY(fs::file_size(dir / "model-q8_0.gguf") < fs::file_size(dir / "model-f16.gguf"));
        std::size_t i = 0;
        for (auto& [key, p] : model.net->uniqueParameters()) QVERIFY(torch::equal(p, before[i++]));
        QVERIFY(hasLora(*model.net));
    }
}

void GgufExportTests::gguf_export_from_an_adapter_folder()
{
    // What `loralab-cli export --gguf` runs: the adapter folded into its base
    // gives the same file as exporting the loaded model by hand.
    const fs::path dir = scratchDir("gguf-export-tools");
    const fs::path model = fixtureModel("tiny-qwen2");
    const MergedExport e = exportGgufModel(fixtureAdapter("tiny-qwen2").string(), (dir / "tools.gguf").string(), model.string(),
                                           GgufType::Q8_0);
    QVERIFY(e.method == Method::Lora);
    QVERIFY(e.outDir == (dir / "tools.gguf").string());
    LoadedModel loaded = loadModel(model.string());
    loadAdapter(*loaded.net, fixtureAdapter("tiny-qwen2"));
    exportGguf(*loaded.net, *loaded.tokenizer, model, dir / "direct.gguf", GgufType::Q8_0);
    QVERIFY(readTextFile(dir / "tools.gguf") == readTextFile(dir / "direct.gguf"));
    VERIFY_THROWS_WITH(exportGgufModel(fixtureAdapter("tiny-qwen2").string(), (dir / "tools.gguf").string(), model.string(), GgufType::F16),
                      (dir / "tools.gguf").string(), "already exists");
}

void GgufExportTests::gguf_export_refuses()
{
    const fs::path dir = scratchDir("gguf-export-refused");
    const fs::path neox = fixtureModel("tiny-gpt-neox");
    LoadedModel model = loadModel(neox.string());
    writeFileAtomic(dir / "a-file", "x");
    VERIFY_THROWS_WITH(exportGguf(*model.net, *model.tokenizer, neox, dir / "a-file" / "m.gguf", GgufType::F16),
                      (dir / "a-file" / "m.gguf").string());
    VERIFY_THROWS_WITH(exportGguf(*model.net, *model.tokenizer, neox, dir, GgufType::F16), dir.string(), "is a folder");
    QVERIFY(parseGgufType("q8_0") == GgufType::Q8_0);
    VERIFY_THROWS_WITH(parseGgufType("q4_0"), "f16 or q8_0", "q4_0");

    // Architectures llama.cpp's graphs cannot run, built from the fixtures' shapes.
    const auto refused = [&](const char* fixture, const std::function<void(ModelConfig&)>& change,
                             std::initializer_list<std::string> why) {
        ModelConfig config = loadModelConfig(fixtureModel(fixture));
        change(config);
        const auto net = buildCausalLM(config, torch::TensorOptions().dtype(torch::kFloat32));
        const auto tokenizer = loadTokenizer(fixtureModel(fixture));
        const fs::path out = dir / (std::string(fixture) + ".gguf");
        bool threw = false;
        try {
            exportGguf(*net, *tokenizer, fixtureModel(fixture), out, GgufType::F16);
        } catch (const Error& e) {
            threw = true;
            for (const auto& fragment : why)
                if (std::string(e.what()).find(fragment) == std::string::npos)
                    test::fail(__FILE__, __LINE__, std::string("message '") + e.what() + "' lacks '" + fragment + "'");
        }
        QVERIFY(threw);
        QVERIFY(!fs::exists(out));
    };
    refused("tiny-llama-spm", [](ModelConfig& c) { c.hiddenAct = "gelu"; }, {"llama model", "SiLU", "gelu"});
    refused("tiny-qwen2", [](ModelConfig& c) { c.mlpBias = true; }, {"qwen2", "MLP"});
    refused("tiny-gpt-neox", [](ModelConfig& c) { c.numKvHeads = 2; }, {"gptneox", "grouped-query"});
    refused("tiny-gpt-neox", [](ModelConfig& c) { c.vocabSize = 300; }, {"more than the model's 300-row embedding"});
}

} // namespace

#include "test_gguf_export.moc"
