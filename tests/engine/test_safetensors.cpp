// safetensors as tensors, and model directories with broken weights: each
// problem gives an Error that names the file and the problem.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/io/safetensors.h"
#include "engine/model/model_loader.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

fs::path copyModel(const std::string& name, const std::string& scratch)
{
    const fs::path dir = test::scratchDir(scratch);
    fs::copy(test::fixtureModel(name), dir, fs::copy_options::recursive);
    for (const auto& e : fs::directory_iterator(dir)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    return dir;
}

} // namespace

class SafetensorsTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void safetensors_tensor_roundtrip();
    void model_dir_truncated_weights();
    void model_dir_missing_shard();
    void model_dir_missing_weight();
    void model_dir_shape_disagrees_with_config();
    void model_dir_unknown_dtype_and_old_buffers();
    void model_dir_missing_or_not_a_model();
};
REGISTER_TESTS(SafetensorsTests);

void SafetensorsTests::safetensors_tensor_roundtrip()
{
    const fs::path dir = test::scratchDir("st_roundtrip");
    NamedTensors tensors = {
        {"f32", torch::randn({3, 4})},
        {"f16", torch::randn({5}).to(torch::kHalf)},
        {"bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
        {"i64", torch::arange(7, torch::kInt64)},
        {"i32", torch::arange(3, torch::kInt32)},
        {"strided", torch::randn({4, 6}).t()},
        {"empty", torch::zeros({0, 3})},
    };
    saveSafetensors(dir / "t.safetensors", tensors, {{"format", "pt"}});
    const SafetensorsFile file(dir / "t.safetensors");
    QCOMPARE(file.header().metadata.at("format"), std::string("pt"));
    for (const auto& [name, t] : tensors) {
        const torch::Tensor back = file.load(name);
        QVERIFY(back.scalar_type() == t.scalar_type());
        QVERIFY(torch::equal(back, t));
    }
    QVERIFY(file.load("f16", torch::kFloat32).scalar_type() == torch::kFloat32);
    QVERIFY(torch::allclose(file.load("f16", torch::kFloat32), tensors[1].second.to(torch::kFloat32)));
    VERIFY_THROWS_WITH(file.load("nope"), "t.safetensors", "'nope'");
    // No temporary files are left beside the result.
    QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

void SafetensorsTests::model_dir_truncated_weights()
{
    const fs::path dir = copyModel("tiny-gpt-neox", "truncated");
    fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
    VERIFY_THROWS_WITH(loadModel(dir.string()), (dir / "model.safetensors").string(), "past the end");
    fs::resize_file(dir / "model.safetensors", 5);
    VERIFY_THROWS_WITH(loadModel(dir.string()), "model.safetensors", "truncated");
}

void SafetensorsTests::model_dir_missing_shard()
{
    const fs::path dir = copyModel("tiny-qwen2", "missing_shard");
    fs::remove(dir / "model-00002-of-00002.safetensors");
    VERIFY_THROWS_WITH(loadModel(dir.string()), "model.safetensors.index.json", "model-00002-of-00002.safetensors", "missing");
}

void SafetensorsTests::model_dir_missing_weight()
{
    const fs::path dir = copyModel("tiny-gpt-neox", "missing_weight");
    NamedTensors tensors = loadSafetensors(dir / "model.safetensors");
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [](const auto& t) { return t.first == "gpt_neox.layers.1.mlp.dense_4h_to_h.weight"; }),
                  tensors.end());
    saveSafetensors(dir / "model.safetensors", tensors);
    VERIFY_THROWS_WITH(loadModel(dir.string()), dir.string(), "missing weight 'gpt_neox.layers.1.mlp.dense_4h_to_h.weight'");
}

void SafetensorsTests::model_dir_shape_disagrees_with_config()
{
    const fs::path dir = copyModel("tiny-llama-spm", "bad_shape");
    auto config = nlohmann::json::parse(readTextFile(dir / "config.json"));
    config["intermediate_size"] = 100;
    writeFileAtomic(dir / "config.json", config.dump());
    VERIFY_THROWS_WITH(loadModel(dir.string()), "model.safetensors", "mlp", "has shape", "[176, 64]", "config.json implies [100, 64]");
}

void SafetensorsTests::model_dir_unknown_dtype_and_old_buffers()
{
    const fs::path dir = copyModel("tiny-gpt-neox", "unknown_dtype");
    // Old Pythia checkpoints carry attention.bias / masked_bias / inv_freq buffers: ignored.
    NamedTensors tensors = loadSafetensors(dir / "model.safetensors");
    tensors.emplace_back("gpt_neox.layers.0.attention.bias", torch::ones({1, 1, 8, 8}, torch::kBool));
    tensors.emplace_back("gpt_neox.layers.0.attention.masked_bias", torch::tensor(-1e9));
    tensors.emplace_back("gpt_neox.layers.0.attention.rotary_emb.inv_freq", torch::ones({2}));
    saveSafetensors(dir / "model.safetensors", tensors);
    const LoadedModel model = loadModel(dir.string());
    QVERIFY(model.notes.empty());

    std::string bytes = readTextFile(dir / "model.safetensors");
    const auto at = bytes.find("\"F16\"");
    QVERIFY(at != std::string::npos);
    bytes.replace(at, 5, "\"X16\"");
    writeFileAtomic(dir / "model.safetensors", bytes);
    VERIFY_THROWS_WITH(loadModel(dir.string()), "model.safetensors", "unknown dtype 'X16'");
}

void SafetensorsTests::model_dir_missing_or_not_a_model()
{
    VERIFY_THROWS_WITH(loadModel("/nonexistent/dir"), "/nonexistent/dir", "not found");
    const fs::path dir = test::scratchDir("no_weights");
    fs::copy(test::fixtureModel("tiny-qwen2") / "config.json", dir / "config.json");
    VERIFY_THROWS_WITH(loadModel(dir.string()), dir.string(), "no model.safetensors");
}

#include "test_safetensors.moc"
