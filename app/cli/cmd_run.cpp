// loralab-cli run, compare, sample, eval, pretrain.
#include "commands.h"
#include "launch.h"
#include "progress.h"

#include "engine/dist/collective.h"
#include "engine/run/memory_fit.h"
#include "engine/model/model_config.h"
#include "engine/config/resources.h"
#include "engine/commands/tools.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <climits>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

namespace loralab::cli {
namespace {

std::string runHelp()
{
    std::string text = "CONFIG.json holds any of these options (a missing option takes its default):\n";
    for (const auto& d : runOptionDocs()) {
        std::string left = "  " + d.key + " = " + d.defaultValue;
        if (left.size() < 44) left.resize(44, ' ');
        else left += "  ";
        text += left + d.help + "\n";
    }
    return text;
}

// --print-every: the step printer takes the step number modulo it, so 0 is refused.
int printEvery(const Args& args, int fallback) { return static_cast<int>(args.getInt("print-every", fallback, 1, INT_MAX)); }

RunConfig configFrom(const Args& args)
{
    // A resumed run continues with its own configuration; the options below
    // may change how (threads, device) and how far (max_steps) it goes.
    if (args.has("resume") && !args.positional().empty())
        throw Error("--resume continues a run with its own config.json; give no CONFIG file with it "
                    "(--max-steps N continues a finished run further)");
    RunConfig config = args.has("resume") ? loadRunConfig(args.get("resume") + "/config.json")
                       : args.positional().empty() ? RunConfig()
                                                   : loadRunConfig(args.positional()[0]);
    if (args.has("resume") && args.has("set"))
        throw Error("--resume continues a run with its own config.json; --set cannot change " +
                    args.getAll("set").front().substr(0, args.getAll("set").front().find('=')));
    applySetOptions(args, config);
    config.threads = static_cast<int>(args.getInt("threads", config.threads, 0, INT_MAX));
    if (args.has("device")) config.device = args.get("device");
    if (args.has("runs-dir")) config.runsDir = args.get("runs-dir");
    config.maxSteps = args.getInt("max-steps", config.maxSteps, 0);
    config.processes = static_cast<int>(args.getInt("nproc", config.processes, 1, 1024));
    if (args.has("name")) config.name = args.get("name");
    return config;
}

int runRun(const Args& args)
{
    if (args.has("options")) {
        std::cout << runHelp();
        return 0;
    }
    RunConfig config = configFrom(args);
    if (args.has("dry-run")) {
        // Before anything loads or is written: whether a step fits, and the levers.
        applyRuntimeOptions(args);
        checkRunConfig(config);
        const MemoryFit fit = planMemory(config);
        if (args.has("json")) {
            std::cout << memoryFitJson(fit).dump(2) << "\n";
        } else {
            std::cout << "model            " << config.model << "\n";
            printMemoryFit(fit, config);
            std::cout << "(at max_len: a dataset of shorter examples needs less; nothing was loaded or written)\n";
        }
        return fit.fits ? 0 : 5;
    }
    if (config.processes > 1 && !isLaunchedWorker()) {
        checkRunConfig(config); // a bad configuration is said once, not by every rank
        return launchWorkers(config.processes, config.distTimeout);
    }
    // In a group, rank 0 reports; the other ranks speak only of errors.
    const bool reports = distributedFromEnvironment().rank == 0;
    RunControl control;
    InterruptGuard guard(control);
    const RunResult r = trainRun(config, control, reports ? printingCallbacks(printEvery(args, 1)) : RunCallbacks{}, args.get("resume"));
    if (!reports) return guard.signal() ? 128 + guard.signal() : 0;
    std::cerr << "\n";
    printSummary(r.summary);
    if (!r.samples.empty()) {
        printSamples(r.samples);
        if (r.summary.tunedExactMatch && r.summary.baseExactMatch)
            std::cout << "answers matching their targets: base " << std::fixed << std::setprecision(1)
                      << 100 * *r.summary.baseExactMatch << "%, fine-tuned " << 100 * *r.summary.tunedExactMatch << "% of "
                      << r.samples.size() << "\n";
    }
    if (const int status = guard.interruptedStatus(r.summary.runDir, true)) return status;
    return r.summary.state == RunState::NonFiniteLoss ? 4 : 0;
}

int runSample(const Args& args)
{
    if (args.positional().empty()) throw Error("sample needs a RUN_DIR");
    RunConfig overrides;
    overrides.sampleMaxNewTokens = args.getInt("max-new-tokens", overrides.sampleMaxNewTokens, 1);
    overrides.sampleTemperature = args.getDouble("temperature", 0.0);
    overrides.sampleTopP = args.getDouble("top-p", 1.0);
    overrides.sampleTopK = args.getInt("top-k", 0, 0);
    overrides.sampleRepetitionPenalty = args.getDouble("repetition-penalty", 1.0);
    overrides.seed = static_cast<std::uint64_t>(args.getInt("seed", 0, 0));
    overrides.device = args.get("device", "auto");
    applyRuntimeOptions(args);
    const auto samples = sampleRun(args.positional()[0], args.getInt("count", 8, 1), &overrides, {});
    if (args.has("json")) {
        for (const auto& s : samples) std::cout << toJson(s) << "\n";
        return 0;
    }
    printSamples(samples);
    std::size_t base = 0, tuned = 0;
    for (const auto& s : samples) {
        base += answersMatch(s.baseOutput, s.target);
        tuned += answersMatch(s.tunedOutput, s.target);
    }
    std::cout << "answers matching their targets: base " << base << ", fine-tuned " << tuned << " of " << samples.size() << "\n";
    return 0;
}

int runExport(const Args& args)
{
    applyRuntimeOptions(args);
    if (args.positional().empty()) throw Error("export needs a RUN_DIR, a checkpoint or an adapter directory");
    if (args.has("merged") == args.has("gguf"))
        throw Error("export needs --merged OUT (a folder transformers loads) or --gguf FILE (a file llama.cpp loads)");
    const bool gguf = args.has("gguf");
    if (gguf && args.has("dtype")) throw Error("--dtype is for --merged; a GGUF file's type is --type f16|q8_0");
    if (!gguf && args.has("type")) throw Error("--type is for --gguf; a merged folder's dtype is --dtype");
    const MergedExport e = gguf ? exportGgufModel(args.positional()[0], args.get("gguf"), args.get("model"),
                                                  parseChoice<GgufType>(args.get("type", "f16")))
                                : exportMerged(args.positional()[0], args.get("merged"), args.get("model"), args.get("dtype"));
    if (args.has("json")) {
        std::cout << nlohmann::json{{"out", e.outDir}, {"checkpoint", e.checkpoint}, {"base_model", e.baseModel},
                                    {"method", choiceName(e.method)}, {"params", e.params}}
                         .dump()
                  << "\n";
        return 0;
    }
    std::cout << "exported " << e.outDir << " (" << e.params << " parameters) from " << e.checkpoint;
    if (!e.baseModel.empty()) std::cout << ", merged into " << e.baseModel;
    if (gguf)
        std::cout << "\nrun it with llama.cpp: llama-cli -m " << e.outDir << "\n";
    else
        std::cout << "\nload it with transformers.AutoModelForCausalLM.from_pretrained(\"" << e.outDir << "\")\n";
    return 0;
}

int runEval(const Args& args)
{
    const std::string device = applyRuntimeOptions(args);
    if (args.positional().empty()) throw Error("eval needs a MODEL");
    if (!args.has("data")) throw Error("eval needs --data FILE");
    const CompletionEval e = evaluateCompletions(args.positional()[0], args.get("adapter"), args.get("data"), device,
                                                 args.getInt("batch-size", 8, 1));
    if (args.has("json")) {
        std::cout << nlohmann::json{{"loss", e.loss}, {"tokens", e.tokens}, {"perplexity", e.perplexity()}}.dump() << "\n";
        return 0;
    }
    std::cout << "examples    " << e.examples << "\ntokens      " << e.tokens << "\nloss        " << std::setprecision(8) << e.loss
              << "\nperplexity  " << e.perplexity() << "\n";
    return 0;
}

int runPretrain(const Args& args)
{
    PretrainConfig p;
    if (!args.positional().empty()) p.run = loadRunConfig(args.positional()[0]);
    const std::string corpus = args.get("corpus", "default:wikitext");
    const DatasetFiles files = resolveDatasetSpec(corpus, args.get("validation"));
    p.corpus = files.train.single("pretrain");
    p.validation = files.validation.empty() ? "" : files.validation.single("pretrain");
    p.outDir = args.get("out", "pretrained-model");
    for (const auto& extra : splitList(args.get("tokenizer-text", args.has("tokenizer-text") ? "" : "default:dialogues"))) {
        const DatasetFiles f = resolveDatasetSpec(extra, "");
        p.tokenizerExtra.push_back(f.train.single("pretrain"));
    }
    p.vocabSize = args.getInt("vocab-size", p.vocabSize, 1, kMaxVocabSize);
    p.hiddenSize = args.getInt("hidden", p.hiddenSize, 1);
    p.layers = args.getInt("layers", p.layers, 1);
    p.heads = args.getInt("heads", p.heads, 1);
    p.contextLength = args.getInt("context", p.contextLength, 1);
    if (args.has("keep")) p.keep = parseChoice<CheckpointPick>(args.get("keep"));
    if (args.has("batch-size")) p.run.batchSize = args.getInt("batch-size", p.run.batchSize, 1);
    if (args.has("learning-rate")) p.run.learningRate = args.getDouble("learning-rate", p.run.learningRate);
    if (args.positional().empty()) {
        p.run.name = "pretrain";
        p.run.learningRate = 1e-3;
        p.run.weightDecay = 0.01;
        p.run.warmupSteps = 100;
        p.run.batchSize = 16;
        p.run.maxSteps = 2000;
        p.run.evalInterval = 200;
        p.run.evalBatches = 16;
        p.run.earlyStopping = false;
        p.run.checkpointInterval = 200;
    }
    p.run.maxSteps = args.getInt("max-steps", p.run.maxSteps, 0);
    p.run.threads = static_cast<int>(args.getInt("threads", p.run.threads, 0, INT_MAX));
    if (args.has("device")) p.run.device = args.get("device");
    if (args.has("runs-dir")) p.run.runsDir = args.get("runs-dir");
    if (p.hiddenSize % p.heads != 0) throw Error("--hidden must be a multiple of --heads");
    RunControl control;
    InterruptGuard guard(control);
    const RunResult r = pretrainModel(p, control, printingCallbacks(printEvery(args, 10)));
    std::cerr << "\n";
    printSummary(r.summary);
    std::cout << "model written to " << p.outDir << "\n";
    return guard.interruptedStatus(r.summary.runDir, false);
}

const std::vector<OptionSpec> kRunOptions = {
    {"resume", "RUN_DIR", "continue this run from its last checkpoint"},
    {"max-steps", "N", "override max_steps"},
    {"name", "NAME", "override the run name"},
    {"runs-dir", "DIR", "override runs_dir"},
    {"set", "KEY=VALUE", "set any run option (repeat for more; see --options), e.g. --set base_quantization=nf4"},
    {"print-every", "N", "print every N-th step (default 1)"},
    {"nproc", "N", "train with N data-parallel processes on this machine (one per GPU with --device cuda)"},
    {"options", "", "list every config option with its default"},
    {"dry-run", "", "load and write nothing: say whether a step fits the device's memory, and what each lever would need (exit 5: it does not fit)"},
    {"json", "", "with --dry-run: print one JSON object"},
};

} // namespace

RunConfig runConfigFromArgs(const Args& args) { return configFrom(args); }
const std::vector<OptionSpec>& runOptions() { return kRunOptions; }
std::string runOptionsHelp() { return runHelp(); }
int printEveryOption(const Args& args, int fallback) { return printEvery(args, fallback); }

std::vector<Command> runCommands()
{
    return {
        {"run", "run [CONFIG.json] [options]",
         "train as configured (default: LoRA SFT of the embedded model on the embedded dialogues)", kRunOptions, runRun,
         runHelp},
        {"sample", "sample RUN_DIR [options]", "answer validation prompts with the base and the fine-tuned model",
         {{"count", "N", "examples (default 8)"},
          {"max-new-tokens", "N", "tokens per answer"},
          {"temperature", "T", "0 for greedy (default 0)"},
          {"top-p", "P", "nucleus mass (default 1)"},
          {"top-k", "K", "top-k (default 0: off)"},
          {"repetition-penalty", "R", "default 1"},
          {"seed", "S", "sampling seed"},
          {"json", "", "print one JSON object per example"}},
         runSample},
        {"eval", "eval MODEL [--adapter DIR] --data FILE [--json]",
         "mean negative log-likelihood of the completions in a prompt/completion (or HH) JSONL file",
         {{"adapter", "DIR", "a PEFT adapter to apply"},
          {"data", "FILE", "JSONL with prompt/completion (or chosen/rejected) records"},
          {"batch-size", "N", "examples per batch (default 8)"},
          {"json", "", "print {\"loss\", \"tokens\", \"perplexity\"}"}},
         runEval},
        {"export", "export RUN_OR_ADAPTER (--merged OUT [--dtype fp32|bf16|fp16] | --gguf FILE [--type f16|q8_0]) [--model BASE]",
         "write the model with the adapter folded into the base weights: a Hugging Face folder, or a GGUF file for llama.cpp",
         {{"merged", "OUT", "the folder to write (must not exist yet)"},
          {"gguf", "FILE", "the GGUF file to write (must not exist yet): GPT-NeoX, Qwen2 and Llama models"},
          {"type", "f16|q8_0", "the GGUF file's tensor type (default f16)"},
          {"model", "BASE", "the base model (default: the run's model, or the adapter's base_model_name_or_path)"},
          {"dtype", "fp32|bf16|fp16", "weights dtype of the export (default fp32)"},
          {"json", "", "print one JSON object"}},
         runExport},
        {"pretrain", "pretrain [CONFIG.json] [options]",
         "train a tokenizer and a small GPT-NeoX model from scratch on a text corpus",
         {{"corpus", "FILE", "training text (default: default:wikitext)"},
          {"validation", "FILE", "validation text"},
          {"out", "DIR", "model directory to write (default pretrained-model)"},
          {"tokenizer-text", "LIST", "datasets whose text the tokenizer also learns from (default default:dialogues)"},
          {"vocab-size", "N", "tokenizer vocabulary (default 4096)"},
          {"hidden", "N", "hidden size (default 256)"},
          {"layers", "N", "layers (default 4)"},
          {"heads", "N", "attention heads (default 4)"},
          {"context", "N", "context length (default 256)"},
          {"keep", "last|best", "ship the final weights or those with the lowest validation loss (default last)"},
          {"max-steps", "N", "optimizer steps (default 2000)"},
          {"batch-size", "N", "sequences per step (default 16)"},
          {"learning-rate", "LR", "peak learning rate (default 1e-3)"},
          {"runs-dir", "DIR", "where the pretraining run is recorded"},
          {"print-every", "N", "print every N-th step (default 10)"}},
         runPretrain},
    };
}

} // namespace loralab::cli
