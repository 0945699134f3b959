// Engine entry points behind the CLI's eval, export, pretrain and sample
// commands (and the window's export and sampling). No LibTorch here.
#pragma once

#include "engine/checkpoint/checkpoint.h"
#include "engine/export/gguf_export.h"
#include "engine/run/runner.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

struct CompletionEval {
    double loss = 0.0;       // token-weighted mean negative log-likelihood
    std::int64_t tokens = 0; // completion tokens scored
    std::int64_t examples = 0;
    std::vector<std::string> warnings; // e.g. an adapter trained on another base model
    double perplexity() const;
};

// Scores every completion token of a {"prompt", "completion"} (or HH) JSONL
// file: ids = tokenize(prompt) + tokenize(completion), no special tokens added,
// no truncation; `adapterDir` may be empty.
CompletionEval evaluateCompletions(const std::string& model, const std::string& adapterDir, const std::string& dataFile,
                                   const std::string& device, std::int64_t batchSize);

struct MergedExport {
    std::string outDir;
    std::string checkpoint; // the checkpoint or adapter directory that was read
    std::string baseModel;  // the model the adapter was applied to (empty for full checkpoints)
    Method method = Method::Lora;
    std::int64_t params = 0;
};

// Writes a Hugging Face model directory (config.json, model.safetensors, the
// tokenizer files) that transformers loads with AutoModelForCausalLM, from
//  - a run directory: its best checkpoint, else its last;
//  - a checkpoint directory of a run (an adapter, or full weights);
//  - a PEFT adapter directory (adapter_config.json + adapter_model.safetensors).
// Adapters are folded into the base weights: the run's model, the adapter's
// base_model_name_or_path, or `baseModel` when given. `dtype` is fp32, bf16
// or fp16 ("" keeps the base model's compute dtype, fp32). The folder is
// written under a temporary name and renamed into place, so it is either
// complete or absent; an existing non-empty `outDir` is refused.
MergedExport exportMerged(const std::string& from, const std::string& outDir, const std::string& baseModel,
                          const std::string& dtype);

// The same sources as exportMerged, adapters folded in, as one GGUF file for
// llama.cpp and Ollama (see engine/export/gguf_export.h): `type` f16 or
// q8_0. The file is written under a temporary name and renamed, so it is
// whole or absent; an existing `outFile` is refused. MergedExport::outDir
// holds the file's path.
MergedExport exportGgufModel(const std::string& from, const std::string& outFile, const std::string& baseModel, GgufType type);

struct PretrainConfig {
    std::string corpus;     // training text (raw WikiText or plain text)
    std::string validation; // may be empty
    // Datasets whose text the tokenizer also learns from (not the model), so
    // that e.g. dialogue punctuation gets pieces of its own.
    std::vector<std::string> tokenizerExtra;
    std::string outDir;
    std::int64_t vocabSize = 4096;
    std::int64_t hiddenSize = 256;
    std::int64_t layers = 4;
    std::int64_t heads = 4;
    std::int64_t contextLength = 256;
    // Which weights to ship: the last (the end of training) or the best
    // (lowest validation loss). A small model that should recall its
    // corpus's facts wants the last; validation on held-out wording stops
    // improving early.
    CheckpointPick keep = CheckpointPick::Last;
    RunConfig run; // optimisation settings; model, dataset and method are filled in
};

// Trains a sentencepiece tokenizer on the corpus, builds a GPT-NeoX model of
// the given shape from random weights, trains it on the corpus, and writes
// the best weights as a Hugging Face model directory.
// `outDir` must not exist yet or be empty; a pretraining that fails leaves
// nothing in it.
RunResult pretrainModel(const PretrainConfig& config, RunControl& control, const RunCallbacks& callbacks);

// Samples from a finished (or interrupted) run: its sample prompts (as the
// run's own samples choose them) answered by the base model and by the run's
// best (else last) checkpoint. `overrides` replaces the sampling settings,
// seed and device when given.
std::vector<SampleRecord> sampleRun(const std::string& runDir, std::int64_t count, const RunConfig* overrides,
                                    const std::function<void(const SampleRecord&)>& onSample);

} // namespace loralab
