// Benchmarks of one training step: forward, backward and optimizer time,
// tokens per second, peak memory and FLOP throughput, for full fine-tuning or
// LoRA on random tokens. No LibTorch here.
#pragma once

#include "engine/config/run_choices.h"
#include "engine/quant/base_quantization.h"
#include "engine/records/metrics.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

// What a benchmarked step trains: every weight, LoRA on every linear layer,
// or LoRA on every linear layer and the output head.
enum class BenchMethod { Full, Lora, LoraHead };
template <>
struct ChoiceList<BenchMethod> {
    static constexpr const char* what = "bench method";
    static constexpr std::array<std::pair<BenchMethod, const char*>, 3> items = {
        {{BenchMethod::Full, "full"}, {BenchMethod::Lora, "lora"}, {BenchMethod::LoraHead, "lora-head"}}};
};

struct BenchConfig {
    std::string model = "preset:pythia-70m";
    BenchMethod method = BenchMethod::Lora;
    std::int64_t batchSize = 4;
    std::int64_t sequenceLength = 128;
    WeightDType dtype = WeightDType::Fp32; // base weights (with a quantized base: the dtype products run in)
    BaseQuantization baseQuantization = BaseQuantization::None; // the linear layers' frozen base (LoRA only)
    bool doubleQuant = false;              // 4-bit: double quantization of the block absmax values
    std::int64_t activationCheckpointing = 0; // every k-th block recomputed in backward; 0: off
    std::int64_t steps = 10;    // measured
    std::int64_t warmupSteps = 3;
    std::int64_t loraRank = 8;
    double loraAlpha = 16.0;
    double learningRate = 5e-5;
    std::string device = "auto";
    int threads = 0;
    std::uint64_t seed = 0;
    double peakTflops = 0.0; // the device's peak, for utilisation; 0: not reported
};

struct BenchResult {
    BenchConfig config;
    std::string deviceName;
    std::int64_t totalParams = 0;
    std::int64_t trainableParams = 0;
    std::int64_t weightBytes = 0;     // every weight the model holds (quantized codes and statistics included)
    std::int64_t baseLinearBytes = 0; // of these, the frozen base weights of the linear layers other than the head
    double medianForwardMs = 0.0;
    double medianBackwardMs = 0.0;
    double medianOptimizerMs = 0.0;
    double medianStepMs = 0.0;
    double tokensPerSecond = 0.0;
    std::int64_t peakMemoryBytes = 0;       // CPU: the process's peak resident set; GPU: the allocator's peak
    std::int64_t tensorPeakBytes = 0;       // the most the run's tensors held during a measured step (weights included)
    // That peak by what held it (activations: the rest of the peak), and the
    // estimate a run of this shape gets, as in a run's summary.
    MemoryBreakdown measured;
    MemoryBreakdown estimate;
    double flopsPerToken = 0.0;   // model FLOPs of one training token (4N LoRA / 6N full, plus attention)
    double achievedTflops = 0.0;
    double utilisation = -1.0;    // achievedTflops / peakTflops
    double setupSeconds = 0.0;    // model construction and loading
    double firstStepSeconds = 0.0; // from the start of training to the end of the first step
    std::vector<double> stepMs;   // every measured step
};

BenchResult runBench(const BenchConfig& config, const std::function<void(const std::string&)>& onEvent = {});

std::string benchResultToJson(const BenchResult& result);

} // namespace loralab
