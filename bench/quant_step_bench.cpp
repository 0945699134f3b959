// LoRA step time over a quantized base: for each base given (fp32, bf16,
// int8, NF4, NF4 with double quantization) one model is loaded, its base
// quantized, LoRA (r 8, all linear layers) attached and trained on random
// tokens; prints one JSON line per base with the median step's wall time and
// the process's CPU time (which other processes on a shared machine disturb
// less), and the bytes of the frozen base weights. Then the parts of one
// quantized product alone. A benchmark, not a test.
//
//   build/bench/loralab-quant-bench MODEL BATCH SEQ STEPS THREADS [BASE...]
//   build/bench/loralab-quant-bench preset:pythia-410m 1 128 3 1 fp32 bf16 fp32+int8 fp32+nf4 fp32+nf4-dq
// A base is DTYPE[+QUANTIZATION], QUANTIZATION one of int8, nf4, fp4, nf4-dq,
// fp4-dq (-dq: double quantization); the products run in DTYPE.
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/quantized_linear.h"
#include "engine/config/resources.h"
#include "engine/train/trainer.h"
#include "engine/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

namespace {

double cpuMs()
{
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

nlohmann::ordered_json runBase(const std::string& spec, const std::string& base, std::int64_t batch, std::int64_t seq,
                               std::int64_t steps)
{
    const auto plus = base.find('+');
    loralab::LoadOptions load;
    load.dtype = loralab::parseDType(base.substr(0, plus));
    loralab::QuantizationOptions q;
    q.computeDtype = load.dtype;
    if (plus != std::string::npos) {
        std::string name = base.substr(plus + 1);
        q.doubleQuant = name.size() > 3 && name.compare(name.size() - 3, 3, "-dq") == 0;
        q.kind = loralab::parseChoice<BaseQuantization>(q.doubleQuant ? name.substr(0, name.size() - 3) : name);
    }
    loralab::LoadedModel model = loralab::loadModel(loralab::resolveModelSpec(spec), load);
    const auto t0 = std::chrono::steady_clock::now();
    loralab::quantizeFrozenBase(*model.net, q);
    const double quantizeSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::int64_t baseBytes = 0;
    for (auto& [name, linear] : model.net->linearLayers())
        if (name != model.net->headName())
            baseBytes += linear->baseQuantized() ? linear->quantizedBase()->bytes()
                                                 : linear->weight.numel() * static_cast<std::int64_t>(linear->weight.element_size());
    loralab::AdapterConfig lora;
    lora.rank = 8;
    lora.alpha = 16.0;
    lora.targetModules = {"all-linear"};
    loralab::applyLora(*model.net, lora);
    loralab::TrainConfig tc;
    tc.adam.lr = 5e-5;
    tc.maxGradNorm = 0.0;
    loralab::Trainer trainer(model.net, tc);
    torch::manual_seed(0);
    const torch::Tensor ids = torch::randint(0, model.config.vocabSize, {batch, seq}, torch::kInt64);
    const loralab::Batch b{ids, torch::ones_like(ids), ids};
    std::vector<double> wall, cpu, forward, backward;
    for (std::int64_t i = 0; i <= steps; ++i) { // the first step warms up
        const double c0 = cpuMs();
        const loralab::StepResult s = trainer.step({b});
        if (i == 0) continue;
        cpu.push_back(cpuMs() - c0);
        wall.push_back(s.stepMs);
        forward.push_back(s.forwardMs);
        backward.push_back(s.backwardMs);
    }
    nlohmann::ordered_json j;
    j["model"] = spec;
    j["base"] = base;
    j["tokens"] = batch * seq;
    j["step_ms"] = median(wall);
    j["step_cpu_ms"] = median(cpu);
    j["forward_ms"] = median(forward);
    j["backward_ms"] = median(backward);
    j["steps_ms"] = wall;
    j["base_linear_bytes"] = baseBytes;
    j["weight_bytes"] = loralab::modelWeightBytes(*model.net);
    j["quantize_s"] = quantizeSeconds;
    return j;
}

// One quantized product's parts alone: dequantizing a [rows, cols] NF4 weight
// (all of it: one block of rows up to 4 M values), and the product with it.
nlohmann::ordered_json productParts(std::int64_t rows, std::int64_t cols, std::int64_t tokens)
{
    torch::manual_seed(1);
    const torch::Tensor dense = torch::randn({rows, cols}) * 0.02;
    const auto w = std::make_shared<loralab::QuantizedWeight>(
        loralab::quantizeWeight(dense, loralab::BaseQuantization::Nf4, true, 64, torch::kFloat32, "w"));
    const torch::Tensor x = torch::randn({tokens, cols});
    const auto time = [](const auto& f) {
        std::vector<double> ms;
        for (int i = 0; i < 7; ++i) {
            const double c0 = cpuMs();
            f();
            ms.push_back(cpuMs() - c0);
        }
        return median(ms);
    };
    torch::NoGradGuard noGrad;
    nlohmann::ordered_json j;
    j["shape"] = {rows, cols};
    j["tokens"] = tokens;
    j["dequantize_cpu_ms"] = time([&] { (void)w->dequantize(torch::kFloat32); });
    j["dense_product_cpu_ms"] = time([&] { (void)torch::nn::functional::linear(x, dense); });
    j["quantized_product_cpu_ms"] = time([&] { (void)loralab::quantizedLinear(x, w, {}); });
    return j;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 6) {
        std::cerr << "usage: loralab-quant-bench MODEL BATCH SEQ STEPS THREADS [DTYPE[+QUANTIZATION]...]\n";
        return 2;
    }
    const std::string spec = argv[1];
    const std::int64_t batch = std::stoll(argv[2]);
    const std::int64_t seq = std::stoll(argv[3]);
    const std::int64_t steps = std::stoll(argv[4]);
    loralab::setThreadCount(std::stoi(argv[5]));
    std::vector<std::string> bases(argv + 6, argv + argc);
    if (bases.empty()) bases = {"fp32", "bf16", "fp32+int8", "fp32+nf4", "fp32+nf4-dq"};
    try {
        for (const std::string& base : bases) std::cout << runBase(spec, base, batch, seq, steps).dump() << std::endl;
        std::cout << productParts(4096, 1024, batch * seq).dump() << std::endl;
    } catch (const loralab::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
