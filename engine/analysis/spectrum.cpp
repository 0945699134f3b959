// Singular values, ranks, subspace similarity and intruder cosines; see spectrum.h.
#include "engine/analysis/spectrum.h"

#include "engine/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace loralab {

Spectrum lowRankSpectrum(const torch::Tensor& b, const torch::Tensor& a, double scale, bool vectors)
{
    if (b.dim() != 2 || a.dim() != 2 || b.size(1) != a.size(0))
        throw Error("LoRA factors B [out, r] and A [r, in] do not fit each other");
    // B = Q_b R_b: Q_b [out, r], R_b [r, r]; A^T = Q_a R_a: Q_a [in, r], R_a [r, r].
    const auto [qb, rb] = at::linalg_qr(b, "reduced");
    const auto [qa, ra] = at::linalg_qr(a.t(), "reduced");
    const torch::Tensor core = rb.matmul(ra.t()) * scale; // [r, r]
    if (!vectors) return {at::linalg_svdvals(core), {}, {}};
    const auto [u, s, vh] = at::linalg_svd(core, false);
    return {s, qb.matmul(u), qa.matmul(vh.t())};
}

Spectrum denseSpectrum(const torch::Tensor& m, bool vectors)
{
    if (m.dim() != 2) throw Error("a singular value decomposition needs a matrix");
    if (!vectors) return {at::linalg_svdvals(m), {}, {}};
    const auto [u, s, vh] = at::linalg_svd(m, false);
    return {s, u, vh.t()};
}

std::int64_t numericalRank(const torch::Tensor& values, std::int64_t rows, std::int64_t cols)
{
    if (values.numel() == 0) return 0;
    const double largest = values.max().item<double>();
    if (!(largest > 0.0)) return 0;
    const double epsilon = values.scalar_type() == torch::kDouble ? std::numeric_limits<double>::epsilon()
                                                                  : std::numeric_limits<float>::epsilon();
    const double tolerance = largest * static_cast<double>(std::max(rows, cols)) * epsilon;
    return (values > tolerance).sum().item<std::int64_t>();
}

double effectiveRank(const torch::Tensor& values)
{
    const torch::Tensor s = values.to(torch::kDouble);
    if (s.numel() == 0) return 0.0;
    const double total = s.sum().item<double>();
    if (!(total > 0.0)) return 0.0;
    const torch::Tensor p = s.masked_select(s > 0.0) / total;
    return std::exp(-(p * p.log()).sum().item<double>());
}

std::int64_t energyRank(const torch::Tensor& values, double fraction)
{
    const torch::Tensor s = values.to(torch::kDouble);
    if (s.numel() == 0) return 0;
    const torch::Tensor energy = s * s;
    const double total = energy.sum().item<double>();
    if (!(total > 0.0)) return 0;
    const std::int64_t below = (energy.cumsum(0) < fraction * total).sum().item<std::int64_t>();
    // Rounding can leave the last partial sum a hair under the total when fraction is 1.
    return std::min<std::int64_t>(below + 1, s.numel());
}

double subspaceSimilarity(const torch::Tensor& a, const torch::Tensor& b, std::int64_t i, std::int64_t j)
{
    if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(0))
        throw Error("subspace similarity needs singular vectors of one space (the same dimension)");
    if (i < 1 || j < 1 || i > a.size(1) || j > b.size(1))
        throw Error("subspace similarity: top-" + std::to_string(i) + " and top-" + std::to_string(j) +
                    " directions asked of " + std::to_string(a.size(1)) + " and " + std::to_string(b.size(1)));
    const torch::Tensor overlap = a.narrow(1, 0, i).t().matmul(b.narrow(1, 0, j)); // [i, j]
    return overlap.pow(2).sum().item<double>() / static_cast<double>(std::min(i, j));
}

torch::Tensor intruderCosines(const torch::Tensor& base, const torch::Tensor& tuned, std::int64_t topK)
{
    if (base.sizes() != tuned.sizes() || base.dim() != 2)
        throw Error("intruder dimensions need the base and the fine-tuned weight of one shape");
    const torch::Tensor baseLeft = std::get<0>(at::linalg_svd(base, false));   // [out, n]
    const torch::Tensor tunedLeft = std::get<0>(at::linalg_svd(tuned, false)); // [out, n]
    const std::int64_t k = std::min(topK, tunedLeft.size(1));
    // [k, n]: |cos| of each top fine-tuned direction with every base direction (unit vectors).
    return tunedLeft.narrow(1, 0, k).t().matmul(baseLeft).abs().amax(1);
}

torch::ScalarType analysisDType(std::int64_t elements, std::int64_t float64MaxElements)
{
    return elements <= float64MaxElements ? torch::kDouble : torch::kFloat;
}

} // namespace loralab
