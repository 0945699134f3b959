// AdamW, clipping and schedules; see optimizer.h.
#include "engine/train/optimizer.h"

#include "engine/util/error.h"

#include <cmath>
#include <map>

namespace loralab {

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
