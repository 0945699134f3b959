// Memory fit and levers; see memory_fit.h.
#include "engine/run/memory_fit.h"

#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/run/run_setup.h"
#include "engine/train/memory.h"
#include "engine/util/error.h"
#include "engine/util/units.h"

#include <functional>
#include <optional>
#include <sstream>

namespace loralab {
namespace {

// A configuration's model on the meta device, set up as the run sets it up:
// checkpointing, adapters, what trains. Throws Error where the configuration
// does not apply to the model.
std::shared_ptr<CausalLMImpl> plannedModel(const RunConfig& config)
{
    checkRunConfig(config);
    auto net = metaModel(configOfModel(config.model, config.vocabSize), torchDType(config.dtype));
    net->setActivationCheckpointing(config.activationCheckpointing);
    if (config.method == Method::Lora) applyLora(*net, adapterConfigFor(config, config.model));
    setTrainable(*net, config.method);
    return net;
}

std::string breakdownText(const MemoryBreakdown& m)
{
    return "weights " + bytesText(m.weightBytes) + ", gradients " + bytesText(m.gradientBytes) + ", optimizer state " +
           bytesText(m.optimizerBytes) + ", activations " + bytesText(m.activationBytes);
}

struct Planner {
    const RunConfig& config;
    std::int64_t T;
    torch::Device device;
    std::int64_t budget;

    bool fits(const MemoryBreakdown& e) const { return budget <= 0 || e.total() <= budget; }

    MemoryLever lever(std::string setting, const MemoryBreakdown& e) const { return {std::move(setting), e, fits(e)}; }

    // The run with one change; nullopt where the change does not apply.
    std::optional<MemoryLever> changed(const std::string& setting, const std::function<void(RunConfig&)>& change) const
    {
        RunConfig c = config;
        change(c);
        try {
            const auto net = plannedModel(c);
            return lever(setting, estimateMemory(*net, c, std::min(T, c.maxLen), device));
        } catch (const Error&) {
            return std::nullopt;
        }
    }

    // For a run that fits, half of `current` (what it would save); for one
    // that does not, the largest value below `current` that fits (the
    // estimate grows with it), a multiple of `step` where one fits, else the
    // smallest. Nullopt when `current` is already the smallest.
    // `setting` names the run option with a value.
    std::optional<MemoryLever> smaller(const std::function<std::string(std::int64_t)>& setting, std::int64_t current,
                                       std::int64_t smallest, std::int64_t step, bool runFits,
                                       const std::function<MemoryBreakdown(std::int64_t)>& estimateAt) const
    {
        if (current <= smallest) return std::nullopt;
        const auto at = [&](std::int64_t value) { return lever(setting(value), estimateAt(value)); };
        if (runFits) return at(std::max(smallest, current / 2));
        if (!fits(estimateAt(smallest))) return at(smallest);
        std::int64_t lo = smallest, hi = current - 1;
        while (lo < hi) {
            const std::int64_t mid = lo + (hi - lo + 1) / 2;
            if (fits(estimateAt(mid)))
                lo = mid;
            else
                hi = mid - 1;
        }
        if (lo >= step && lo % step != 0) lo -= lo % step;
        return at(lo);
    }
};

} // namespace

std::string MemoryFit::verdict() const
{
    std::ostringstream out;
    out << "about " << bytesText(estimate.total()) << " (" << breakdownText(estimate) << ")";
    if (budgetBytes > 0)
        out << " of " << bytesText(budgetBytes) << (limited ? " (memory_limit_gib)" : "") << " available in " << place << ": "
            << (fits ? "fits" : "does not fit");
    else
        out << "; the free memory of " << place << " is unknown";
    return out.str();
}

std::vector<std::string> MemoryFit::leverLines() const
{
    std::vector<std::string> lines;
    const auto add = [&](const MemoryLever& l) {
        lines.push_back(l.setting + ": about " + bytesText(l.estimate.total()) +
                        (budgetBytes > 0 ? (l.fits ? ", fits" : ", does not fit") : ""));
    };
    for (const auto& l : levers) add(l);
    for (const auto& l : combined) add(l);
    return lines;
}

std::string MemoryFit::refusal(const RunConfig& config) const
{
    std::string text = "a training step needs about " + bytesText(estimate.total()) + " (" + breakdownText(estimate) +
                       ") at batch_size " + std::to_string(config.batchSize) + " x " + std::to_string(sequenceLength) +
                       " tokens, but " + place + " has " + bytesText(budgetBytes) + (limited ? " (memory_limit_gib)" : "") + " for it";
    std::vector<std::string> fitting;
    for (const auto& l : levers)
        if (l.fits) fitting.push_back(l.setting + " (about " + bytesText(l.estimate.total()) + ")");
    if (!fitting.empty()) {
        text += "; it fits with any of: ";
        for (std::size_t i = 0; i < fitting.size(); ++i) text += (i ? ", " : "") + fitting[i];
        return text;
    }
    text += "; no lever alone makes it fit";
    for (const auto& l : combined)
        text += "; " + l.setting + ": about " + bytesText(l.estimate.total()) + (l.fits ? ", fits" : ", still too much");
    if (combined.empty() || !combined.back().fits) text += "; use a smaller model or a device with more memory";
    return text;
}

MemoryFit planMemory(const RunConfig& config, const MemoryPlanOptions& options)
{
    const torch::Device device = resolveDevice(config.device);
    MemoryFit fit;
    fit.sequenceLength = options.sequenceLength > 0 ? std::min(options.sequenceLength, config.maxLen) : config.maxLen;
    fit.place = memoryPlace(device);
    const std::int64_t free = availableMemory(device);
    fit.budgetBytes = free > 0 ? free + options.heldWeightBytes : 0;
    if (config.memoryLimitGib > 0) {
        const auto limit = static_cast<std::int64_t>(config.memoryLimitGib * double(std::int64_t{1} << 30));
        fit.budgetBytes = fit.budgetBytes > 0 ? std::min(fit.budgetBytes, limit) : limit;
        fit.limited = limit == fit.budgetBytes;
    }
    const Planner p{config, fit.sequenceLength, device, fit.budgetBytes};

    const auto net = plannedModel(config);
    fit.estimate = options.estimate ? *options.estimate : estimateMemory(*net, config, fit.sequenceLength, device);
    fit.fits = p.fits(fit.estimate);
    if (fit.fits && !options.leversAlways) return fit;

    // A lever that saves nothing is no lever (LoRA with dropout keeps more
    // activations than full fine-tuning of a small model saves).
    const auto add = [&](std::optional<MemoryLever> l) {
        if (l && l->estimate.total() < fit.estimate.total()) fit.levers.push_back(std::move(*l));
    };
    // More micro-batches keep the sequences an optimizer step sees.
    const auto batchSetting = [&](std::int64_t b) {
        const std::int64_t accum = (config.batchSize * config.gradAccum + b - 1) / b;
        return "batch_size " + std::to_string(b) + " with grad_accum " + std::to_string(accum) + " (" + std::to_string(b * accum) +
               " sequences a step)";
    };
    add(p.smaller(batchSetting, config.batchSize, 1, 1, fit.fits, [&](std::int64_t b) {
        RunConfig c = config;
        c.batchSize = b;
        return estimateMemory(*net, c, fit.sequenceLength, device);
    }));
    add(p.smaller([](std::int64_t t) { return "max_len " + std::to_string(t); }, fit.sequenceLength, std::min<std::int64_t>(16, fit.sequenceLength), 8, fit.fits, [&](std::int64_t t) {
        return estimateMemory(*net, config, t, device);
    }));
    const bool lora = config.method == Method::Lora;
    const bool quantized = config.baseQuantization != BaseQuantization::None;
    if (config.activationCheckpointing != 1)
        add(p.changed("activation_checkpointing 1", [](RunConfig& c) { c.activationCheckpointing = 1; }));
    if (lora && !quantized) {
        add(p.changed("base_quantization int8", [](RunConfig& c) { c.baseQuantization = BaseQuantization::Int8; }));
        add(p.changed("base_quantization nf4 with double_quant", [](RunConfig& c) {
            c.baseQuantization = BaseQuantization::Nf4;
            c.doubleQuant = true;
        }));
    }
    if (!lora) add(p.changed("method lora", [](RunConfig& c) { c.method = Method::Lora; }));
    if (config.dtype == WeightDType::Fp32) add(p.changed("dtype bf16", [](RunConfig& c) { c.dtype = WeightDType::Bf16; }));

    bool anyFits = false;
    for (const auto& l : fit.levers) anyFits = anyFits || l.fits;
    if (!fit.fits && !anyFits) {
        // Every structural lever at once, and then the smallest batch too.
        const std::int64_t layers = net->config().numLayers;
        const auto all = [&](RunConfig& c) {
            c.method = Method::Lora;
            if (layers > 1) c.activationCheckpointing = 1;
            if (c.baseQuantization == BaseQuantization::None) {
                c.baseQuantization = BaseQuantization::Nf4;
                c.doubleQuant = true;
            }
            if (c.dtype == WeightDType::Fp32) c.dtype = WeightDType::Bf16;
        };
        if (auto l = p.changed("all of these together", all)) {
            const bool together = l->fits;
            fit.combined.push_back(std::move(*l));
            if (!together && config.batchSize > 1)
                if (auto one = p.changed("all of these with batch_size 1", [&](RunConfig& c) {
                        all(c);
                        c.batchSize = 1;
                    }))
                    fit.combined.push_back(std::move(*one));
        }
    }
    return fit;
}

} // namespace loralab
