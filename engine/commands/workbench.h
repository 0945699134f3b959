// What the window asks of the engine besides running experiments: facts about
// a model for the configuration panel, a dataset preview, and a generation
// session for comparing base and fine-tuned answers. No LibTorch here; the
// implementations keep it behind these plain structs.
#pragma once

#include "engine/data/dataset.h"
#include "engine/model/sampling.h"
#include "engine/config/run_config.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loralab {

struct ModelOverview {
    std::string spec;
    std::string architecture;
    std::int64_t totalParams = 0;
    std::int64_t numLayers = 0;
    std::int64_t hiddenSize = 0;
    std::int64_t vocabSize = 0;
    std::int64_t contextLength = 0; // max_position_embeddings
    std::string storedDType;
    std::vector<std::string> linearKinds; // module-name suffixes, e.g. q_proj, dense_h_to_4h
    std::string headName;                 // lm_head or embed_out
    bool hasTokenizer = false;
};

// From config.json alone (presets need nothing); cheap enough for every edit.
ModelOverview describeModel(const std::string& spec);

// Where a run would train: the device that "auto", "cpu", "cuda" or "cuda:N"
// resolves to on this machine, with its name and memory.
struct DeviceOverview {
    std::string requested;      // as configured
    std::string resolved;       // "cuda:0" or "cpu"; empty when the request cannot be met
    std::string name;           // "NVIDIA H200", or "CPU"
    std::int64_t totalBytes = 0; // GPU memory (0 on the CPU)
    std::int64_t freeBytes = 0;
    int threads = 0;            // CPU threads training uses
    std::string libtorch;       // "2.11.0 with CUDA" or "1.13.1, CPU only"
    std::string problem;        // why the request cannot be met (no CUDA build, no such GPU)
};
// `threads` as a run configures it (0: every core).
DeviceOverview describeDevice(const std::string& device, int threads = 0);
// The CPU and every visible GPU.
std::vector<DeviceOverview> listDevices();

struct TrainableCount {
    std::int64_t total = 0;     // base plus adapters
    std::int64_t trainable = 0; // adapters (LoRA) or everything (full)
    std::int64_t loraModules = 0;
    double percent() const { return total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0.0; }
};

// Counts for the configured method, LoRA targets and rank, as PEFT counts them.
TrainableCount countTrainable(const RunConfig& config);

struct PreviewExample {
    std::int64_t index = 0;
    std::int64_t line = 0;
    std::string prompt;
    std::string target;
    std::string rejected;
    Conversation conversation;     // chat data: the dialogue as the template renders it
    std::int64_t promptTokens = 0; // after truncation to max_len
    std::int64_t answerTokens = 0;
    std::int64_t droppedTurns = 0;
    bool promptCut = false;
    bool answerCut = false;
    std::vector<std::string> warnings; // e.g. "prompt does not end with Assistant:"
};

struct DatasetPreview {
    std::string path;
    std::string format;
    std::int64_t totalExamples = 0;
    std::vector<PreviewExample> examples; // the first maxExamples
    std::vector<std::int64_t> lengths;    // tokens per previewed example, after truncation
    std::string skippedSummary;           // malformed lines
    std::int64_t skippedLines = 0;
    std::int64_t examplesWithWarnings = 0;
};

DatasetPreview previewDataset(const RunConfig& config, std::int64_t maxExamples);

struct PreviewToken {
    std::string text;
    bool inLoss = false;
};
// One example as the model sees it: every token, marked when it counts in the loss.
std::vector<PreviewToken> previewTokens(const RunConfig& config, const PreviewExample& example);

struct GenerationOutput {
    std::string text;
    std::int64_t tokens = 0;
    double seconds = 0.0;
    std::string stopReason;
};

// A model loaded for generation: the base model, and the fine-tuned one from
// a checkpoint directory (a PEFT adapter or a full checkpoint) when given.
class GenerationSession {
public:
    GenerationSession(const RunConfig& config, const std::string& checkpointDir);
    ~GenerationSession();
    GenerationSession(const GenerationSession&) = delete;
    GenerationSession& operator=(const GenerationSession&) = delete;

    bool hasTuned() const;
    // Validation examples (or test examples when the data has a test split) to pick prompts from.
    const std::vector<Example>& examples() const;

    // Answers `prompt` with the fine-tuned (tuned) or base model. `cancel`
    // stops between tokens; `onText` receives text as it is produced.
    GenerationOutput generate(const std::string& prompt, const SamplingOptions& options, bool tuned,
                              const std::atomic<bool>* cancel = nullptr,
                              const std::function<void(const std::string&)>& onText = {});

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace loralab
