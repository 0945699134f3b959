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

// The update as tensor operations, for any device and dtype (a GPU's path):
// fp32 moments, and an fp32 copy of a lower-precision parameter.
void tensorAdamW(torch::Tensor& param, const torch::Tensor& grad, torch::Tensor& expAvg, torch::Tensor& expAvgSq, const AdamStep& a)
{
    const bool lowPrecision = param.scalar_type() != torch::kFloat32;
    torch::Tensor p = lowPrecision ? param.to(torch::kFloat32) : param;
    const torch::Tensor g = grad.to(torch::kFloat32);
    if (a.weightDecay != 0.0) p.mul_(1.0 - a.lr * a.weightDecay);
    expAvg.lerp_(g, 1.0 - a.beta1);
    expAvgSq.mul_(a.beta2).addcmul_(g, g, 1.0 - a.beta2);
    const torch::Tensor denom = (expAvgSq.sqrt() / a.biasCorrection2Sqrt).add_(a.eps);
    p.addcdiv_(expAvg, denom, -a.stepSize);
    if (lowPrecision) param.copy_(p);
}

void update(torch::Tensor& param, const torch::Tensor& grad, torch::Tensor& expAvg, torch::Tensor& expAvgSq, const AdamStep& a,
            bool cpuKernel)
{
    const bool fusable = cpuKernel && param.device().is_cpu() && param.scalar_type() == torch::kFloat32 &&
                         grad.scalar_type() == torch::kFloat32 && param.is_contiguous() && grad.is_contiguous();
    if (fusable)
        fusedAdamWCpu(param.data_ptr<float>(), grad.data_ptr<float>(), expAvg.data_ptr<float>(), expAvgSq.data_ptr<float>(),
                      param.numel(), a);
    else
        tensorAdamW(param, grad, expAvg, expAvgSq, a);
}

// The L2 norm of a long 1-D buffer as the norm of its chunks' norms: a few
// operations, with the rounding of per-tensor norms (one fp32 reduction over
// millions of elements drifts by 1e-5 relative).
torch::Tensor flatNorm(const torch::Tensor& buffer)
{
    constexpr std::int64_t kChunk = 1 << 16;
    const torch::Tensor values = buffer.to(torch::kFloat32);
    const std::int64_t whole = values.numel() / kChunk * kChunk;
    std::vector<torch::Tensor> parts;
    if (whole > 0) parts.push_back(values.narrow(0, 0, whole).view({-1, kChunk}).norm(2, {1}));
    if (whole < values.numel()) parts.push_back(values.narrow(0, whole, values.numel() - whole).norm().view({1}));
    return torch::cat(parts).norm();
}

bool sameStorage(const torch::Tensor& a, const torch::Tensor& b) { return a.defined() && a.data_ptr() == b.data_ptr(); }

} // namespace

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const AdamWConfig& config) : m_config(config)
{
    if (params.empty()) throw Error("nothing to train: no parameter requires a gradient");
    const torch::Tensor& first = params.front().second;
    const auto fp32 = first.options().dtype(torch::kFloat32);
    bool flat = config.flat;
    std::int64_t total = 0;
    for (const auto& [name, p] : params) {
        flat = flat && p.device() == first.device() && p.scalar_type() == first.scalar_type();
        total += p.numel();
    }
    if (!flat) {
        for (auto& [name, p] : params) {
            Slot s{name, p, torch::zeros_like(p, fp32), torch::zeros_like(p, fp32), {}, {}, {}};
            if (p.is_floating_point() && p.scalar_type() != torch::kFloat32) s.master = p.detach().to(torch::kFloat32);
            m_slots.push_back(std::move(s));
        }
        return;
    }
    if (first.scalar_type() != torch::kFloat32)
        throw Error("the flat optimizer buffers hold fp32 parameters; low-precision ones train with a tensor each (flat = false)");
    torch::NoGradGuard noGrad;
    Flat f{torch::empty({total}, first.options()), torch::zeros({total}, first.options()), torch::zeros({total}, fp32),
           torch::zeros({total}, fp32)};
    std::int64_t offset = 0;
    for (auto& [name, p] : params) {
        const auto view = [&](const torch::Tensor& buffer) { return buffer.narrow(0, offset, p.numel()).view(p.sizes()); };
        Slot s{name, p, view(f.expAvg), view(f.expAvgSq), view(f.params), view(f.grads), {}};
        s.paramView.copy_(p);
        p.set_data(s.paramView); // the module's parameter now lives in the flat buffer
        p.mutable_grad() = s.gradView;
        m_slots.push_back(std::move(s));
        offset += p.numel();
    }
    m_flat = std::move(f);
}

void AdamW::reattach()
{
    torch::NoGradGuard noGrad;
    for (auto& s : m_slots) {
        if (!sameStorage(s.param, s.paramView)) {
            s.paramView.copy_(s.param);
            s.param.set_data(s.paramView);
        }
        const torch::Tensor grad = s.param.grad();
        if (sameStorage(grad, s.gradView)) continue;
        if (grad.defined())
            s.gradView.copy_(grad);
        else
            s.gradView.zero_();
        s.param.mutable_grad() = s.gradView;
    }
}

void AdamW::step(double lr)
{
    torch::NoGradGuard noGrad;
    ++m_step;
    const double b1 = m_config.beta1;
    const double b2 = m_config.beta2;
    const double biasCorrection1 = 1.0 - std::pow(b1, static_cast<double>(m_step));
    const AdamStep a{lr, b1, b2, m_config.eps, m_config.weightDecay, lr / biasCorrection1,
                     std::sqrt(1.0 - std::pow(b2, static_cast<double>(m_step)))};
    if (m_flat) {
        // Every parameter takes part; one whose gradient stayed zero still
        // decays, as in PyTorch when its gradient is zero rather than none.
        reattach();
        update(m_flat->params, m_flat->grads, m_flat->expAvg, m_flat->expAvgSq, a, m_config.cpuKernel);
        return;
    }
    for (auto& s : m_slots) {
        const torch::Tensor& grad = s.param.grad();
        if (!grad.defined()) continue;
        if (!s.master.defined()) {
            update(s.param, grad, s.expAvg, s.expAvgSq, a, m_config.cpuKernel);
            continue;
        }
        const torch::Tensor g = grad.to(torch::kFloat32);
        update(s.master, g, s.expAvg, s.expAvgSq, a, m_config.cpuKernel);
        s.param.copy_(s.master);
    }
}

void AdamW::zeroGrad()
{
    if (m_flat) {
        reattach();
        m_flat->grads.zero_();
        return;
    }
    for (auto& s : m_slots)
        if (s.param.grad().defined()) s.param.mutable_grad() = torch::Tensor();
}

double AdamW::clipGradNorm(double maxNorm)
{
    torch::NoGradGuard noGrad;
    if (m_flat) {
        reattach();
        // The norm, the factor and the scaling stay on the device; only the
        // norm is read back, for the record.
        const torch::Tensor norm = flatNorm(m_flat->grads);
        if (maxNorm > 0.0) m_flat->grads.mul_((maxNorm / (norm + 1e-6)).clamp_max(1.0));
        return norm.item<double>();
    }
    std::vector<torch::Tensor> norms;
    for (const auto& s : m_slots)
        if (s.param.grad().defined()) norms.push_back(s.param.grad().to(torch::kFloat32).norm());
    if (norms.empty()) return 0.0;
    const double total = torch::stack(norms).norm().item<double>();
    if (maxNorm > 0.0) {
        const double coef = std::min(1.0, maxNorm / (total + 1e-6));
        if (coef < 1.0)
            for (const auto& s : m_slots)
                if (s.param.grad().defined()) s.param.grad().mul_(coef);
    }
    return total;
}

std::vector<torch::Tensor> AdamW::gradients()
{
    if (m_flat) {
        reattach();
        return {m_flat->grads};
    }
    std::vector<torch::Tensor> out;
    for (auto& s : m_slots) {
        if (!s.param.grad().defined()) s.param.mutable_grad() = torch::zeros_like(s.param);
        out.push_back(s.param.grad());
    }
    return out;
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
    for (const auto& s : m_slots) {
        bytes += 2 * s.expAvg.numel() * static_cast<std::int64_t>(s.expAvg.element_size());
        if (s.master.defined()) bytes += s.master.numel() * static_cast<std::int64_t>(s.master.element_size());
    }
    return bytes;
}

NamedTensors AdamW::state() const
{
    NamedTensors out;
    for (const auto& s : m_slots) {
        out.emplace_back("exp_avg." + s.name, s.expAvg);
        out.emplace_back("exp_avg_sq." + s.name, s.expAvgSq);
        if (s.master.defined()) out.emplace_back("master." + s.name, s.master);
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
        if (!s.master.defined()) continue;
        // Checkpoints of older versions hold no master weights: the parameter is the best copy there is.
        const auto master = byName.find("master." + s.name);
        s.master.copy_(master != byName.end() && master->second.sizes() == s.master.sizes() ? master->second : s.param.to(torch::kFloat32));
    }
    m_step = stepCount;
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
