// loralab-cli bench: time one training step of a model, as a table and JSON.
#include "commands.h"
#include "progress.h"

#include "engine/commands/bench.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <climits>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace loralab::cli {
namespace {

int runBenchCommand(const Args& args)
{
    BenchConfig c;
    if (!args.positional().empty()) c.model = args.positional()[0];
    if (args.has("method")) c.method = parseChoice<BenchMethod>(args.get("method"));
    c.batchSize = args.getInt("batch", c.batchSize, 1);
    c.sequenceLength = args.getInt("seq", c.sequenceLength, 1);
    if (args.has("dtype")) c.dtype = parseChoice<WeightDType>(args.get("dtype"));
    if (args.has("base-quantization")) c.baseQuantization = parseChoice<BaseQuantization>(args.get("base-quantization"));
    c.doubleQuant = args.has("double-quant");
    c.activationCheckpointing = args.getInt("activation-checkpointing", 0, 0);
    c.steps = args.getInt("steps", c.steps, 1);
    c.warmupSteps = args.getInt("warmup", c.warmupSteps, 0);
    c.loraRank = args.getInt("lora-r", c.loraRank, 1);
    c.loraAlpha = args.getDouble("lora-alpha", c.loraAlpha);
    c.device = args.get("device", c.device);
    c.threads = static_cast<int>(args.getInt("threads", 0, 0, INT_MAX));
    c.peakTflops = args.getDouble("peak-tflops", 0.0);
    const BenchResult r = runBench(c, [&](const std::string& m) {
        if (args.has("verbose")) std::cerr << m << "\n";
    });
    const std::string json = benchResultToJson(r);
    if (args.has("out")) writeFileAtomic(args.get("out"), json + "\n");
    if (args.has("json")) {
        std::cout << json << "\n";
        return 0;
    }
    const auto row = [](const std::string& k, const std::string& v) { std::cout << std::left << std::setw(22) << k << v << "\n"; };
    std::ostringstream num;
    const auto fmt = [&](double v, int digits) {
        num.str("");
        num << std::fixed << std::setprecision(digits) << v;
        return num.str();
    };
    const std::string base = c.baseQuantization == BaseQuantization::None
                                 ? choiceName(c.dtype)
                                 : std::string(choiceName(c.baseQuantization)) + (c.doubleQuant ? "+dq" : "") + " base, " + choiceName(c.dtype) + " products";
    row("model", c.model + " (" + choiceName(c.method) + ", " + base + ", " + r.deviceName + ")");
    if (c.activationCheckpointing > 0)
        row("checkpointing", c.activationCheckpointing == 1 ? std::string("every block")
                                                            : "every " + std::to_string(c.activationCheckpointing) + "th block");
    row("batch x sequence", std::to_string(c.batchSize) + " x " + std::to_string(c.sequenceLength));
    row("parameters", std::to_string(r.totalParams) + " total, " + std::to_string(r.trainableParams) + " trainable");
    row("median forward", fmt(r.medianForwardMs, 1) + " ms");
    row("median backward", fmt(r.medianBackwardMs, 1) + " ms");
    row("median optimizer", fmt(r.medianOptimizerMs, 1) + " ms");
    row("median step", fmt(r.medianStepMs, 1) + " ms");
    row("tokens/s", fmt(r.tokensPerSecond, 0));
    row("peak memory", formatBytes(r.peakMemoryBytes) + (r.deviceName.rfind("cuda", 0) == 0 ? "" : " (process RSS)"));
    row("tensor peak", formatBytes(r.tensorPeakBytes));
    const auto kinds = [](const MemoryBreakdown& m) {
        return formatBytes(m.total()) + " (weights " + formatBytes(m.weightBytes) + ", gradients " + formatBytes(m.gradientBytes) +
               ", optimizer " + formatBytes(m.optimizerBytes) + ", activations " + formatBytes(m.activationBytes) + ")";
    };
    row("  measured", kinds(r.measured));
    row("  estimated", kinds(r.estimate));
    row("weights", formatBytes(r.weightBytes) + " (linear base weights " + formatBytes(r.baseLinearBytes) + ")");
    row("model FLOP/s", fmt(r.achievedTflops * 1000.0, 1) + " GFLOP/s (" + fmt(r.flopsPerToken / 1e6, 1) + " MFLOP/token)");
    if (r.utilisation >= 0) row("utilisation", fmt(100.0 * r.utilisation, 1) + " % of " + fmt(c.peakTflops, 0) + " TFLOP/s");
    row("first step", fmt(r.firstStepSeconds, 2) + " s after " + fmt(r.setupSeconds, 2) + " s of setup");
    return 0;
}

} // namespace

std::vector<Command> benchCommands()
{
    return {{"bench", "bench [MODEL] [options]", "time training steps on random tokens: forward, backward, optimizer, memory",
             {{"method", "M", "full, lora (all-linear) or lora-head (all-linear plus the output head); default lora"},
              {"batch", "N", "sequences per step (default 4)"},
              {"seq", "N", "tokens per sequence (default 128)"},
              {"dtype", "fp32|bf16", "base weight dtype (default fp32); with a quantized base, the dtype products run in"},
              {"base-quantization", "Q", "frozen linear base weights for LoRA: none, int8, nf4 or fp4 (default none)"},
              {"double-quant", "", "nf4/fp4: quantize the block absmax values too"},
              {"activation-checkpointing", "K", "recompute every K-th block's activations in backward (1: every block; default 0, off)"},
              {"steps", "N", "measured steps (default 10)"},
              {"warmup", "N", "unmeasured steps first (default 3)"},
              {"lora-r", "R", "LoRA rank (default 8)"},
              {"lora-alpha", "A", "LoRA alpha (default 16)"},
              {"peak-tflops", "F", "the device's peak, to report utilisation"},
              {"out", "FILE", "write the JSON result here"},
              {"json", "", "print the JSON result instead of the table"},
              {"verbose", "", "print each step"}},
             runBenchCommand}};
}

} // namespace loralab::cli
