// Run preparation; see run_setup.h.
#include "engine/run/run_setup.h"

#include "engine/config/resources.h"
#include "engine/quant/quantize_model.h"
#include "engine/train/loss.h"
#include "engine/util/error.h"
#include "engine/util/torch_compat.h"
#include "engine/util/units.h"

#include <set>
#include <sstream>

namespace loralab {

AdapterConfig adapterConfigFor(const RunConfig& config, const std::string& baseModel)
{
    AdapterConfig a;
    a.rank = config.loraRank;
    a.alpha = config.loraAlpha;
    a.dropout = config.loraDropout;
    a.useRsLora = config.rsLora;
    a.targetModules = config.loraTargets;
    a.baseModel = baseModel;
    a.init = config.loraInit;
    return a;
}

QuantizationOptions quantizationOf(const RunConfig& config)
{
    QuantizationOptions q;
    q.kind = config.baseQuantization;
    q.doubleQuant = config.doubleQuant;
    q.computeDtype = torchDType(config.dtype);
    return q;
}

PreparedModel prepareModel(const RunConfig& config, torch::Device device)
{
    PreparedModel out;
    out.spec = resolveModelSpec(config.model);
    LoadOptions options;
    options.device = device;
    options.dtype = torchDType(config.dtype);
    options.vocabSize = config.vocabSize;
    options.seed = config.seed;
    out.model = loadModel(out.spec, options);
    out.sourceDir = out.model.dir.string();
    // Presets have random weights and no tokenizer of their own; any tokenizer
    // whose ids fit the vocabulary serves for timing and memory experiments.
    std::string tokenizerFrom = out.spec;
    if (!config.tokenizer.empty() || !out.model.tokenizer) {
        tokenizerFrom = config.tokenizer.empty() ? resolveModelSpec("default") : config.tokenizer;
        out.model.tokenizer = loadTokenizer(tokenizerFrom);
    }
    // Token ids past the embedding would fail mid-run ("index out of range").
    if (out.model.tokenizer->vocabSize() > out.model.config.vocabSize)
        throw Error("the tokenizer of " + tokenizerFrom + " has " + std::to_string(out.model.tokenizer->vocabSize()) +
                    " tokens, more than the model's vocabulary of " + std::to_string(out.model.config.vocabSize) +
                    (config.vocabSize > 0 ? " (vocab_size " + std::to_string(config.vocabSize) + ")" : std::string()) +
                    "; vocab_size must be at least " + std::to_string(out.model.tokenizer->vocabSize()));
    if (config.baseQuantization != BaseQuantization::None) {
        // Before the adapters, which stay fp32 over the quantized base.
        const QuantizationSummary q = quantizeFrozenBase(*out.model.net, quantizationOf(config));
        out.notes.push_back("base weights of " + std::to_string(q.layers) + " linear layers as " +
                            choiceName(config.baseQuantization) + (config.doubleQuant ? " (double quantization)" : "") + ": " +
                            bytesText(q.denseBytes) + " -> " + bytesText(q.quantizedBytes));
    }
    try {
        out.model.net->setActivationCheckpointing(config.activationCheckpointing);
    } catch (const Error& e) {
        throw Error("activation_checkpointing " + std::to_string(config.activationCheckpointing) + " on " + out.spec + ": " + e.what());
    }
    if (config.method == Method::Lora) {
        torch::manual_seed(config.seed); // adapter initialisation
        if (!config.adapter.empty()) {
            const AdapterConfig adapter = loadAdapter(*out.model.net, config.adapter);
            if (const std::string warning = adapterBaseWarning(adapter, config.adapter, out.spec); !warning.empty())
                out.notes.push_back(warning);
            // Loaded adapters may carry dropout 0 for inference; training uses the run's setting.
            setLoraDropout(*out.model.net, config.loraDropout);
        } else {
            applyLora(*out.model.net, adapterConfigFor(config, config.model));
        }
    }
    return out;
}

TokenizeOptions tokenizeOptions(const RunConfig& config, const ChatTemplate* chatTemplate)
{
    TokenizeOptions t;
    t.maxLen = config.maxLen;
    t.trainOnPrompt = config.trainOnPrompt;
    t.appendEos = config.appendEos;
    t.chatTemplate = chatTemplate;
    t.assistantTurns = config.assistantTurns;
    return t;
}

ChatTemplate chatTemplateFor(const RunConfig& config)
{
    std::string from = config.tokenizer.empty() ? resolveModelSpec(config.model) : config.tokenizer;
    if (from.rfind("preset:", 0) == 0) from = resolveModelSpec("default");
    if (!std::filesystem::is_directory(from)) return ChatTemplate::humanAssistant();
    return ChatTemplate::forModel(from);
}

const std::vector<Example>& PreparedData::sampleExamples() const
{
    return test.examples.empty() ? validation.examples : test.examples;
}

namespace {

std::vector<TokenizedExample> tokenizeAll(const Tokenizer& tokenizer, const Dataset& data, const RunConfig& config,
                                          const ChatTemplate* chatTemplate)
{
    if (data.isText()) return tokenizeText(tokenizer, data.examples, config.maxLen, config.textMode);
    std::vector<TokenizedExample> out;
    const TokenizeOptions options = tokenizeOptions(config, chatTemplate);
    for (std::size_t i = 0; i < data.examples.size(); ++i) {
        out.push_back(tokenizeExample(tokenizer, data.examples[i], options));
        out.back().source = i;
    }
    return out;
}

std::string shortNumber(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

std::string describe(const char* role, const Dataset& d)
{
    std::ostringstream out;
    out << role << ": " << d.examples.size() << " examples (" << choiceName(d.format) << ") from " << d.path;
    if (!d.skipped.empty()) out << "; " << d.skippedSummary();
    return out.str();
}

} // namespace

PreparedData prepareData(const RunConfig& config, const Tokenizer* tokenizer)
{
    const DatasetFiles files = resolveDatasets(datasetRequest(config));
    const DatasetFormat format = config.datasetFormat;
    const ColumnMapping columns = config.columnMapping();
    PreparedData d;
    d.train = loadDatasetFiles(files.train.files, files.train.label, format, columns);
    const DatasetFormat then = format == DatasetFormat::Auto ? d.train.format : format;
    if (!files.validation.empty()) {
        d.validation = loadDatasetFiles(files.validation.files, files.validation.label, then, columns);
    } else {
        d.validation.path = d.train.path + " (held out)";
        d.validation.format = d.train.format;
        std::vector<Example> train;
        splitTrainValidation(d.train.examples, config.validationFraction, config.seed, train, d.validation.examples);
        d.train.examples = std::move(train);
    }
    if (!files.test.empty() && std::filesystem::exists(files.test.files.front()))
        d.test = loadDatasetFiles(files.test.files, files.test.label, then, columns);
    if (!files.source.empty()) d.notes.push_back("dataset " + files.source);
    if (d.train.examples.empty()) throw fileError(d.train.path, "leaves no training examples after the validation split");
    d.noValidation = files.validation.empty() && config.validationFraction == 0.0;
    const auto noMeasure = [&](const std::string& what) {
        return fileError(d.validation.path, what + "; give a validation file, raise validation_fraction (now " +
                                                shortNumber(config.validationFraction) +
                                                "), or set validation_fraction to 0 to train without validation "
                                                "(no evaluations, no early stopping)");
    };
    if (!d.noValidation && d.validation.examples.empty())
        throw noMeasure(files.validation.empty()
                            ? "the held-out share of " + std::to_string(d.train.examples.size()) + " examples is empty"
                            : std::string("has no examples"));
    if (config.objective == Objective::Dpo && !d.train.hasRejected())
        throw fileError(d.train.path, "has no rejected answers; DPO needs preference pairs (HH-RLHF chosen/rejected or "
                                      "prompt/chosen/rejected JSONL)");
    d.notes.push_back(describe("training data", d.train));
    if (d.noValidation)
        d.notes.push_back("no validation set (validation_fraction 0): no evaluations, no early stopping, no best checkpoint");
    else
        d.notes.push_back(describe("validation data", d.validation));
    if (!d.test.examples.empty()) d.notes.push_back(describe("test data", d.test));
    if (d.train.isChat()) {
        d.chatTemplate = std::make_shared<const ChatTemplate>(chatTemplateFor(config));
        const std::string how = d.chatTemplate->isJinja() ? "the chat template of " + d.chatTemplate->sourceName()
                                                          : "the Human/Assistant layout (the model has no chat template)";
        const char* turns = config.assistantTurns == AssistantTurns::All ? "every assistant message" : "the last assistant message";
        d.notes.push_back("chat data rendered with " + how + "; the loss on " + turns);
    }
    if (config.objective == Objective::Dpo || !tokenizer) return d;

    const ChatTemplate* chatTemplate = d.chatTemplate.get();
    d.trainTokens = tokenizeAll(*tokenizer, d.train, config, chatTemplate);
    d.validationTokens = tokenizeAll(*tokenizer, d.validation, config, chatTemplate);
    if (!d.noValidation) {
        std::int64_t counted = 0;
        for (const auto& t : d.validationTokens) counted += labelTokens(t);
        if (counted == 0)
            throw noMeasure(d.text() ? std::string("leaves nothing to score: no validation line has two tokens or more")
                                     : "has no answer token that counts in the loss at max_len " +
                                           std::to_string(config.maxLen));
    }
    if (d.trainTokens.empty())
        throw fileError(d.train.path, "gives no training sequence at max_len " + std::to_string(config.maxLen) +
                                          " (the text is shorter than one block)");
    std::int64_t cutAnswers = 0;
    std::int64_t droppedTurns = 0;
    for (const auto& t : d.trainTokens) {
        cutAnswers += t.answerCut && !d.text();
        droppedTurns += t.droppedTurns;
    }
    if (cutAnswers > 0)
        d.notes.push_back(std::to_string(cutAnswers) + " training answers are longer than max_len " +
                          std::to_string(config.maxLen) + " and were cut");
    if (droppedTurns > 0)
        d.notes.push_back(std::to_string(droppedTurns) + " early dialogue turns were dropped to fit max_len");
    if (config.packing) {
        const std::size_t examples = d.trainTokens.size();
        std::int64_t tokens = 0;
        for (const auto& t : d.trainTokens) tokens += static_cast<std::int64_t>(t.ids.size());
        d.trainTokens = packExamples(d.trainTokens, config.maxLen);
        std::ostringstream fill;
        fill.precision(3);
        fill << 100.0 * static_cast<double>(tokens) / static_cast<double>(d.trainTokens.size() * static_cast<std::size_t>(config.maxLen));
        d.notes.push_back("packing: " + std::to_string(examples) + " training examples in " + std::to_string(d.trainTokens.size()) +
                          " sequences of up to " + std::to_string(config.maxLen) + " tokens (" + fill.str() +
                          " % filled); batch_size counts sequences");
    }
    return d;
}

namespace {

// The layers that read one input share a group: q/k/v and gate/up of Llama
// and Qwen2 blocks; every other layer is a group of its own.
std::string inputGroupOf(const std::string& layer)
{
    const auto dot = layer.rfind('.');
    const std::string kind = layer.substr(dot + 1);
    const std::string block = dot == std::string::npos ? std::string() : layer.substr(0, dot);
    if (kind == "q_proj" || kind == "k_proj" || kind == "v_proj") return block + ".qkv";
    if (kind == "gate_proj" || kind == "up_proj") return block + ".gate_up";
    return layer;
}

} // namespace

MemoryBreakdown heldMemory(CausalLMImpl& net)
{
    MemoryBreakdown m;
    m.weightBytes = modelWeightBytes(net); // quantized base weights as their codes and statistics
    for (auto& [name, p] : net.uniqueParameters())
        if (p.requires_grad()) m.gradientBytes += p.numel() * static_cast<std::int64_t>(p.element_size());
    return m;
}

ModelConfig configOfModel(const std::string& spec, std::int64_t vocabSize)
{
    const std::string resolved = resolveModelSpec(spec);
    ModelConfig c = isPresetName(resolved) ? presetConfig(resolved) : loadModelConfig(resolved);
    if (vocabSize > 0) c.vocabSize = vocabSize;
    return c;
}

std::shared_ptr<CausalLMImpl> metaModel(const ModelConfig& config, torch::ScalarType dtype)
{
    return buildCausalLM(config, torch::TensorOptions().device(torch::kMeta).dtype(dtype));
}

MemoryBreakdown estimateMemory(CausalLMImpl& net, const RunConfig& config, std::int64_t T, torch::Device device)
{
    MemoryBreakdown e = heldMemory(net);
    const QuantizationOptions quantization = quantizationOf(config);
    const bool quantized = quantization.kind != BaseQuantization::None || hasQuantizedBase(net);
    const QuantizedMemoryEstimate q = quantized ? estimateQuantizedMemory(net, quantization, device) : QuantizedMemoryEstimate{};
    if (quantized) e.weightBytes = q.weightBytes;
    std::int64_t trainable = 0;
    for (auto& [name, p] : net.uniqueParameters())
        if (p.requires_grad()) trainable += p.numel();
    e.optimizerBytes = trainable * 8; // two fp32 moments
    // and an fp32 master copy of every low-precision weight that trains
    for (auto& [name, p] : net.uniqueParameters())
        if (p.requires_grad() && p.scalar_type() != torch::kFloat32) e.optimizerBytes += p.numel() * 4;
    const ModelConfig& c = net.config();
    // Sequences a forward pass trains on: DPO runs each pair's chosen and
    // rejected answers as one batch (the reference's log-probabilities are
    // worked out once, before training).
    const std::int64_t B = config.batchSize * (config.objective == Objective::Dpo ? 2 : 1);
    const std::int64_t bytes = bytesPerElement(config.dtype);
    // What a block keeps for backward, per token, counted op by op from the
    // layers' forward (LibTorch saves an operand only where a gradient needs
    // it): GPT-NeoX keeps its input, both norms' outputs, the rotated queries
    // and keys, the values, the attention output and the MLP's hidden states
    // before and after GELU (and with a sequential residual the sum between);
    // Llama and Qwen2 keep their input, both norms' outputs, queries and the
    // keys and values repeated to every head, the attention output and the sum
    // between, and gate, up, SiLU(gate) and their product. Plus the attention
    // probabilities (heads x T per token) of the unfused attention, or the
    // fused attention's output and log-sum-exp per head.
    const std::int64_t h = c.hiddenSize;
    const std::int64_t mlp = c.intermediateSize;
    const std::int64_t attention = compat::attentionKeepsProbabilities() ? c.numHeads * T : h + c.numHeads;
    const std::int64_t perToken =
        (c.architecture == Architecture::GptNeoX ? (c.parallelResidual ? 7 : 8) * h + 2 * mlp : 8 * h + 4 * mlp) + attention;
    std::int64_t perBlock = B * T * perToken * bytes;
    // Each adapter inside a block keeps its low-rank product of the input.
    // With dropout it keeps the dropped input (for lora_A) and the dropout's
    // mask (the scaled noise in the input's dtype on the CPU, a byte on a
    // GPU's fused dropout), and the input itself is no longer kept for the
    // adapter: the block's count above holds it once per group of layers
    // that read it (q/k/v, gate/up). So with dropout LoRA keeps more
    // activations than full fine-tuning of the same model. An adapter on the
    // head keeps them once.
    const std::int64_t maskBytes = device.is_cuda() ? 1 : bytes;
    std::int64_t headAdapter = 0;
    std::set<std::string> droppedInputs; // groups of layers reading one input, whose input is now dropped
    for (auto& [name, layer] : net.linearLayers()) {
        if (!layer->loraActive()) continue;
        std::int64_t kept = B * T * layer->lora().rank * bytes;
        if (layer->lora().dropout > 0.0) {
            kept += B * T * layer->inFeatures() * (bytes + maskBytes);
            if (droppedInputs.insert(inputGroupOf(name)).second) kept -= B * T * layer->inFeatures() * bytes;
        }
        if (name == net.headName())
            headAdapter += kept;
        else
            perBlock += kept / c.numLayers;
    }
    // fp32 logits at the positions that count in the loss: with the chunked
    // head, one chunk's (its logits, the log-probabilities' saved copy and
    // their gradient) and the hidden states' gradient; otherwise all of them
    // and their gradient.
    std::int64_t head = headAdapter;
    if (const std::int64_t rows = headLossChunking(net, B * T, device); rows > 0)
        head += 3 * rows * c.vocabSize * 4 + B * T * h * bytes;
    else
        head += 2 * B * T * c.vocabSize * 4;
    // A checkpointed block keeps its input only. The peak comes at the start
    // of backward (every block kept, and the head's), or later while a
    // checkpointed block runs again: its activations and their gradients
    // (about a third more) over the blocks below it that kept theirs. The
    // highest checkpointed block has the most of those below it.
    const std::int64_t L = c.numLayers;
    const std::int64_t checkpointed = net.checkpointedBlocks();
    const std::int64_t kept = L - checkpointed;
    const std::int64_t inputs = checkpointed * B * T * h * bytes + 2 * B * T * h * bytes; // and the final norm's input and output
    const std::int64_t start = kept * perBlock + head + inputs;
    std::int64_t again = 0;       // while the highest checkpointed block runs again
    std::int64_t blocksAbove = 0; // the blocks above it, whose backward is done
    if (checkpointed > 0) {
        const std::int64_t highest = (L - 1) / net.activationCheckpointing() * net.activationCheckpointing();
        blocksAbove = L - 1 - highest;
        again = (kept - blocksAbove) * perBlock + perBlock + perBlock / 3 + inputs;
    }
    if (config.method == Method::Lora) {
        // LoRA's gradients live in the optimizer's flat buffer (trainer.cpp):
        // held through the step, counted in gradientBytes.
        e.activationBytes = std::max(start, again);
    } else {
        // Full fine-tuning's gradients are allocated during backward, block by
        // block from the top, as the blocks' activations are freed: the
        // head's and the embeddings' first (at most), then each block's. The
        // peak of both is the start of backward, a block running again with
        // the gradients of the blocks above it, or the end: every gradient
        // and the lowest block's activations. What exceeds the gradients is
        // the activations' part, as a run measures it.
        std::int64_t blockGradients = 0;
        for (auto& [name, p] : net.uniqueParameters())
            if (p.requires_grad() && name.find(".layers.") != std::string::npos)
                blockGradients += p.numel() * static_cast<std::int64_t>(p.element_size());
        const std::int64_t outside = e.gradientBytes - blockGradients;
        const std::int64_t perBlockGradients = blockGradients / std::max<std::int64_t>(1, L);
        const std::int64_t lowest = kept > 0 && net.activationCheckpointing() != 1 ? perBlock : B * T * h * bytes;
        const std::int64_t both = std::max({start + outside, again > 0 ? again + outside + blocksAbove * perBlockGradients : 0,
                                            e.gradientBytes + lowest});
        e.activationBytes = std::max<std::int64_t>(0, both - e.gradientBytes);
    }
    // A quantized product dequantizes a block of rows at a time.
    e.activationBytes += q.scratchBytes;
    return e;
}

} // namespace loralab
