// The configuration of an experiment run: the JSON file `loralab-cli run`
// takes and the window saves. Every option has a documented default, listed
// by runOptionDocs() (which `loralab-cli run --help` prints). No LibTorch here,
// so the window can include it freely.
#pragma once

#include "engine/config/run_choices.h"
#include "engine/data/chat/chat_render.h"
#include "engine/data/dataset.h"
#include "engine/quant/base_quantization.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

struct RunConfig {
    // What to train
    std::string name = "run";
    std::string model = "default"; // "default" (embedded), a model directory, or preset:<name>
    std::int64_t vocabSize = 0;    // > 0 resizes the vocabulary
    std::string tokenizer;         // a model directory whose tokenizer to use (presets: default is the embedded one)
    Objective objective = Objective::Sft; // what the run optimises
    Method method = Method::Lora;         // what trains: adapters or every weight
    std::string adapter;           // start from this PEFT adapter (method lora)
    // LoRA
    std::int64_t loraRank = 8;
    double loraAlpha = 16.0;
    double loraDropout = 0.05;
    bool rsLora = false;
    std::vector<std::string> loraTargets = {"all-linear"};
    LoraInit loraInit = LoraInit::Kaiming;
    // Data
    std::string dataset = "default:dialogues"; // a file, default:dialogues, default:wikitext, Org/Name[@revision]
    DatasetFormat datasetFormat = DatasetFormat::Auto;
    // A dataset from the Hugging Face cache: its configuration (empty: the
    // default one), folder (data_dir), training split and validation split
    // (empty: "validation" when there is one, else held out of the training split).
    std::string datasetConfig;
    std::string datasetDataDir;
    std::string datasetSplit = "train";
    std::string validationSplit;
    // Columns of other names than the usual ones (see ColumnMapping); empty: the usual.
    std::string textColumn;
    std::string promptColumn;
    std::string answerColumn;
    std::string messagesColumn;
    std::string chosenColumn;
    std::string rejectedColumn;
    std::string validation;          // a file; empty: split off validation_fraction of the data
    double validationFraction = 0.05;
    TextMode textMode = TextMode::Chunk; // text data
    std::int64_t maxLen = 128;
    bool trainOnPrompt = false;
    bool appendEos = true;
    AssistantTurns assistantTurns = AssistantTurns::All; // chat data: which assistant messages the loss is on
    // SFT: training examples packed into sequences of max_len, each seeing only
    // itself (positions restart per example); off keeps one example a row.
    bool packing = false;
    // Optimisation
    // The defaults are a first run on the embedded model: a few minutes of LoRA
    // SFT on 2 cores. Models of hundreds of millions of parameters usually
    // want a learning rate around 1e-4 to 3e-4.
    double learningRate = 2e-3;
    double weightDecay = 0.0;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double adamEps = 1e-8;
    double maxGradNorm = 1.0;
    Schedule schedule = Schedule::Cosine;
    std::int64_t warmupSteps = 0;
    std::int64_t batchSize = 16;
    std::int64_t gradAccum = 1;
    std::int64_t maxSteps = 200; // optimizer steps; 0: use epochs
    double epochs = 1.0;
    // DPO
    double dpoBeta = 0.1;
    DpoLoss dpoLoss = DpoLoss::Sigmoid;
    DpoReference dpoReference = DpoReference::Initial;
    // Evaluation and early stopping
    std::int64_t evalInterval = 50; // steps; 0: evaluate only at the end
    bool evalAtStart = true;        // evaluate the untrained model first (step 0), the baseline
    std::int64_t evalBatches = 20;  // cap per evaluation; 0: the whole validation set
    bool earlyStopping = true;
    std::int64_t patience = 3; // evaluations without improvement
    double minDelta = 0.0;
    StopMetric earlyStoppingMetric = StopMetric::Loss; // accuracy: DPO only
    std::int64_t checkpointInterval = 50; // steps between resumable "last" checkpoints; 0: only at the end
    // Sampling after training
    std::int64_t samples = 8;
    std::int64_t sampleMaxNewTokens = 32;
    double sampleTemperature = 0.0;
    double sampleTopP = 1.0;
    std::int64_t sampleTopK = 0;
    double sampleRepetitionPenalty = 1.0;
    // Runtime
    std::uint64_t seed = 42;
    int threads = 0; // 0: all cores
    // Data-parallel training: worker processes that loralab-cli run starts on
    // this machine (one per GPU with device cuda; torchrun starts its own).
    int processes = 1;
    int distTimeout = 120; // seconds a process waits for the others before the group gives up
    std::string device = "auto";
    WeightDType dtype = WeightDType::Fp32; // base weights
    // The frozen base weights of the linear layers (not the head) as int8,
    // NF4 or FP4 codes, QLoRA-style; LoRA only. Products run in `dtype`.
    BaseQuantization baseQuantization = BaseQuantization::None;
    bool doubleQuant = false; // 4-bit: quantize the block absmax values too
    // Activation checkpointing: every k-th transformer block (0, k, 2k, ...)
    // keeps only its input and recomputes the rest in backward; 0: off, 1: every block.
    std::int64_t activationCheckpointing = 0;
    // The most memory (GiB) the run may take, weights included, where it is
    // less than the device has free (a GPU shared with others, a machine kept
    // usable); 0: what the device has free. A run whose estimate is larger is
    // refused before it starts.
    double memoryLimitGib = 0.0;
    bool tensorboard = true; // TensorBoard event files in <run>/tensorboard beside metrics.jsonl
    std::string runsDir; // where run directories are created; empty: the default runs folder (see run_catalog.h)

    ColumnMapping columnMapping() const
    {
        return {textColumn, promptColumn, answerColumn, messagesColumn, chosenColumn, rejectedColumn};
    }
};

struct RunOptionDoc {
    std::string key;
    std::string defaultValue; // as JSON
    std::string help;
    std::vector<std::string> choices; // the names a choice option takes; empty for the others
};

std::vector<RunOptionDoc> runOptionDocs();

// Parses a run config JSON object; unknown keys and wrong types are errors
// naming the key. `path` labels messages.
RunConfig parseRunConfig(const std::string& text, const std::string& path);
RunConfig loadRunConfig(const std::string& path);
std::string runConfigToJson(const RunConfig& config);

// One option by its key, from text as a command line or a sweep gives it:
// JSON ("4", "2e-3", "true", "[\"q_proj\",\"v_proj\"]") or a bare word
// ("full"); for list options a bare word splits on '+' ("q_proj+v_proj").
// Unknown keys and wrong types are Errors naming the key.
void setRunOption(RunConfig& config, const std::string& key, const std::string& text);
// The option's value as compact JSON ("4", "\"full\"", "[\"all-linear\"]").
std::string runOptionJson(const RunConfig& config, const std::string& key);
bool isRunOption(const std::string& key);
// The names a choice option takes ("constant", "linear", ...); empty for other options.
std::vector<std::string> runOptionChoices(const std::string& key);

// Checks values a run cannot start with; returns problems as "key: why".
std::vector<std::string> validateRunConfig(const RunConfig& config);
// The same, as one Error listing every problem (nothing when there is none).
void checkRunConfig(const RunConfig& config);

// The keys whose values differ between two configurations ("lora_r", ...).
std::vector<std::string> differingRunOptions(const RunConfig& a, const RunConfig& b);

} // namespace loralab
