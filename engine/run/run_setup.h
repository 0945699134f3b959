// Turning a RunConfig into what a run needs: the model (with LoRA attached or
// an adapter loaded), the tokenized training and validation data, the
// examples to sample from, and the memory estimate.
#pragma once

#include "engine/data/collate.h"
#include "engine/data/dataset.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/quant/quantize_model.h"
#include "engine/records/metrics.h"
#include "engine/config/run_config.h"

#include <memory>
#include <string>
#include <vector>

namespace loralab {

struct PreparedModel {
    LoadedModel model;
    std::string spec;      // resolved model directory or preset
    std::string sourceDir; // where tokenizer files come from ("" for presets)
    std::vector<std::string> notes; // for the event log: warnings about the model or adapter
};

// Loads the model on `device`; for method lora, attaches fresh adapters or
// loads config.adapter. Does not decide what trains (the Trainer does).
PreparedModel prepareModel(const RunConfig& config, torch::Device device);
// The run's base_quantization, double_quant and dtype as quantizeFrozenBase takes them.
QuantizationOptions quantizationOf(const RunConfig& config);

AdapterConfig adapterConfigFor(const RunConfig& config, const std::string& baseModel);

struct PreparedData {
    Dataset train;
    Dataset validation;
    Dataset test; // may hold no examples
    std::vector<TokenizedExample> trainTokens;
    std::vector<TokenizedExample> validationTokens;
    std::vector<std::string> notes; // for the event log: sizes, skipped lines, truncation
    // validation_fraction 0 and no validation file: the run trains without
    // evaluations, and so without early stopping or a best checkpoint.
    bool noValidation = false;
    // Chat data: the template its examples are rendered with (chatTemplateFor).
    std::shared_ptr<const ChatTemplate> chatTemplate;
    bool text() const { return train.isText(); }
    // Examples answered in samples: the test split when there is one, else validation.
    const std::vector<Example>& sampleExamples() const;
};

// Loads the data files of the config; tokenizes them unless the method does
// its own tokenization (dpo). A validation set that was asked for (a file, or
// validation_fraction > 0) but holds nothing to measure (no examples, or no
// token that counts in the loss) is an error that says what to change.
PreparedData prepareData(const RunConfig& config, const Tokenizer* tokenizer);

// The run's tokenization settings; chat examples are rendered with
// `chatTemplate` (the Human/Assistant layout when null).
TokenizeOptions tokenizeOptions(const RunConfig& config, const ChatTemplate* chatTemplate = nullptr);

// The chat template a run renders chat data with: the one of the tokenizer
// the run uses (config.tokenizer, else the model's folder; a preset takes the
// embedded model's), from its tokenizer_config.json or chat_template.jinja;
// the Human/Assistant layout where it has none. A template LoRA Lab cannot
// read is an Error naming the file and the construct.
ChatTemplate chatTemplateFor(const RunConfig& config);

// The configuration of a model as a run names it (a directory, Org/Name or a
// preset), with `vocabSize` > 0 in place of its own.
ModelConfig configOfModel(const std::string& spec, std::int64_t vocabSize);
// The model built on the meta device: shapes only, nothing allocated or read.
std::shared_ptr<CausalLMImpl> metaModel(const ModelConfig& config, torch::ScalarType dtype = torch::kFloat32);

// Memory a step needs on `device`, from shapes: weights, gradients and
// optimizer state of what trains, and activations kept for the backward pass
// of one micro-batch. `net` may be the loaded model or one built on the meta
// device; a run with base_quantization whose model is not quantized yet is
// estimated as it will be once quantized.
MemoryBreakdown estimateMemory(CausalLMImpl& net, const RunConfig& config, std::int64_t sequenceLength, torch::Device device);
// The bytes of the model's weights, and of the gradients of the parameters
// that train (what backward allocates for them); set what trains first.
MemoryBreakdown heldMemory(CausalLMImpl& net);

} // namespace loralab
