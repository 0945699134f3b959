// Step benchmarks; see bench.h.
#include "engine/commands/bench.h"

#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/config/resources.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/quantized_linear.h"
#include "engine/run/run_setup.h"
#include "engine/train/memory.h"
#include "engine/train/trainer.h"
#include "engine/util/error.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace loralab {
namespace {

double median(std::vector<double> v)
{
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// FLOPs per training token: a forward pass costs 2N multiply-adds over the
// weights it reads; backward costs 2N more for input gradients, and for full
// fine-tuning another 2N for weight gradients. Attention's two products add
// 4 * T * d per layer forward (causal masking not discounted), tripled for training.
double flopsPerToken(const ModelConfig& c, std::int64_t matmulParams, std::int64_t T, bool full)
{
    const double n = static_cast<double>(matmulParams);
    const double attention = 4.0 * static_cast<double>(T) * static_cast<double>(c.numHeads * c.headDim) *
                             static_cast<double>(c.numLayers);
    return (full ? 6.0 : 4.0) * n + 3.0 * attention;
}

} // namespace

BenchResult runBench(const BenchConfig& config, const std::function<void(const std::string&)>& onEvent)
{
    if (config.batchSize <= 0 || config.sequenceLength < 2 || config.steps <= 0 || config.warmupSteps < 0)
        throw Error("bench needs a positive batch, sequence length of at least 2, and steps");
    // On the CPU the tensors' bytes are counted for this thread from here on, the weights included.
    TensorMemoryScope tensors;
    const auto event = [&](const std::string& m) {
        if (onEvent) onEvent(m);
    };
    setThreadCount(config.threads);
    BenchResult r;
    r.config = config;
    const auto t0 = std::chrono::steady_clock::now();
    LoadOptions options;
    options.device = resolveDevice(config.device);
    options.dtype = torchDType(config.dtype);
    options.seed = config.seed;
    r.deviceName = options.device.str();
    const std::string spec = resolveModelSpec(config.model);
    const ModelConfig shape = isPresetName(spec) ? presetConfig(spec) : loadModelConfig(spec);
    if (shape.maxPositions > 0 && config.sequenceLength > shape.maxPositions)
        throw Error("--seq " + std::to_string(config.sequenceLength) + " is longer than the context of " + config.model + " (" +
                    std::to_string(shape.maxPositions) + " tokens, max_position_embeddings); lower --seq");
    LoadedModel model = loadModel(spec, options);
    const bool full = config.method == BenchMethod::Full;
    QuantizationOptions quantization;
    quantization.kind = config.baseQuantization;
    quantization.doubleQuant = config.doubleQuant;
    quantization.computeDtype = options.dtype;
    if (full && quantization.kind != BaseQuantization::None)
        throw Error("full fine-tuning trains the base weights, which a quantized base cannot; bench LoRA instead");
    quantizeFrozenBase(*model.net, quantization);
    try {
        model.net->setActivationCheckpointing(config.activationCheckpointing);
    } catch (const Error& e) {
        throw Error("--activation-checkpointing " + std::to_string(config.activationCheckpointing) + " on " + config.model + ": " +
                    e.what());
    }
    r.weightBytes = modelWeightBytes(*model.net);
    for (auto& [name, linear] : model.net->linearLayers()) {
        if (name == model.net->headName()) continue;
        r.baseLinearBytes += linear->baseQuantized() ? linear->quantizedBase()->bytes()
                                                     : linear->weight.numel() * static_cast<std::int64_t>(linear->weight.element_size());
    }
    if (!full) {
        AdapterConfig lora;
        lora.rank = config.loraRank;
        lora.alpha = config.loraAlpha;
        lora.dropout = 0.0;
        lora.targetModules = {"all-linear"};
        if (config.method == BenchMethod::LoraHead) lora.targetModules.push_back("lm_head");
        applyLora(*model.net, lora);
    }
    TrainConfig tc;
    tc.method = full ? Method::Full : Method::Lora;
    tc.adam.lr = config.learningRate;
    tc.maxGradNorm = 0.0;
    tc.totalSteps = config.steps + config.warmupSteps;
    Trainer trainer(model.net, tc);
    // The estimate of a run of this shape (random tokens: every sequence full length).
    RunConfig shapeRun;
    shapeRun.method = tc.method;
    shapeRun.batchSize = config.batchSize;
    shapeRun.dtype = config.dtype;
    shapeRun.baseQuantization = config.baseQuantization;
    shapeRun.doubleQuant = config.doubleQuant;
    shapeRun.activationCheckpointing = config.activationCheckpointing;
    r.estimate = estimateMemory(*model.net, shapeRun, config.sequenceLength, options.device);
    const MemoryBreakdown held = heldMemory(*model.net);
    for (auto& [name, p] : model.net->uniqueParameters()) r.totalParams += p.numel();
    r.trainableParams = trainer.trainableParams();
    std::int64_t matmulParams = 0; // the weights every token multiplies: linear layers incl. the head
    for (auto& [name, linear] : model.net->linearLayers()) matmulParams += linear->inFeatures() * linear->outFeatures();
    r.flopsPerToken = flopsPerToken(model.config, matmulParams, config.sequenceLength, full);
    r.setupSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    event("model ready in " + std::to_string(r.setupSeconds) + " s on " + r.deviceName);

    torch::manual_seed(config.seed);
    const auto ids = torch::randint(0, model.config.vocabSize, {config.batchSize, config.sequenceLength},
                                    torch::TensorOptions().dtype(torch::kInt64)).to(options.device);
    const Batch batch{ids, torch::ones_like(ids), ids};
    std::vector<double> forward, backward, optimizer;
    const auto trainStart = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < config.warmupSteps + config.steps; ++i) {
        resetPeakMemory(options.device);
        const StepResult s = trainer.step({batch});
        if (i == 0) r.firstStepSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - trainStart).count();
        if (i < config.warmupSteps) continue;
        // The process's peak resident set on the CPU (as docs/benchmarks.md compares
        // it with PEFT's), the allocator's peak on a GPU.
        const MemoryReading memory = readMemory(options.device);
        r.peakMemoryBytes = std::max(r.peakMemoryBytes, options.device.is_cuda() ? memory.peakBytes : memory.processPeakBytes);
        if (memory.peakBytes > r.tensorPeakBytes) {
            r.tensorPeakBytes = memory.peakBytes;
            r.measured = held;
            r.measured.optimizerBytes = trainer.optimizerStateBytes();
            r.measured.activationBytes =
                std::max<std::int64_t>(0, memory.peakBytes - held.weightBytes - held.gradientBytes - r.measured.optimizerBytes);
        }
        forward.push_back(s.forwardMs);
        backward.push_back(s.backwardMs);
        optimizer.push_back(s.optimizerMs);
        r.stepMs.push_back(s.stepMs);
        event("step " + std::to_string(i + 1 - config.warmupSteps) + ": " + std::to_string(s.stepMs) + " ms");
    }
    r.medianForwardMs = median(forward);
    r.medianBackwardMs = median(backward);
    r.medianOptimizerMs = median(optimizer);
    r.medianStepMs = median(r.stepMs);
    const double tokens = static_cast<double>(config.batchSize * config.sequenceLength);
    r.tokensPerSecond = r.medianStepMs > 0 ? 1000.0 * tokens / r.medianStepMs : 0.0;
    r.achievedTflops = r.tokensPerSecond * r.flopsPerToken / 1e12;
    if (config.peakTflops > 0) r.utilisation = r.achievedTflops / config.peakTflops;
    return r;
}

std::string benchResultToJson(const BenchResult& r)
{
    nlohmann::ordered_json j;
    j["tool"] = "loralab";
    j["model"] = r.config.model;
    j["method"] = choiceName(r.config.method);
    j["dtype"] = choiceName(r.config.dtype);
    j["base_quantization"] = choiceName(r.config.baseQuantization);
    j["double_quant"] = r.config.doubleQuant;
    j["activation_checkpointing"] = r.config.activationCheckpointing;
    j["device"] = r.deviceName;
    j["batch_size"] = r.config.batchSize;
    j["sequence_length"] = r.config.sequenceLength;
    j["threads"] = r.config.threads;
    j["steps"] = r.config.steps;
    j["warmup_steps"] = r.config.warmupSteps;
    j["total_params"] = r.totalParams;
    j["trainable_params"] = r.trainableParams;
    j["weight_bytes"] = r.weightBytes;
    j["base_linear_bytes"] = r.baseLinearBytes;
    j["median_forward_ms"] = r.medianForwardMs;
    j["median_backward_ms"] = r.medianBackwardMs;
    j["median_optimizer_ms"] = r.medianOptimizerMs;
    j["median_step_ms"] = r.medianStepMs;
    j["tokens_per_s"] = r.tokensPerSecond;
    j["peak_memory_bytes"] = r.peakMemoryBytes;
    j["tensor_peak_bytes"] = r.tensorPeakBytes;
    j["memory_measured"] = nlohmann::ordered_json::parse(toJson(r.measured));
    j["memory_estimate"] = nlohmann::ordered_json::parse(toJson(r.estimate));
    j["flops_per_token"] = r.flopsPerToken;
    j["achieved_tflops"] = r.achievedTflops;
    j["utilisation"] = r.utilisation >= 0 ? nlohmann::ordered_json(r.utilisation) : nlohmann::ordered_json(nullptr);
    j["setup_s"] = r.setupSeconds;
    j["first_step_s"] = r.firstStepSeconds;
    j["step_ms"] = r.stepMs;
    return j.dump(2);
}

} // namespace loralab
