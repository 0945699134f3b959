// loralab-cli pretrain: a sentencepiece tokenizer and a small GPT-NeoX model
// trained from scratch on a text corpus; see tools.h.
#include "engine/commands/tools.h"

#include "engine/checkpoint/checkpoint.h"
#include "engine/data/dataset.h"
#include "engine/io/safetensors.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/sentencepiece_tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <filesystem>

namespace loralab {
namespace fs = std::filesystem;

namespace {

RunResult pretrainInto(const PretrainConfig& config, const fs::path& out, RunControl& control, const RunCallbacks& callbacks)
{
    const auto event = [&](const std::string& m) {
        if (callbacks.onEvent) callbacks.onEvent(m);
    };

    // 1. A sentencepiece BPE tokenizer that keeps newlines and spacing, so
    //    dialogues ("\n\nHuman: ...") survive a round trip.
    event("training a " + std::to_string(config.vocabSize) + "-piece sentencepiece tokenizer on " + config.corpus);
    const fs::path prefix = out / "tokenizer";
    std::string input = config.corpus;
    const fs::path extraText = out / "tokenizer-extra.txt";
    if (!config.tokenizerExtra.empty()) {
        std::string text;
        for (const auto& file : config.tokenizerExtra)
            for (const auto& e : loadDataset(file).examples) text += e.prompt + " " + e.target + " " + e.rejected + "\n";
        writeFileAtomic(extraText, text);
        input += "," + extraText.string();
    }
    trainSentencePiece({{"input", input},
                        {"model_prefix", prefix.string()},
                        {"model_type", "bpe"},
                        {"vocab_size", std::to_string(config.vocabSize)},
                        {"character_coverage", "1.0"},
                        {"byte_fallback", "true"},
                        {"split_digits", "true"},
                        {"normalization_rule_name", "identity"},
                        {"remove_extra_whitespaces", "false"},
                        {"allow_whitespace_only_pieces", "true"},
                        {"user_defined_symbols", "\n,Human:,Assistant:"},
                        {"unk_id", "0"},
                        {"bos_id", "1"},
                        {"eos_id", "2"},
                        {"pad_id", "3"},
                        {"input_sentence_size", "2000000"},
                        {"shuffle_input_sentence", "true"},
                        {"num_threads", "2"},
                        {"minloglevel", "2"}});
    fs::remove(out / "tokenizer.vocab");
    fs::remove(extraText);
    writeFileAtomic(out / "tokenizer_config.json",
                    "{\n  \"bos_token\": \"<s>\",\n  \"eos_token\": \"</s>\",\n  \"unk_token\": \"<unk>\",\n"
                    "  \"pad_token\": \"<pad>\",\n  \"add_bos_token\": false,\n  \"tokenizer_class\": \"LlamaTokenizer\"\n}\n");

    // 2. A GPT-NeoX model of the requested shape with random weights.
    ModelConfig model = presetConfig("preset:pythia-70m");
    model.vocabSize = config.vocabSize;
    model.hiddenSize = config.hiddenSize;
    model.intermediateSize = 4 * config.hiddenSize;
    model.numLayers = config.layers;
    model.numHeads = model.numKvHeads = config.heads;
    model.headDim = config.hiddenSize / config.heads;
    model.maxPositions = config.contextLength;
    model.bosTokenId = 1;
    model.eosTokenId = 2;
    model.torchDtype = "float32";
    torch::manual_seed(config.run.seed);
    const auto net = buildCausalLM(model, torch::TensorOptions().dtype(torch::kFloat32));
    net->initRandom();
    NamedTensors weights;
    for (auto& [name, p] : net->uniqueParameters()) weights.emplace_back(name, p);
    saveSafetensors(out / "model.safetensors", weights, {{"format", "pt"}});
    writeFileAtomic(out / "config.json", modelConfigToJson(model));

    // 3. Full training on the corpus, then the best weights into the model directory.
    RunConfig run = config.run;
    run.model = out.string();
    run.objective = Objective::Sft;
    run.method = Method::Full;
    run.dataset = config.corpus;
    run.validation = config.validation;
    run.datasetFormat = DatasetFormat::Text;
    run.textMode = TextMode::Chunk;
    run.maxLen = config.contextLength;
    run.samples = 0;
    // The "last" weights must be the trained ones, not a restored best checkpoint.
    const RunResult result = trainRun(run, control, callbacks);
    auto kept = findRunCheckpoint(result.summary.runDir, config.keep);
    if (!kept) kept = findRunCheckpoint(result.summary.runDir, CheckpointPick::Last);
    if (!kept) throw Error("pretraining stopped before any checkpoint was written");
    // Shipped in fp16: half the size on disk; the engine computes in fp32.
    NamedTensors trained = loadSafetensors(*kept / "model.safetensors", torch::kFloat16);
    saveSafetensors(out / "model.safetensors", trained, {{"format", "pt"}});
    model.torchDtype = "float16";
    writeFileAtomic(out / "config.json", modelConfigToJson(model));
    event("wrote the pretrained model to " + out.string());
    return result;
}

} // namespace

RunResult pretrainModel(const PretrainConfig& config, RunControl& control, const RunCallbacks& callbacks)
{
    if (config.outDir.empty()) throw Error("pretrain needs an output directory");
    const fs::path out = config.outDir;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(out, ec)) && !(fs::is_directory(fs::symlink_status(out, ec)) && fs::is_empty(out, ec)))
        throw fileError(config.outDir, "already exists and is not empty; choose a new folder for the pretrained model");
    const bool madeFolder = !fs::exists(out, ec);
    // A stop asked for while the tokenizer trains waits for the run to save,
    // as one asked for while it trains does; the folder is never left half-made.
    const RecordingScope recording(control);
    fs::create_directories(out, ec);
    if (ec) throw fileError(config.outDir, "cannot create the folder: " + ec.message());
    try {
        return pretrainInto(config, out, control, callbacks);
    } catch (...) {
        // Nothing half-made stays: the folder goes if pretrain made it, else
        // what was written into the empty folder the user gave.
        if (madeFolder) {
            fs::remove_all(out, ec);
        } else {
            for (const auto& entry : fs::directory_iterator(out, ec)) fs::remove_all(entry.path(), ec);
        }
        throw;
    }
}

} // namespace loralab
