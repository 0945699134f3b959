// loralab-cli info, models, devices, tokenize, detokenize, generate.
#include "commands.h"
#include "progress.h"

#include "engine/lora/lora.h"
#include "engine/model/generation.h"
#include "engine/model/hf_cache.h"
#include "engine/model/model_loader.h"
#include "engine/model/model_summary.h"
#include "engine/config/resources.h"
#include "engine/commands/workbench.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/units.h"

#include <algorithm>
#include <iomanip>
#include <iterator>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

namespace loralab::cli {
namespace {

// A prompt file larger than this is no prompt (a model's context holds at
// most a few hundred thousand tokens); /dev/zero and the like are refused
// before reading as not regular files.
constexpr std::uint64_t kMaxPromptBytes = 16ull << 20;

using Json = nlohmann::ordered_json;

// The MODEL argument, with "default" standing for the embedded model and
// Org/Name for a model in the Hugging Face cache.
std::string requireModel(const Args& args, const char* command)
{
    if (args.positional().empty())
        throw Error(std::string(command) +
                    " needs a MODEL (a model directory, Org/Name from the Hugging Face cache, preset:<name>, or default)");
    return resolveModelSpec(args.positional()[0]);
}

std::shared_ptr<Tokenizer> tokenizerFor(const std::string& model)
{
    if (isPresetName(model)) throw Error(model + " is a shape preset and has no tokenizer; give a model directory");
    return loadTokenizer(model);
}

std::string withCommas(std::int64_t n)
{
    std::string digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

// The run `info` speaks of: the defaults with this model, its LoRA options
// and any --set KEY=VALUE.
RunConfig infoRunConfig(const Args& args, const std::string& spec)
{
    RunConfig run;
    run.model = spec;
    if (args.has("lora-r")) run.loraRank = args.getInt("lora-r", run.loraRank, 1);
    if (args.has("lora-alpha")) run.loraAlpha = args.getDouble("lora-alpha", run.loraAlpha);
    if (args.has("lora-targets")) run.loraTargets = splitList(args.get("lora-targets"));
    run.rsLora = args.has("rslora");
    if (args.has("vocab-size")) run.vocabSize = args.getInt("vocab-size", 0, 1, kMaxVocabSize);
    applySetOptions(args, run);
    if (args.has("device")) run.device = args.get("device");
    checkRunConfig(run);
    return run;
}

int runInfo(const Args& args)
{
    applyRuntimeOptions(args);
    const std::string spec = requireModel(args, "info");
    // Only shapes are needed, so the model is built on the meta device: no
    // memory is allocated and no weights are read.
    ModelConfig config = isPresetName(spec) ? presetConfig(spec) : loadModelConfig(spec);
    std::string stored = isPresetName(spec) ? "random (preset)" : config.torchDtype;
    if (args.has("vocab-size")) config.vocabSize = args.getInt("vocab-size", config.vocabSize, 1, kMaxVocabSize);
    if (config.vocabSize <= 0) throw Error("--vocab-size must be positive");
    const auto net = buildCausalLM(config, torch::TensorOptions().device(torch::kMeta));
    std::vector<LoraTargetInfo> targets;
    if (args.has("lora-targets") || args.has("lora-r")) {
        AdapterConfig lora;
        lora.rank = args.getInt("lora-r", 8, 1);
        lora.alpha = args.getDouble("lora-alpha", 16.0);
        lora.useRsLora = args.has("rslora");
        lora.targetModules = splitList(args.get("lora-targets", "all-linear"));
        if (lora.rank <= 0) throw Error("--lora-r must be positive");
        targets = applyLora(*net, lora);
        setTrainable(*net, Method::Lora);
    }
    const ParameterCounts counts = countParameters(*net);
    const RunConfig run = infoRunConfig(args, spec);
    const MemoryFit fit = planMemory(run);

    if (args.has("json")) {
        Json j;
        j["model"] = spec;
        j["architecture"] = architectureName(config.architecture);
        j["dtype"] = stored;
        j["total_params"] = counts.total;
        j["trainable_params"] = counts.trainable;
        j["params_by_kind"] = counts.byKind;
        j["vocab_size"] = config.vocabSize;
        j["hidden_size"] = config.hiddenSize;
        j["num_layers"] = config.numLayers;
        j["num_heads"] = config.numHeads;
        j["num_kv_heads"] = config.numKvHeads;
        j["tie_word_embeddings"] = config.tieWordEmbeddings;
        if (!targets.empty()) {
            j["trainable_percent"] = 100.0 * static_cast<double>(counts.trainable) / static_cast<double>(counts.total);
            Json list = Json::array();
            for (const auto& t : targets)
                list.push_back({{"module", t.module}, {"in_features", t.inFeatures}, {"out_features", t.outFeatures},
                                {"rank", t.rank}, {"added_params", t.addedParams}});
            j["lora_modules"] = list;
        }
        j["memory"] = memoryFitJson(fit);
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "model            " << spec << "\n"
              << "architecture     " << architectureName(config.architecture) << "\n"
              << "stored dtype     " << stored << "\n"
              << "layers           " << config.numLayers << " x hidden " << config.hiddenSize << ", " << config.numHeads
              << " heads (" << config.numKvHeads << " key/value), head dim " << config.headDim << "\n"
              << "vocabulary       " << config.vocabSize << (config.tieWordEmbeddings ? " (output head tied to embeddings)" : "")
              << "\n"
              << "total params     " << withCommas(counts.total) << "\n"
              << "trainable params " << withCommas(counts.trainable);
    if (!targets.empty())
        std::cout << " (" << std::fixed << std::setprecision(4)
                  << 100.0 * static_cast<double>(counts.trainable) / static_cast<double>(counts.total) << "%, LoRA on "
                  << targets.size() << " layers)";
    std::cout << "\n";
    for (const auto& [kind, n] : counts.byKind) {
        std::string label = "  " + kind;
        label.resize(17, ' ');
        std::cout << label << withCommas(n) << "\n";
    }
    if (args.has("list-modules"))
        for (const auto& t : targets)
            std::cout << "  lora  " << t.module << "  " << t.inFeatures << " -> " << t.outFeatures << "  r=" << t.rank << "  +"
                      << withCommas(t.addedParams) << "\n";
    printMemoryFit(fit, run);
    return 0;
}

int runTokenize(const Args& args)
{
    const auto tokenizer = tokenizerFor(requireModel(args, "tokenize"));
    if (args.has("lines")) {
        // One JSON string per input line; one {"ids", "tokens"} object per output line.
        const std::string path = args.get("lines");
        std::istringstream in(readTextFile(path));
        std::string line;
        for (std::int64_t number = 1; std::getline(in, line); ++number) {
            if (line.empty()) continue;
            const Json text = Json::parse(line, nullptr, false);
            if (!text.is_string()) throw fileError(path, "line " + std::to_string(number) + " is not a JSON string");
            const auto ids = tokenizer->encode(text.get<std::string>());
            std::cout << Json{{"ids", ids}, {"tokens", tokenizer->tokenTexts(ids)}}.dump() << "\n";
        }
        return 0;
    }
    if (!args.has("text")) throw Error("tokenize needs --text or --lines FILE");
    const auto ids = tokenizer->encode(args.get("text"));
    const auto tokens = tokenizer->tokenTexts(ids);
    if (args.has("json")) {
        std::cout << Json{{"ids", ids}, {"tokens", tokens}}.dump() << "\n";
        return 0;
    }
    for (std::size_t i = 0; i < ids.size(); ++i) std::cout << ids[i] << "\t" << Json(tokens[i]).dump() << "\n";
    return 0;
}

int runDetokenize(const Args& args)
{
    const auto tokenizer = tokenizerFor(requireModel(args, "detokenize"));
    if (!args.has("ids")) throw Error("detokenize needs --ids 1,2,3");
    std::vector<std::int64_t> ids;
    for (const auto id : args.getIntList("ids")) {
        if (id < 0 || id >= tokenizer->vocabSize()) throw Error("token id " + std::to_string(id) + " is outside the vocabulary");
        ids.push_back(id);
    }
    const std::string text = tokenizer->decode(ids);
    if (args.has("json"))
        std::cout << Json{{"text", text}}.dump() << "\n";
    else
        std::cout << text << "\n";
    return 0;
}

int runGenerate(const Args& args)
{
    const std::string device = applyRuntimeOptions(args);
    const std::string spec = requireModel(args, "generate");
    if (args.has("prompt") == args.has("prompt-file"))
        throw Error("generate needs a prompt: --prompt TEXT, or --prompt-file FILE (- reads standard input)");
    std::string promptText = args.get("prompt");
    if (args.has("prompt-file")) {
        const std::string file = args.get("prompt-file");
        if (file == "-") {
            promptText = readStreamBounded(std::cin, "standard input", kMaxPromptBytes);
        } else {
            promptText = readTextFile(file, kMaxPromptBytes);
        }
        if (promptText.empty()) throw fileError(file == "-" ? "standard input" : file, "holds no prompt text");
    }
    LoadOptions load;
    load.device = resolveDevice(device);
    load.dtype = parseDType(args.get("dtype", "fp32"));
    const LoadedModel model = loadModel(spec, load);
    if (!model.tokenizer) throw Error(spec + " has no tokenizer; give a model directory");

    SamplingOptions sampling;
    sampling.maxNewTokens = args.getInt("max-new-tokens", 64, 0);
    sampling.temperature = args.getDouble("temperature", 0.0);
    sampling.topP = args.getDouble("top-p", 1.0);
    sampling.topK = args.getInt("top-k", 0, 0);
    sampling.repetitionPenalty = args.getDouble("repetition-penalty", 1.0);
    sampling.seed = static_cast<std::uint64_t>(args.getInt("seed", 0, 0));
    sampling.stopAtEos = !args.has("no-eos-stop");
    if (args.has("stop")) sampling.stopStrings.push_back(args.get("stop"));

    const bool json = args.has("json");
    const auto prompt = model.tokenizer->encode(promptText);
    const GenerationResult result = generate(*model.net, model.tokenizer.get(), prompt, sampling, [&](const std::string& piece) {
        if (!json) std::cout << piece << std::flush;
        return true;
    });
    if (json)
        std::cout << Json{{"ids", result.ids}, {"text", result.text}, {"stop_reason", result.stopReason}}.dump() << "\n";
    else
        std::cout << "\n";
    if (result.stopReason == "context_full")
        std::cerr << "generate: stopped after " << result.ids.size() << " tokens: prompt and answer fill the model's context of "
                  << model.config.maxPositions << " tokens\n";
    return 0;
}

int runModels(const Args& args)
{
    const std::filesystem::path cache = hfCacheDir();
    const auto models = listCachedModels(cache);
    if (args.has("json")) {
        Json list = Json::array();
        for (const auto& m : models)
            list.push_back({{"repo_id", m.repoId}, {"architecture", m.architecture}, {"size_bytes", m.sizeBytes},
                            {"revision", m.revision}, {"snapshot", m.snapshot.string()}, {"has_weights", m.hasWeights},
                            {"has_tokenizer", m.hasTokenizer}});
        std::cout << Json{{"cache", cache.string()}, {"models", list}}.dump(2) << "\n";
        return 0;
    }
    if (models.empty()) {
        std::error_code ec;
        std::cout << "No models in the Hugging Face cache " << cache.string()
                  << (std::filesystem::is_directory(cache, ec) ? "" : " (the folder does not exist)") << ".\n"
                  << "The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. Download a model\n"
                  << "with `huggingface-cli download EleutherAI/pythia-70m`, or give a model folder as MODEL.\n";
        return 0;
    }
    std::size_t idWidth = 0, archWidth = 7; // "unknown"
    for (const auto& m : models) {
        idWidth = std::max(idWidth, m.repoId.size());
        archWidth = std::max(archWidth, m.architecture.size());
    }
    std::cout << "Hugging Face cache " << cache.string() << "\n";
    for (const auto& m : models) {
        std::cout << "  " << std::left << std::setw(static_cast<int>(idWidth)) << m.repoId << "  "
                  << std::setw(static_cast<int>(archWidth)) << (m.architecture.empty() ? "unknown" : m.architecture) << "  "
                  << std::right << std::setw(10) << bytesText(m.sizeBytes) << "  " << m.revision.substr(0, 12) << "  "
                  << m.snapshot.string();
        if (!m.hasWeights) std::cout << "  (no .safetensors weights)";
        else if (!m.hasTokenizer) std::cout << "  (no tokenizer)";
        std::cout << "\n";
    }
    std::cout << "Name one as MODEL, e.g. loralab-cli info " << models.front().repoId << "\n";
    return 0;
}

int runDevices(const Args& args)
{
    const std::string requested = applyRuntimeOptions(args);
    const auto devices = listDevices();
    const DeviceOverview chosen = describeDevice(requested, static_cast<int>(args.getInt("threads", 0, 0, 4096)));
    if (args.has("json")) {
        Json list = Json::array();
        for (const auto& d : devices)
            list.push_back({{"device", d.resolved}, {"name", d.name}, {"total_bytes", d.totalBytes}, {"free_bytes", d.freeBytes}});
        Json j{{"libtorch", chosen.libtorch}, {"devices", list}, {"requested", requested}, {"resolved", chosen.resolved}};
        if (!chosen.problem.empty()) j["problem"] = chosen.problem;
        std::cout << j.dump(2) << "\n";
        return chosen.problem.empty() ? 0 : 1;
    }
    std::cout << "LibTorch " << chosen.libtorch << "\n";
    for (const auto& d : devices) {
        std::cout << "  " << std::left << std::setw(8) << d.resolved << d.name;
        if (d.resolved == "cpu")
            std::cout << ", " << d.threads << " threads";
        else
            std::cout << ", " << bytesText(d.totalBytes) << " (" << bytesText(d.freeBytes) << " free)";
        std::cout << "\n";
    }
    if (!chosen.problem.empty()) throw Error(chosen.problem);
    std::cout << "--device " << requested << " trains on " << chosen.resolved << " (" << chosen.name << ")\n";
    return 0;
}

} // namespace

void applySetOptions(const Args& args, RunConfig& config)
{
    for (const auto& text : args.getAll("set")) {
        const auto eq = text.find('=');
        if (eq == std::string::npos || eq == 0)
            throw Error("--set takes KEY=VALUE (like --set base_quantization=nf4), not \"" + text + "\"");
        setRunOption(config, text.substr(0, eq), text.substr(eq + 1));
    }
}

std::string applyRuntimeOptions(const Args& args)
{
    const auto threads = args.getInt("threads", 0, 0, 4096);
    setThreadCount(static_cast<int>(threads));
    return args.get("device", "auto");
}

std::vector<Command> modelCommands()
{
    return {
        {"info", "info MODEL [--lora-r R --lora-alpha A --lora-targets LIST] [--set KEY=VALUE ...] [--json]",
         "architecture, dtype and parameter counts of a model, with or without LoRA, and whether a training run of it fits",
         {{"vocab-size", "N", "resize the vocabulary as resize_token_embeddings would"},
          {"lora-r", "R", "LoRA rank (default 8 when LoRA is asked for)"},
          {"lora-alpha", "A", "LoRA alpha (default 16)"},
          {"lora-targets", "LIST", "comma-separated module names, all-linear, lm_head/embed_out"},
          {"rslora", "", "scale by alpha/sqrt(r)"},
          {"list-modules", "", "list the layers that get adapters"},
          {"set", "KEY=VALUE", "a run option of the run whose memory is estimated (default: run's defaults), e.g. --set method=full"},
          {"json", "", "print one JSON object"}},
         runInfo},
        {"models", "models [--json]", "the models in the Hugging Face cache, which MODEL can name as Org/Name",
         {{"json", "", "print one JSON object"}},
         runModels},
        {"devices", "devices [--device DEV] [--json]", "the CPU and GPUs LoRA Lab can train on, and what --device picks",
         {{"json", "", "print one JSON object"}},
         runDevices},
        {"tokenize", "tokenize MODEL --text STR [--json] | --lines FILE", "token ids and tokens of a text",
         {{"text", "STR", "the text to tokenize"},
          {"lines", "FILE", "tokenize every line of FILE (a JSON string each); print one JSON object per line"},
          {"json", "", "print {\"ids\": [...], \"tokens\": [...]}"}},
         runTokenize},
        {"detokenize", "detokenize MODEL --ids 1,2,3", "text of token ids",
         {{"ids", "LIST", "comma-separated token ids"}, {"json", "", "print {\"text\": ...}"}},
         runDetokenize},
        {"generate", "generate MODEL --prompt STR | --prompt-file FILE [options]", "continue a prompt, streaming the text",
         {{"prompt", "STR", "the prompt"},
          {"prompt-file", "FILE", "read the prompt from FILE (- for standard input)"},
          {"max-new-tokens", "N", "tokens to generate (default 64; it stops where the context is full)"},
          {"temperature", "T", "0 for greedy decoding (default 0)"},
          {"top-p", "P", "nucleus sampling mass (default 1)"},
          {"top-k", "K", "sample among the K likeliest tokens (default 0: all)"},
          {"repetition-penalty", "R", "penalise tokens already present (default 1)"},
          {"seed", "S", "sampling seed (default 0)"},
          {"stop", "STR", "stop before this text, e.g. a new \"Human:\" turn"},
          {"no-eos-stop", "", "keep going past the end-of-text token"},
          {"dtype", "fp32|bf16|fp16", "compute dtype of the weights (default fp32)"},
          {"json", "", "print {\"ids\": [...], \"text\": ...} at the end instead of streaming"}},
         runGenerate},
    };
}

} // namespace loralab::cli
