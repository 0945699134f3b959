// The training step and resumable state; see trainer.h.
#include "engine/checkpoint/load_checkpoint.h"
#include "engine/train/trainer.h"

#include "engine/dist/collective.h"
#include "engine/io/safetensors.h"
#include "engine/train/loss.h"
#include "engine/util/error.h"
#include "engine/util/json_file.h"
#include "engine/util/files.h"
#include "engine/util/torch_compat.h"

#include <ATen/CPUGeneratorImpl.h>
#include <chrono>
#include <cmath>

namespace loralab {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::vector<std::pair<std::string, torch::Tensor>> prepareTrainable(CausalLMImpl& net, Method method)
{
    setTrainable(net, method);
    return trainableParameters(net);
}

// LoRA's adapters share AdamW's flat buffers. Full fine-tuning keeps a tensor
// per parameter: a flat gradient buffer would hold every weight's gradient
// through the forward pass too, where autograd allocates each during the
// backward pass as activations are freed (a higher peak, by up to the
// weights' size).
AdamWConfig optimizerFor(const TrainConfig& config)
{
    AdamWConfig adam = config.adam;
    adam.flat = adam.flat && config.method == Method::Lora;
    return adam;
}

} // namespace

Trainer::Trainer(std::shared_ptr<CausalLMImpl> net, const TrainConfig& config)
    : m_net(std::move(net)), m_config(config), m_optimizer(prepareTrainable(*m_net, config.method), optimizerFor(config)),
      m_device(m_net->parameters().front().device())
{
}

std::int64_t Trainer::trainableParams() const
{
    std::int64_t n = 0;
    for (const auto& p : m_optimizer.parameters()) n += p.numel();
    return n;
}

StepResult Trainer::step(const std::vector<Batch>& microBatches)
{
    if (microBatches.empty()) throw Error("a training step needs at least one batch");
    std::int64_t tokens = 0;
    for (const auto& b : microBatches)
        tokens += (b.labels.narrow(1, 1, b.labels.size(1) - 1) != kIgnoreIndex).sum().item<std::int64_t>();
    return stepWith(static_cast<std::int64_t>(microBatches.size()), tokens, [&](std::int64_t i) {
        const Batch& b = microBatches[static_cast<std::size_t>(i)];
        return modelLoss(*m_net, b.ids, b.mask, b.labels);
    });
}

StepResult Trainer::stepWith(std::int64_t microBatches, std::int64_t totalWeight,
                             const std::function<LossOutput(std::int64_t)>& lossOf)
{
    // Wall-clock phases are only meaningful once queued GPU work has finished.
    const auto sync = [this] { compat::synchronize(m_device); };
    StepResult r;
    if (m_group) totalWeight = std::llround(m_group->sum(static_cast<double>(totalWeight)));
    r.tokens = totalWeight;
    r.learningRate = scheduledLearningRate(m_config.schedule, m_config.adam.lr, stepCount(), m_config.warmupSteps,
                                           m_config.totalSteps);
    const auto start = Clock::now();
    m_net->train();
    double lossSum = 0.0;
    for (std::int64_t i = 0; i < microBatches; ++i) {
        sync();
        auto t0 = Clock::now();
        const LossOutput out = lossOf(i);
        const torch::Tensor weighted = out.loss * (static_cast<double>(out.tokens) / std::max<std::int64_t>(1, totalWeight));
        sync();
        r.forwardMs += msSince(t0);
        t0 = Clock::now();
        weighted.backward();
        sync();
        r.backwardMs += msSince(t0);
        lossSum += out.loss.item<double>() * static_cast<double>(out.tokens);
    }
    if (m_group) {
        lossSum = m_group->sum(lossSum);
        m_group->sumInPlace(m_optimizer.gradients());
        r.commMs = m_group->takeCommMs();
    }
    r.loss = totalWeight > 0 ? lossSum / static_cast<double>(totalWeight) : 0.0;

    auto t0 = Clock::now();
    r.gradNorm = m_optimizer.clipGradNorm(m_config.maxGradNorm);
    r.finite = std::isfinite(r.loss) && std::isfinite(r.gradNorm);
    if (r.finite) m_optimizer.step(r.learningRate);
    m_optimizer.zeroGrad();
    sync();
    r.optimizerMs = msSince(t0);
    r.stepMs = msSince(start);
    return r;
}

void Trainer::takeStateFromRankZero()
{
    if (!m_group) return;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> tensors = m_optimizer.parameters();
    for (auto& [name, t] : m_optimizer.state()) tensors.push_back(t);
    m_group->broadcastInPlace(tensors);
    const std::int64_t step = std::stoll(m_group->broadcastText(std::to_string(stepCount())));
    m_optimizer.loadState(m_optimizer.state(), step);
    m_group->takeCommMs();
}

void Trainer::saveCheckpoint(const std::filesystem::path& dir, const nlohmann::json& extra, bool withOptimizer,
                             const std::filesystem::path& sourceDir, const std::string& baseModel) const
{
    if (m_config.method == Method::Lora)
        saveAdapter(*m_net, currentAdapterConfig(*m_net, baseModel), dir);
    else
        exportMergedModel(*m_net, sourceDir, dir);
    nlohmann::json state = {{"step", stepCount()}, {"method", choiceName(m_config.method)}, {"extra", extra}};
    if (withOptimizer) {
        NamedTensors tensors = m_optimizer.state();
        tensors.emplace_back("rng.cpu", at::detail::getDefaultCPUGenerator().get_state());
        saveSafetensors(dir / "optimizer.safetensors", tensors);
        state["has_optimizer"] = true;
    }
    writeFileAtomic(dir / "trainer_state.json", state.dump(2) + "\n");
}

nlohmann::json Trainer::loadCheckpoint(const std::filesystem::path& dir)
{
    const auto statePath = dir / "trainer_state.json";
    const auto state = parseJsonObject(readTextFile(statePath), statePath.string());
    if (state.value("method", "") != choiceName(m_config.method))
        throw fileError(statePath.string(), "was written by a " + state.value("method", std::string("?")) +
                                                " run and cannot resume a " + choiceName(m_config.method) + " run");
    if (!state.value("has_optimizer", false))
        throw fileError(statePath.string(), "this checkpoint holds no optimizer state, so training cannot resume from it");

    torch::NoGradGuard noGrad;
    Checkpoint checkpoint;
    checkpoint.dir = dir;
    checkpoint.kind = m_config.method == Method::Lora ? CheckpointKind::Adapter : CheckpointKind::FullWeights;
    loadCheckpointWeights(*m_net, checkpoint);
    NamedTensors tensors = loadSafetensors(dir / "optimizer.safetensors");
    for (auto it = tensors.begin(); it != tensors.end(); ++it)
        if (it->first == "rng.cpu") {
            at::Generator generator = at::detail::getDefaultCPUGenerator(); // a handle sharing the global state
            generator.set_state(it->second);
            tensors.erase(it);
            break;
        }
    m_optimizer.loadState(tensors, state.at("step").get<std::int64_t>());
    return state.value("extra", nlohmann::json::object());
}

} // namespace loralab
