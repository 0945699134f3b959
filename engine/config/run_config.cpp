// Run configuration as JSON; see run_config.h.
#include "engine/config/run_config.h"

#include "engine/model/model_config.h"

#include "engine/util/error.h"
#include "engine/util/json_file.h"
#include "engine/util/files.h"

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

namespace loralab {
namespace {

using Json = nlohmann::ordered_json;

struct Field {
    const char* key;
    const char* help;
    std::function<Json(const RunConfig&)> get;
    std::function<void(RunConfig&, const Json&)> set;
    std::vector<std::string> choices; // a choice option's names; empty for the others
};

// A JSON number as the integer type T. nlohmann's get<T>() truncates 4.5 to 4
// and wraps -1 into 2^64-1 for an unsigned field, so a run would train with a
// value nobody wrote; both are Errors naming the key here. A whole number
// written as a float (1e3, 16.0) is accepted. Anything that is not a number
// throws Json::exception, which parseRunConfig reports with the default.
template <typename T>
T wholeNumber(const Json& j, const char* key, T example)
{
    using Limits = std::numeric_limits<T>;
    const auto fail = [&](const char* problem, bool showRange) {
        return Error(std::string(key) + ": " + j.dump() + " " + problem + " (" + key + " takes " +
                     (showRange ? "a whole number from " + std::to_string(Limits::min()) + " to " + std::to_string(Limits::max())
                                : "a whole number, like " + std::to_string(example)) +
                     ")");
    };
    if (j.is_number_float()) {
        const double d = j.get<double>();
        if (std::floor(d) != d) throw fail("is not a whole number", false);
        // max() + 1.0 is a power of two, exact in a double, unlike max() itself.
        if (!(d >= static_cast<double>(Limits::min()) && d < static_cast<double>(Limits::max()) + 1.0))
            throw fail(d < 0 && std::is_unsigned<T>::value ? "is negative" : "is out of range", true);
        return static_cast<T>(d);
    }
    if (j.is_number_unsigned()) {
        if (j.get<std::uint64_t>() > static_cast<std::uint64_t>(Limits::max())) throw fail("is out of range", true);
        return static_cast<T>(j.get<std::uint64_t>());
    }
    if (j.is_number_integer()) { // negative: non-negative integers parse as unsigned
        if (std::is_unsigned<T>::value) throw fail("is negative", true);
        if (j.get<std::int64_t>() < static_cast<std::int64_t>(Limits::min())) throw fail("is out of range", true);
        return static_cast<T>(j.get<std::int64_t>());
    }
    return j.get<T>(); // not a number: throws the type error
}

template <typename T>
Field field(const char* key, T RunConfig::*member, const char* help)
{
    return {key, help, [member](const RunConfig& c) { return Json(c.*member); },
            [member, key](RunConfig& c, const Json& j) {
                if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value)
                    c.*member = wholeNumber<T>(j, key, RunConfig().*member);
                else {
                    (void)key;
                    c.*member = j.get<T>();
                }
            }};
}

// A choice stored as its name; a name outside its ChoiceList is an Error that lists them.
template <typename E>
Field choiceField(const char* key, E RunConfig::*member, const char* help)
{
    return {key, help, [member](const RunConfig& c) { return Json(choiceName(c.*member)); },
            [member](RunConfig& c, const Json& j) { c.*member = parseChoice<E>(j.get<std::string>()); }, choiceNames<E>()};
}

const std::vector<Field>& fields()
{
    static const std::vector<Field> all = {
        field("name", &RunConfig::name, "label of the run; its directory is runs/<timestamp>-<name>"),
        field("model", &RunConfig::model,
              "\"default\" (embedded model), a Hugging Face model directory, Org/Name[@revision] from the Hugging Face "
              "cache, or preset:<name>"),
        field("vocab_size", &RunConfig::vocabSize, "resize the vocabulary to this size (0: keep)"),
        field("tokenizer", &RunConfig::tokenizer,
              "model directory whose tokenizer reads the data (default: the model's own; for presets the embedded model's)"),
        choiceField("objective", &RunConfig::objective, "sft (supervised fine-tuning) or dpo (preference pairs)"),
        choiceField("method", &RunConfig::method, "what trains: lora (adapters) or full (every weight)"),
        field("adapter", &RunConfig::adapter, "start from this PEFT adapter directory (method lora)"),
        field("lora_r", &RunConfig::loraRank, "LoRA rank"),
        field("lora_alpha", &RunConfig::loraAlpha, "LoRA alpha; scaling is alpha/r (alpha/sqrt(r) with rslora)"),
        field("lora_dropout", &RunConfig::loraDropout, "dropout on the LoRA input"),
        field("rslora", &RunConfig::rsLora, "rank-stabilised scaling alpha/sqrt(r)"),
        field("lora_targets", &RunConfig::loraTargets, "module names, \"all-linear\", and \"lm_head\" for the output head"),
        choiceField("lora_init", &RunConfig::loraInit, "kaiming (PEFT default: Kaiming-uniform A, zero B) or gaussian"),
        field("dataset", &RunConfig::dataset,
              "training data: a file, default:dialogues, default:wikitext, or Org/Name[@revision] from the Hugging Face cache"),
        choiceField("dataset_format", &RunConfig::datasetFormat,
                    "auto, text, hh-rlhf, input-target, prompt-completion, preference or chat (messages, "
                    "conversations or Alpaca records, rendered with the model's chat template)"),
        field("dataset_config", &RunConfig::datasetConfig,
              "Hugging Face cache dataset: its configuration (subset), e.g. wikitext-2-raw-v1 (empty: the default one)"),
        field("dataset_data_dir", &RunConfig::datasetDataDir, "Hugging Face cache dataset: the folder to read, e.g. harmless-base"),
        field("dataset_split", &RunConfig::datasetSplit, "Hugging Face cache dataset: the split to train on"),
        field("validation_split", &RunConfig::validationSplit,
              "Hugging Face cache dataset: the split to validate on (empty: validation when it exists, else held out)"),
        field("text_column", &RunConfig::textColumn, "the column holding the text of text data (empty: text)"),
        field("prompt_column", &RunConfig::promptColumn, "the column holding the prompt (empty: prompt)"),
        field("answer_column", &RunConfig::answerColumn, "the column holding the answer to a prompt (empty: completion)"),
        field("messages_column", &RunConfig::messagesColumn, "the column holding a chat's message list (empty: messages)"),
        field("chosen_column", &RunConfig::chosenColumn, "the column holding the chosen answer of a pair (empty: chosen)"),
        field("rejected_column", &RunConfig::rejectedColumn, "the column holding the rejected answer of a pair (empty: rejected)"),
        field("validation", &RunConfig::validation, "validation file (empty: split from the training data)"),
        field("validation_fraction", &RunConfig::validationFraction, "share of the data held out for validation when no file is given"),
        choiceField("text_mode", &RunConfig::textMode, "text data: chunk (concatenate and cut into max_len blocks) or lines"),
        field("max_len", &RunConfig::maxLen, "tokens per example; long prompts lose their oldest turns first"),
        field("train_on_prompt", &RunConfig::trainOnPrompt, "count the prompt in the loss too"),
        choiceField("assistant_turns", &RunConfig::assistantTurns,
                    "chat data: the loss on every assistant message (all) or on the last one only (last)"),
        field("append_eos", &RunConfig::appendEos, "end each answer with the end-of-text token"),
        field("packing", &RunConfig::packing,
              "SFT: pack training examples into sequences of max_len, each attending only to itself (less padding, the same loss)"),
        field("learning_rate", &RunConfig::learningRate, "peak learning rate"),
        field("weight_decay", &RunConfig::weightDecay, "AdamW decoupled weight decay"),
        field("adam_beta1", &RunConfig::beta1, "AdamW beta1"),
        field("adam_beta2", &RunConfig::beta2, "AdamW beta2"),
        field("adam_eps", &RunConfig::adamEps, "AdamW epsilon"),
        field("max_grad_norm", &RunConfig::maxGradNorm, "clip gradients to this global L2 norm (0: no clipping)"),
        choiceField("schedule", &RunConfig::schedule, "constant, constant_with_warmup, linear or cosine"),
        field("warmup_steps", &RunConfig::warmupSteps, "linear warm-up steps"),
        field("batch_size", &RunConfig::batchSize, "examples per micro-batch"),
        field("grad_accum", &RunConfig::gradAccum, "micro-batches per optimizer step"),
        field("max_steps", &RunConfig::maxSteps, "optimizer steps (0: run for `epochs`)"),
        field("epochs", &RunConfig::epochs, "passes over the training data when max_steps is 0"),
        field("dpo_beta", &RunConfig::dpoBeta, "DPO temperature beta"),
        choiceField("dpo_loss", &RunConfig::dpoLoss, "sigmoid (DPO) or ipo"),
        choiceField("dpo_reference", &RunConfig::dpoReference,
              "reference model: initial (the model as the run starts, e.g. base + SFT adapter) or base (adapter off)"),
        field("eval_interval", &RunConfig::evalInterval, "evaluate every N steps (0: only at the end)"),
        field("eval_at_start", &RunConfig::evalAtStart, "evaluate before the first step too, as the baseline to beat"),
        field("eval_batches", &RunConfig::evalBatches, "at most this many validation batches per evaluation (0: all)"),
        field("early_stopping", &RunConfig::earlyStopping, "stop when validation stops improving"),
        field("patience", &RunConfig::patience, "evaluations without improvement before stopping"),
        field("min_delta", &RunConfig::minDelta, "smallest change that counts as an improvement"),
        choiceField("early_stopping_metric", &RunConfig::earlyStoppingMetric, "loss, or accuracy (DPO preference accuracy)"),
        field("checkpoint_interval", &RunConfig::checkpointInterval, "steps between resumable checkpoints (0: only at the end)"),
        field("samples", &RunConfig::samples, "validation examples answered by the base and the fine-tuned model at the end"),
        field("sample_max_new_tokens", &RunConfig::sampleMaxNewTokens, "tokens per sampled answer"),
        field("sample_temperature", &RunConfig::sampleTemperature, "0 for greedy answers"),
        field("sample_top_p", &RunConfig::sampleTopP, "nucleus sampling mass"),
        field("sample_top_k", &RunConfig::sampleTopK, "sample among the K likeliest tokens (0: all)"),
        field("sample_repetition_penalty", &RunConfig::sampleRepetitionPenalty, "penalty on tokens already present"),
        field("seed", &RunConfig::seed, "seed for initialisation, data order, dropout and sampling"),
        field("threads", &RunConfig::threads, "CPU threads (0: all cores)"),
        field("processes", &RunConfig::processes, "data-parallel worker processes (one per GPU with device cuda)"),
        field("dist_timeout", &RunConfig::distTimeout, "seconds a worker waits for the others before the group stops"),
        field("device", &RunConfig::device, "cpu, cuda, cuda:N or auto"),
        choiceField("dtype", &RunConfig::dtype, "base weight dtype: fp32, bf16 or fp16 (adapters train in fp32)"),
        choiceField("base_quantization", &RunConfig::baseQuantization,
                    "frozen base weights of the linear layers for LoRA: none, int8 (row absmax), nf4 or fp4 (block absmax, "
                    "as bitsandbytes; products run in dtype)"),
        field("double_quant", &RunConfig::doubleQuant, "nf4/fp4: quantize the block absmax values too (QLoRA)"),
        field("activation_checkpointing", &RunConfig::activationCheckpointing,
              "recompute transformer blocks' activations in backward instead of keeping them: 0 off, 1 every block, "
              "k every k-th block (less memory, one more forward of those blocks)"),
        field("memory_limit_gib", &RunConfig::memoryLimitGib,
              "the most memory (GiB) the run may take, weights included (0: what the device has free); a run estimated "
              "to need more is refused before it starts, with the levers that would make it fit"),
        field("tensorboard", &RunConfig::tensorboard,
              "write TensorBoard event files in the run's tensorboard/ folder (tensorboard --logdir RUN or EXPERIMENT)"),
        field("runs_dir", &RunConfig::runsDir, "where run directories are created (\"\": ~/.local/share/loralab/runs, or $LORALAB_RUNS_DIR)"),
    };
    return all;
}

const Field* findField(const std::string& key)
{
    for (const auto& f : fields())
        if (key == f.key) return &f;
    return nullptr;
}

const Field& fieldOrThrow(const std::string& key)
{
    const Field* f = findField(key);
    if (!f) throw Error("unknown option \"" + key + "\" (see loralab-cli run --help)");
    return *f;
}

} // namespace

std::vector<RunOptionDoc> runOptionDocs()
{
    const RunConfig defaults;
    std::vector<RunOptionDoc> out;
    for (const auto& f : fields()) out.push_back({f.key, f.get(defaults).dump(), f.help, f.choices});
    return out;
}

RunConfig parseRunConfig(const std::string& text, const std::string& path)
{
    Json j = parseJsonObject<Json>(text, path);
    // Configurations written before the objective had a key of its own say
    // "method": "dpo" for preference training of adapters.
    if (j.contains("method") && j["method"] == "dpo" && !j.contains("objective")) {
        j["objective"] = "dpo";
        j["method"] = "lora";
    }
    RunConfig c;
    std::set<std::string> known;
    for (const auto& f : fields()) {
        known.insert(f.key);
        const auto it = j.find(f.key);
        if (it == j.end() || it->is_null()) continue;
        try {
            f.set(c, *it);
        } catch (const Error& e) {
            throw fileError(path, e.what());
        } catch (const Json::exception&) {
            throw fileError(path, std::string("option \"") + f.key + "\" should be like " + f.get(RunConfig()).dump() +
                                      ", not " + jsonPreview(*it));
        }
    }
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!known.count(it.key())) throw fileError(path, "unknown option \"" + it.key() + "\" (see loralab-cli run --help)");
    return c;
}

RunConfig loadRunConfig(const std::string& path) { return parseRunConfig(readTextFile(path), path); }

std::string runConfigToJson(const RunConfig& config)
{
    Json j = Json::object();
    for (const auto& f : fields()) j[f.key] = f.get(config);
    return j.dump(2) + "\n";
}

void setRunOption(RunConfig& config, const std::string& key, const std::string& text)
{
    const Field& f = fieldOrThrow(key);
    const Json example = f.get(RunConfig());
    Json value;
    try {
        value = parseBoundedJson<Json>(text, key);
    } catch (const Json::exception&) {
        // A bare word: a string, or for list options items joined by '+'.
        if (example.is_array()) {
            value = Json::array();
            std::size_t start = 0;
            while (start <= text.size()) {
                const std::size_t plus = text.find('+', start);
                const std::string item = text.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
                if (!item.empty()) value.push_back(item);
                if (plus == std::string::npos) break;
                start = plus + 1;
            }
        } else {
            value = text;
        }
    }
    // A single word for a list option is a list of one.
    if (example.is_array() && value.is_string()) value = Json::array({value});
    try {
        f.set(config, value);
    } catch (const Json::exception&) {
        throw Error(key + ": should be like " + example.dump() + ", not " + (text.size() > 80 ? text.substr(0, 80) + "..." : text));
    }
}

std::string runOptionJson(const RunConfig& config, const std::string& key) { return fieldOrThrow(key).get(config).dump(); }

bool isRunOption(const std::string& key) { return findField(key) != nullptr; }

std::vector<std::string> runOptionChoices(const std::string& key) { return fieldOrThrow(key).choices; }

std::vector<std::string> validateRunConfig(const RunConfig& c)
{
    std::vector<std::string> problems;
    const auto need = [&](bool ok, const char* key, const char* why) {
        if (!ok) problems.push_back(std::string(key) + ": " + why);
    };
    need(c.vocabSize >= 0, "vocab_size", "must not be negative (0 keeps the model's vocabulary)");
    need(c.vocabSize <= kMaxVocabSize, "vocab_size", "is larger than LoRA Lab accepts (4194304 tokens)");
    need(c.loraRank > 0, "lora_r", "must be positive");
    need(c.loraAlpha > 0, "lora_alpha", "must be positive");
    need(c.loraDropout >= 0 && c.loraDropout < 1, "lora_dropout", "must be in [0, 1)");
    need(!c.loraTargets.empty(), "lora_targets", "must name at least one module");
    need(!c.dataset.empty(), "dataset", "is required");
    need(c.validationFraction >= 0 && c.validationFraction < 1, "validation_fraction", "must be in [0, 1)");
    need(c.maxLen >= 8, "max_len", "must be at least 8");
    need(c.learningRate > 0, "learning_rate", "must be positive");
    need(c.weightDecay >= 0, "weight_decay", "must not be negative");
    need(c.beta1 >= 0 && c.beta1 < 1, "adam_beta1", "must be in [0, 1)");
    need(c.beta2 >= 0 && c.beta2 < 1, "adam_beta2", "must be in [0, 1)");
    need(c.adamEps > 0, "adam_eps", "must be positive");
    need(c.maxGradNorm >= 0, "max_grad_norm", "must not be negative");
    need(c.warmupSteps >= 0, "warmup_steps", "must not be negative");
    need(c.batchSize > 0, "batch_size", "must be positive");
    need(c.gradAccum > 0, "grad_accum", "must be positive");
    need(c.maxSteps > 0 || c.epochs > 0, "max_steps", "or epochs must be positive");
    need(c.maxSteps >= 0, "max_steps", "must not be negative");
    need(c.epochs >= 0, "epochs", "must not be negative");
    need(c.dpoBeta > 0, "dpo_beta", "must be positive");
    need(c.method != Method::Full || c.dtype != WeightDType::Fp16, "dtype",
         "fp16 full fine-tuning loses small gradients without loss scaling; train every weight in bf16 or fp32");
    need(c.method == Method::Lora || c.baseQuantization == BaseQuantization::None, "base_quantization",
         "a quantized base cannot train; it needs method lora (full fine-tuning trains the base weights)");
    need(!c.doubleQuant || isFourBit(c.baseQuantization), "double_quant", "applies to a 4-bit base (base_quantization nf4 or fp4)");
    need(c.objective != Objective::Dpo || c.dpoReference != DpoReference::Base || c.method == Method::Lora, "dpo_reference",
         "base switches the adapters off, so it needs method lora (full fine-tuning has no base apart from the model)");
    need(!c.packing || c.objective == Objective::Sft, "packing",
         "applies to SFT; DPO compares the chosen and rejected answer of each pair in rows of their own");
    need(c.activationCheckpointing >= 0, "activation_checkpointing", "must not be negative (0 is off)");
    need(std::isfinite(c.memoryLimitGib) && c.memoryLimitGib >= 0, "memory_limit_gib", "must be 0 (the device's free memory) or a positive number of GiB");
    need(c.evalInterval >= 0, "eval_interval", "must not be negative");
    need(c.evalBatches >= 0, "eval_batches", "must not be negative");
    need(c.patience >= 0, "patience", "must not be negative");
    need(c.minDelta >= 0, "min_delta", "must not be negative");
    need(c.checkpointInterval >= 0, "checkpoint_interval", "must not be negative");
    need(c.samples >= 0, "samples", "must not be negative");
    need(c.sampleMaxNewTokens > 0, "sample_max_new_tokens", "must be positive");
    need(c.sampleTemperature >= 0, "sample_temperature", "must not be negative");
    need(c.sampleTopP > 0 && c.sampleTopP <= 1, "sample_top_p", "must be in (0, 1]");
    need(c.sampleTopK >= 0, "sample_top_k", "must not be negative");
    need(c.sampleRepetitionPenalty > 0, "sample_repetition_penalty", "must be positive");
    need(c.threads >= 0, "threads", "must not be negative");
    need(c.processes >= 1 && c.processes <= 1024, "processes", "must be between 1 and 1024");
    need(c.distTimeout >= 1, "dist_timeout", "must be at least 1 second");
    need(c.batchSize <= 0 || c.gradAccum <= 0 || c.processes <= c.batchSize * c.gradAccum, "processes",
         "must not exceed batch_size x grad_accum: every process needs a share of each step's examples");
    return problems;
}

void checkRunConfig(const RunConfig& config)
{
    const auto problems = validateRunConfig(config);
    if (problems.empty()) return;
    std::string text = "the run configuration has problems:";
    for (const auto& p : problems) text += "\n  " + p;
    throw Error(text);
}

std::vector<std::string> differingRunOptions(const RunConfig& a, const RunConfig& b)
{
    const auto left = nlohmann::json::parse(runConfigToJson(a));
    const auto right = nlohmann::json::parse(runConfigToJson(b));
    std::vector<std::string> keys;
    for (auto it = left.begin(); it != left.end(); ++it)
        if (!right.contains(it.key()) || right[it.key()] != it.value()) keys.push_back(it.key());
    return keys;
}

} // namespace loralab
