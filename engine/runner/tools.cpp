// eval, pretrain and sampling from a finished run; see tools.h and runner.h.
#include "engine/runner/tools.h"

#include "engine/data/collate.h"
#include "engine/io/safetensors.h"
#include "engine/runner/resources.h"
#include "engine/runner/run_samples.h"
#include "engine/runner/run_setup.h"
#include "engine/tokenizer/sentencepiece_tokenizer.h"
#include "engine/train/checkpoint_store.h"
#include "engine/train/loss.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cmath>
#include <limits>
#include <optional>

namespace loralab {
namespace fs = std::filesystem;

double CompletionEval::perplexity() const { return std::exp(loss); }

CompletionEval evaluateCompletions(const std::string& model, const std::string& adapterDir, const std::string& dataFile,
                                   const std::string& device, std::int64_t batchSize)
{
    LoadOptions options;
    options.device = resolveDevice(device);
    const LoadedModel loaded = loadModel(resolveModelSpec(model), options);
    if (!loaded.tokenizer) throw Error(model + " has no tokenizer; give a model directory");
    if (!adapterDir.empty()) loadAdapter(*loaded.net, adapterDir);
    const Dataset data = loadDataset(dataFile);
    if (data.isText()) throw fileError(dataFile, "is text; eval scores completions of prompt/completion or HH JSONL");

    TokenizeOptions t;
    t.maxLen = std::numeric_limits<std::int64_t>::max() / 4;
    t.appendEos = false;
    std::vector<TokenizedExample> examples;
    // Scores are of whole examples: one longer than the model's context is
    // refused by line rather than cut (a cut would change what is measured).
    const std::int64_t context = loaded.config.maxPositions;
    for (const auto& e : data.examples) {
        examples.push_back(tokenizeExample(*loaded.tokenizer, e, t));
        const auto length = static_cast<std::int64_t>(examples.back().ids.size());
        if (context > 0 && length > context)
            throw fileError(dataFile, "line " + std::to_string(e.line) + ": prompt and completion are " + std::to_string(length) +
                                          " tokens, longer than the model's context of " + std::to_string(context) +
                                          " (max_position_embeddings)");
    }

    torch::NoGradGuard noGrad;
    loaded.net->eval();
    CompletionEval out;
    double sum = 0.0;
    const auto pad = loaded.tokenizer->padId() >= 0 ? loaded.tokenizer->padId() : 0;
    for (std::size_t start = 0; start < examples.size(); start += static_cast<std::size_t>(batchSize)) {
        std::vector<const TokenizedExample*> part;
        for (std::size_t i = start; i < std::min(examples.size(), start + static_cast<std::size_t>(batchSize)); ++i)
            part.push_back(&examples[i]);
        const Batch b = collate(part, pad, options.device);
        const LossOutput l = modelLoss(*loaded.net, b.ids, b.mask, b.labels);
        sum += l.loss.item<double>() * static_cast<double>(l.tokens);
        out.tokens += l.tokens;
    }
    out.examples = static_cast<std::int64_t>(examples.size());
    if (out.tokens == 0) throw fileError(dataFile, "has no completion tokens to score");
    out.loss = sum / static_cast<double>(out.tokens);
    return out;
}

namespace {

// What an export reads: where the trained weights are and what they apply to.
struct ExportSource {
    fs::path checkpoint;
    std::string baseModel; // resolved model spec
    std::string tokenizer; // a model directory whose tokenizer files to copy; may be empty
    Method method = Method::Lora;
};

ExportSource exportSourceOf(const fs::path& from, const std::string& baseOverride)
{
    ExportSource s;
    if (!fs::is_directory(from))
        throw fileError(from.string(), fs::exists(from) ? "is not a directory" : "not found");
    std::optional<RunConfig> run;
    if (fs::exists(from / "checkpoints") && fs::exists(from / "config.json")) { // a run directory
        run = loadRunConfig((from / "config.json").string());
        CheckpointStore store(from / "checkpoints");
        auto checkpoint = store.resolve("best");
        if (!checkpoint) checkpoint = store.resolve("last");
        if (!checkpoint) throw fileError(from.string(), "has no checkpoint to export yet");
        s.checkpoint = *checkpoint;
    } else {
        s.checkpoint = from;
        // A run's checkpoint sits in <run>/checkpoints/<step>.
        const fs::path runDir = from.parent_path().parent_path();
        if (from.parent_path().filename() == "checkpoints" && fs::exists(runDir / "config.json"))
            run = loadRunConfig((runDir / "config.json").string());
    }
    const bool adapter = fs::exists(s.checkpoint / "adapter_config.json");
    if (!adapter && !fs::exists(s.checkpoint / "model.safetensors"))
        throw fileError(s.checkpoint.string(), "holds neither an adapter (adapter_config.json) nor model weights (model.safetensors)");
    s.method = adapter ? Method::Lora : Method::Full;
    if (run) s.tokenizer = run->tokenizer;
    if (!adapter) {
        s.baseModel = s.checkpoint.string();
        return s;
    }
    if (!baseOverride.empty()) {
        s.baseModel = baseOverride;
    } else if (run) {
        s.baseModel = run->model;
    } else {
        const auto configPath = s.checkpoint / "adapter_config.json";
        s.baseModel = parseAdapterConfig(readTextFile(configPath), configPath.string()).baseModel;
        if (s.baseModel.empty())
            throw fileError(configPath.string(), "names no base model (base_model_name_or_path); give one with --model");
    }
    s.baseModel = resolveModelSpec(s.baseModel);
    return s;
}

// Where the exported model's tokenizer files come from: the run's tokenizer,
// the embedded one for presets, else the model's own folder.
fs::path tokenizerDirOf(const ExportSource& source, const LoadedModel& model)
{
    if (!source.tokenizer.empty()) return resolveModelSpec(source.tokenizer);
    if (isPresetName(source.baseModel)) return resolveModelSpec("default"); // presets read text with the embedded tokenizer
    return model.dir;
}

MergedExport describeExport(const std::string& out, const ExportSource& source, LoadedModel& model)
{
    MergedExport result;
    result.outDir = out;
    result.checkpoint = source.checkpoint.string();
    result.baseModel = source.method == Method::Lora ? source.baseModel : std::string();
    result.method = methodName(source.method);
    for (const auto& [name, p] : model.net->uniqueParameters())
        if (name.find(".lora_") == std::string::npos) result.params += p.numel();
    return result;
}

} // namespace

MergedExport exportMerged(const std::string& from, const std::string& outDir, const std::string& baseModel,
                          const std::string& dtype)
{
    if (outDir.empty()) throw Error("export needs an output folder");
    const fs::path out = outDir;
    if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out)))
        throw fileError(outDir, "already exists; choose a new folder for the exported model");
    const ExportSource source = exportSourceOf(from, baseModel);

    LoadOptions options;
    options.dtype = dtype.empty() ? torch::kFloat32 : parseDType(dtype);
    LoadedModel model = loadModel(source.baseModel, options);
    if (source.method == Method::Lora) loadAdapter(*model.net, source.checkpoint);
    const fs::path tokenizerDir = tokenizerDirOf(source, model);

    // Written beside its final place and renamed: the folder is whole or absent.
    const fs::path partial = out.string() + ".partial";
    fs::remove_all(partial);
    try {
        exportMergedModel(*model.net, tokenizerDir, partial);
        if (fs::exists(out)) fs::remove(out); // an empty folder the user made
        fs::rename(partial, out);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(partial, ignored);
        throw;
    }
    return describeExport(out.string(), source, model);
}

MergedExport exportGgufModel(const std::string& from, const std::string& outFile, const std::string& baseModel, GgufType type)
{
    if (outFile.empty()) throw Error("export needs an output file for the GGUF model");
    if (fs::exists(outFile)) throw fileError(outFile, "already exists; choose a new file for the GGUF model");
    const ExportSource source = exportSourceOf(from, baseModel);
    LoadedModel model = loadModel(source.baseModel, LoadOptions{});
    if (source.method == Method::Lora) loadAdapter(*model.net, source.checkpoint);
    const fs::path tokenizerDir = tokenizerDirOf(source, model);
    std::shared_ptr<Tokenizer> tokenizer = model.tokenizer;
    if (!tokenizer || tokenizerDir != model.dir) tokenizer = loadTokenizer(tokenizerDir);
    exportGguf(*model.net, *tokenizer, tokenizerDir, outFile, type);
    return describeExport(outFile, source, model);
}

RunResult pretrainModel(const PretrainConfig& config, RunControl& control, const RunCallbacks& callbacks)
{
    if (config.outDir.empty()) throw Error("pretrain needs an output directory");
    const fs::path out = config.outDir;
    fs::create_directories(out);
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
    run.method = RunMethod::Full;
    run.dataset = config.corpus;
    run.validation = config.validation;
    run.datasetFormat = "text";
    run.textMode = "chunk";
    run.maxLen = config.contextLength;
    run.samples = 0;
    // The "last" weights must be the trained ones, not a restored best checkpoint.
    const RunResult result = runExperiment(run, control, callbacks);
    CheckpointStore store(fs::path(result.summary.runDir) / "checkpoints");
    if (config.keep != "last" && config.keep != "best") throw Error("keep must be last or best, not '" + config.keep + "'");
    auto best = store.resolve(config.keep);
    if (!best) best = store.resolve("last");
    if (!best) throw Error("pretraining stopped before any checkpoint was written");
    // Shipped in fp16: half the size on disk; the engine computes in fp32.
    NamedTensors trained = loadSafetensors(*best / "model.safetensors", torch::kFloat16);
    saveSafetensors(out / "model.safetensors", trained, {{"format", "pt"}});
    model.torchDtype = "float16";
    writeFileAtomic(out / "config.json", modelConfigToJson(model));
    event("wrote the pretrained model to " + out.string());
    return result;
}

std::vector<SampleRecord> sampleRun(const std::string& runDir, std::int64_t count, const RunConfig* overrides,
                                    const std::function<void(const SampleRecord&)>& onSample)
{
    RunConfig config = loadRunConfig((fs::path(runDir) / "config.json").string());
    if (overrides) {
        config.sampleMaxNewTokens = overrides->sampleMaxNewTokens;
        config.sampleTemperature = overrides->sampleTemperature;
        config.sampleTopP = overrides->sampleTopP;
        config.sampleTopK = overrides->sampleTopK;
        config.sampleRepetitionPenalty = overrides->sampleRepetitionPenalty;
        config.seed = overrides->seed;
        config.device = overrides->device;
    }
    CheckpointStore store(fs::path(runDir) / "checkpoints");
    auto checkpoint = store.resolve("best");
    if (!checkpoint) checkpoint = store.resolve("last");
    if (!checkpoint) throw fileError(runDir, "has no checkpoint to sample from");

    PreparedModel prepared = prepareModel(config, resolveDevice(config.device));
    CausalLMImpl& net = *prepared.model.net;
    const Tokenizer& tokenizer = *prepared.model.tokenizer;
    const PreparedData data = prepareData(config, nullptr);
    const auto& examples = data.sampleExamples();
    const std::size_t n = std::min<std::size_t>(examples.size(), static_cast<std::size_t>(count));
    std::vector<std::string> prompts;
    std::vector<SampleRecord> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].method = config.method;
        out[i].index = static_cast<std::int64_t>(i);
        out[i].prompt = examples[i].prompt;
        out[i].target = examples[i].target;
        out[i].rejected = examples[i].rejected;
        prompts.push_back(examples[i].prompt);
    }
    const SamplingOptions options = samplingOptionsFor(config, !data.text());
    setLoraEnabled(net, false);
    const auto base = answerPrompts(net, tokenizer, prompts, options);
    setLoraEnabled(net, true);
    loadTrainedWeights(net, trainingMethod(config.method), *checkpoint);
    const auto tuned = answerPrompts(net, tokenizer, prompts, options);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].baseOutput = base[i];
        out[i].tunedOutput = tuned[i];
        if (onSample) onSample(out[i]);
    }
    return out;
}

} // namespace loralab
