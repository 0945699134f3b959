// AdamW, clipping and schedules; see optimizer.h.
#include "engine/train/optimizer.h"

#include "engine/util/error.h"

#include <ATen/Parallel.h>
#include <cmath>
#include <map>

namespace loralab {
namespace {

struct AdamStep {
    double lr, beta1, beta2, eps, weightDecay, stepSize, biasCorrection2Sqrt;
};

// One pass over memory for the whole update of an fp32 CPU tensor: read
// param, grad and both moments once, write them once. The generic path below
// takes six passes, which dominates the optimizer time of full fine-tuning.
void fusedAdamWCpu(float* p, const float* g, float* m, float* v, std::int64_t n, const AdamStep& a)
{
    const float decay = static_cast<float>(1.0 - a.lr * a.weightDecay);
    const float w1 = static_cast<float>(1.0 - a.beta1);
    const float b2 = static_cast<float>(a.beta2);
    const float w2 = static_cast<float>(1.0 - a.beta2);
    const float invBc2 = static_cast<float>(1.0 / a.biasCorrection2Sqrt);
    const float eps = static_cast<float>(a.eps);
    const float step = static_cast<float>(a.stepSize);
    at::parallel_for(0, n, 16384, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const float gi = g[i];
            const float mi = m[i] + w1 * (gi - m[i]);
            const float vi = v[i] * b2 + w2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - step * mi / (std::sqrt(vi) * invBc2 + eps);
        }
    });
}

} // namespace

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config) : m_config(config)
{
    if (params.empty()) throw Error("nothing to train: no parameter requires a gradient");
    for (auto& [name, p] : params) {
        const auto options = p.options().dtype(torch::kFloat32);
        m_slots.push_back({name, p, torch::zeros_like(p, options), torch::zeros_like(p, options)});
    }
}

void AdamW::step(double lr)
{
    torch::NoGradGuard noGrad;
    ++m_step;
    const double b1 = m_config.beta1;
    const double b2 = m_config.beta2;
    const double biasCorrection1 = 1.0 - std::pow(b1, static_cast<double>(m_step));
    const double biasCorrection2Sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(m_step)));
    const double stepSize = lr / biasCorrection1;
    for (auto& s : m_slots) {
        const torch::Tensor& grad = s.param.grad();
        if (!grad.defined()) continue;
        const bool fusable = s.param.device().is_cpu() && s.param.scalar_type() == torch::kFloat32 &&
                             grad.scalar_type() == torch::kFloat32 && s.param.is_contiguous() && grad.is_contiguous();
        if (fusable) {
            fusedAdamWCpu(s.param.data_ptr<float>(), grad.data_ptr<float>(), s.expAvg.data_ptr<float>(),
                          s.expAvgSq.data_ptr<float>(), s.param.numel(),
                          {lr, b1, b2, m_config.eps, m_config.weightDecay, stepSize, biasCorrection2Sqrt});
            continue;
        }
        const bool lowPrecision = s.param.scalar_type() != torch::kFloat32;
        torch::Tensor p = lowPrecision ? s.param.to(torch::kFloat32) : s.param;
        const torch::Tensor g = grad.to(torch::kFloat32);
        if (m_config.weightDecay != 0.0) p.mul_(1.0 - lr * m_config.weightDecay);
        s.expAvg.lerp_(g, 1.0 - b1);
        s.expAvgSq.mul_(b2).addcmul_(g, g, 1.0 - b2);
        const torch::Tensor denom = (s.expAvgSq.sqrt() / biasCorrection2Sqrt).add_(m_config.eps);
        p.addcdiv_(s.expAvg, denom, -stepSize);
        if (lowPrecision) s.param.copy_(p);
    }
}

void AdamW::zeroGrad()
{
    for (auto& s : m_slots)
        if (s.param.grad().defined()) s.param.mutable_grad() = torch::Tensor();
}

std::vector<torch::Tensor> AdamW::parameters() const
{
    std::vector<torch::Tensor> out;
    for (const auto& s : m_slots) out.push_back(s.param);
    return out;
}

std::int64_t AdamW::stateBytes() const
{
    std::int64_t bytes = 0;
    for (const auto& s : m_slots) bytes += 2 * s.expAvg.numel() * static_cast<std::int64_t>(s.expAvg.element_size());
    return bytes;
}

NamedTensors AdamW::state() const
{
    NamedTensors out;
    for (const auto& s : m_slots) {
        out.emplace_back("exp_avg." + s.name, s.expAvg);
        out.emplace_back("exp_avg_sq." + s.name, s.expAvgSq);
    }
    return out;
}

void AdamW::loadState(const NamedTensors& tensors, std::int64_t stepCount)
{
    std::map<std::string, torch::Tensor> byName(tensors.begin(), tensors.end());
    torch::NoGradGuard noGrad;
    for (auto& s : m_slots) {
        const std::pair<std::string, torch::Tensor*> moments[] = {{"exp_avg." + s.name, &s.expAvg},
                                                                  {"exp_avg_sq." + s.name, &s.expAvgSq}};
        for (const auto& [key, target] : moments) {
            const auto it = byName.find(key);
            if (it == byName.end()) throw Error("optimizer state lacks '" + key + "'");
            if (it->second.sizes() != target->sizes()) throw Error("optimizer state '" + key + "' has the wrong shape");
            target->copy_(it->second);
        }
    }
    m_step = stepCount;
}

double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> norms;
    for (const auto& p : params)
        if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat32).norm());
    if (norms.empty()) return 0.0;
    const double total = torch::stack(norms).norm().item<double>();
    if (maxNorm > 0.0) {
        const double coef = std::min(1.0, maxNorm / (total + 1e-6));
        if (coef < 1.0)
            for (const auto& p : params)
                if (p.grad().defined()) p.grad().mul_(coef);
    }
    return total;
}

Schedule parseSchedule(const std::string& name)
{
    if (name == "constant") return Schedule::Constant;
    if (name == "constant_with_warmup") return Schedule::ConstantWithWarmup;
    if (name == "linear") return Schedule::Linear;
    if (name == "cosine") return Schedule::Cosine;
    throw Error("unknown schedule '" + name + "' (use constant, constant_with_warmup, linear or cosine)");
}

const char* scheduleName(Schedule schedule)
{
    switch (schedule) {
    case Schedule::Constant: return "constant";
    case Schedule::ConstantWithWarmup: return "constant_with_warmup";
    case Schedule::Linear: return "linear";
    case Schedule::Cosine: return "cosine";
    }
    return "?";
}

double scheduledLearningRate(Schedule schedule, double baseLr, std::int64_t step, std::int64_t warmup, std::int64_t total)
{
    const auto s = static_cast<double>(step);
    if (schedule == Schedule::Constant) return baseLr;
    if (step < warmup) return baseLr * s / static_cast<double>(std::max<std::int64_t>(1, warmup));
    if (schedule == Schedule::ConstantWithWarmup) return baseLr;
    const double span = static_cast<double>(std::max<std::int64_t>(1, total - warmup));
    const double progress = (s - static_cast<double>(warmup)) / span;
    if (schedule == Schedule::Linear) return baseLr * std::max(0.0, 1.0 - progress);
    constexpr double kPi = 3.14159265358979323846;
    return baseLr * std::max(0.0, 0.5 * (1.0 + std::cos(kPi * progress)));
}

} // namespace loralab
