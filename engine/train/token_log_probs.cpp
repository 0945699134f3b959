// Fused token log-probabilities; see token_log_probs.h.
#include "engine/train/token_log_probs.h"

#include "engine/util/error.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

// The vector helpers below are always inlined into the target_clones
// functions, so the default clone's ABI for 32-byte vectors never matters.
// (GCC reports it when the clones are emitted, at the end of the translation
// unit, so the pragma stays in force to the end.)
#pragma GCC diagnostic ignored "-Wpsabi"

namespace loralab {
namespace {

// Eight lanes with GCC's vector extensions: AVX registers where the CPU has
// them (the target_clones below pick at load time), pairs of SSE registers
// otherwise.
typedef float Floats __attribute__((vector_size(32)));
typedef std::int32_t Ints __attribute__((vector_size(32)));
constexpr std::int64_t kLanes = 8;

// exp(x) for x <= 0 with about one ulp of error: x = n ln2 + r with |r| <=
// ln2 / 2, a polynomial for e^r (Cephes' expf coefficients), and 2^n through
// the exponent bits. Below -87 the result is clamped to e^-87 (1.6e-38),
// which no sum of exponentials that includes e^0 can notice. NaN stays NaN.
__attribute__((always_inline)) inline Floats expNonPositive(Floats x)
{
    const Floats lowest = Floats{} - 87.0f;
    x = x < lowest ? lowest : x;
    const Ints n = __builtin_convertvector(x * 1.44269504088896341f - 0.5f, Ints); // truncation: nearest for x <= 0
    const Floats nf = __builtin_convertvector(n, Floats);
    const Floats r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
    Floats p = Floats{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const Floats y = p * r * r + r + 1.0f;
    const Ints bits = (n + 127) << 23;
    Floats scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

__attribute__((always_inline)) inline Floats load(const float* x)
{
    Floats v;
    std::memcpy(&v, x, sizeof v);
    return v;
}

// The last count < 8 elements of a row, the other lanes set to `pad`.
__attribute__((always_inline)) inline Floats loadTail(const float* x, std::int64_t count, float pad)
{
    Floats v = Floats{} + pad;
    for (std::int64_t k = 0; k < count; ++k) v[k] = x[k];
    return v;
}

__attribute__((always_inline)) inline float laneSum(Floats v)
{
    float s = 0.0f;
    for (std::int64_t k = 0; k < kLanes; ++k) s += v[k];
    return s;
}

// log(sum_j exp(x_j)) of one row, shifted by its maximum.
__attribute__((target_clones("avx2", "default"))) float rowLogSumExp(const float* x, std::int64_t n)
{
    const float negInf = -std::numeric_limits<float>::infinity();
    Floats m = Floats{} + negInf;
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        const Floats v = load(x + j);
        m = v > m ? v : m;
    }
    float top = negInf;
    for (std::int64_t k = 0; k < kLanes; ++k) top = std::max(top, m[k]);
    for (; j < n; ++j) top = std::max(top, x[j]);
    if (std::isinf(top)) return top; // every logit -inf (or one +inf): as log_softmax gives

    Floats sum{};
    j = 0;
    for (; j + kLanes <= n; j += kLanes) sum += expNonPositive(load(x + j) - top);
    float total = laneSum(sum);
    if (j < n) {
        const Floats tail = expNonPositive(loadTail(x + j, n - j, top) - top);
        for (std::int64_t k = 0; k < n - j; ++k) total += tail[k];
    }
    // A NaN logit is skipped by the maximum but turns the sum, and so the
    // result, into NaN, as in LibTorch.
    return top + std::log(total);
}

// out_j = scale * exp(x_j - shift), for x_j <= shift.
__attribute__((target_clones("avx2", "default"))) void rowScaledExp(const float* x, std::int64_t n, float shift,
                                                                    float scale, float* out)
{
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
        const Floats e = expNonPositive(load(x + j) - shift) * scale;
        std::memcpy(out + j, &e, sizeof e);
    }
    if (j < n) {
        const Floats e = expNonPositive(loadTail(x + j, n - j, shift) - shift) * scale;
        for (std::int64_t k = 0; k < n - j; ++k) out[j + k] = e[k];
    }
}

class TokenLogProbs : public torch::autograd::Function<TokenLogProbs> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                                 const torch::Tensor& labels)
    {
        const torch::Tensor x = logits.contiguous();
        const torch::Tensor ids = labels.to(torch::kInt64).contiguous();
        const std::int64_t rows = x.size(0);
        const std::int64_t vocab = x.size(1);
        torch::Tensor logSumExp = torch::empty({rows}, x.options());
        torch::Tensor out = torch::empty({rows}, x.options());
        const float* xp = x.data_ptr<float>();
        const std::int64_t* idp = ids.data_ptr<std::int64_t>();
        float* lsep = logSumExp.data_ptr<float>();
        float* outp = out.data_ptr<float>();
        at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                lsep[i] = rowLogSumExp(xp + i * vocab, vocab);
                outp[i] = xp[i * vocab + idp[i]] - lsep[i];
            }
        });
        ctx->save_for_backward({x, ids, logSumExp});
        return out;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const torch::Tensor& ids = saved[1];
        const torch::Tensor& logSumExp = saved[2];
        const torch::Tensor upstream = grads[0].to(torch::kFloat32).contiguous();
        const std::int64_t rows = x.size(0);
        const std::int64_t vocab = x.size(1);
        torch::Tensor grad = torch::empty_like(x);
        const float* xp = x.data_ptr<float>();
        const std::int64_t* idp = ids.data_ptr<std::int64_t>();
        const float* lsep = logSumExp.data_ptr<float>();
        const float* gp = upstream.data_ptr<float>();
        float* outp = grad.data_ptr<float>();
        // d/dx_j (x_label - logsumexp x) = [j = label] - softmax(x)_j
        at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                rowScaledExp(xp + i * vocab, vocab, lsep[i], -gp[i], outp + i * vocab);
                outp[i * vocab + idp[i]] += gp[i];
            }
        });
        return {grad, torch::Tensor()};
    }
};

} // namespace

torch::Tensor tokenLogProbs(const torch::Tensor& logits, const torch::Tensor& labels)
{
    if (logits.dim() != 2 || labels.dim() != 1 || labels.size(0) != logits.size(0))
        throw Error("token log-probabilities need logits [N, V] and labels [N]");
    if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32 && logits.size(1) > 0) {
        if (labels.numel() > 0) {
            const auto [low, high] = torch::aminmax(labels);
            if (low.item<std::int64_t>() < 0 || high.item<std::int64_t>() >= logits.size(1))
                throw Error("a label lies outside the vocabulary of " + std::to_string(logits.size(1)) + " tokens");
        }
        return TokenLogProbs::apply(logits, labels);
    }
    return torch::log_softmax(logits, -1).gather(1, labels.to(torch::kInt64).view({-1, 1})).view({-1});
}

} // namespace loralab
