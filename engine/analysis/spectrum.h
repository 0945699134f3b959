// The linear algebra of the weight-space analysis: singular values of a LoRA
// update from its factors and of a dense update, effective ranks, subspace
// similarity and intruder cosines. Tensors stay on the device they come on;
// every function works in the dtype it is given (float64 or float32).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace loralab {

struct Spectrum {
    torch::Tensor values; // [n] singular values, descending
    torch::Tensor left;   // [out, n] left singular vectors as columns; undefined unless asked for
    torch::Tensor right;  // [in, n] right singular vectors as columns; undefined unless asked for
};

// The SVD of scale * B A (B [out, r], A [r, in]) from the factors alone: with
// B = Q_b R_b and A^T = Q_a R_a (reduced QR), scale * B A = Q_b C Q_a^T for
// the r x r core C = scale * R_b R_a^T, and C = U S V^T gives the update's
// SVD (Q_b U) S (Q_a V)^T. Exact (Q_b, Q_a have orthonormal columns) and
// O((out + in) r^2) instead of the O(out in min(out, in)) of a dense SVD.
// Returns r values (the update's other singular values are zero).
Spectrum lowRankSpectrum(const torch::Tensor& b, const torch::Tensor& a, double scale, bool vectors);

// The reduced SVD of a dense [out, in] matrix: min(out, in) values.
Spectrum denseSpectrum(const torch::Tensor& m, bool vectors);

// Values above s_1 * max(rows, cols) * epsilon of `values`' dtype (numpy's matrix_rank rule).
std::int64_t numericalRank(const torch::Tensor& values, std::int64_t rows, std::int64_t cols);

// exp(-sum p_i log p_i) with p_i = s_i / sum(s) (Roy & Vetterli 2007); 0 for no or zero values.
double effectiveRank(const torch::Tensor& values);

// The smallest k with sum_{i<=k} s_i^2 >= fraction * sum s_i^2; 0 for zero values.
std::int64_t energyRank(const torch::Tensor& values, double fraction);

// ||a[:, :i]^T b[:, :j]||_F^2 / min(i, j) for a [dim, >= i] and b [dim, >= j]
// with orthonormal columns: 1 when one span holds the other, 0 when orthogonal.
double subspaceSimilarity(const torch::Tensor& a, const torch::Tensor& b, std::int64_t i, std::int64_t j);

// For each of the top `topK` left singular vectors of `tuned` [out, in], the
// largest |cosine| with any left singular vector of `base` (same shape);
// min(topK, min(out, in)) values. |.| because a singular vector's sign is arbitrary.
torch::Tensor intruderCosines(const torch::Tensor& base, const torch::Tensor& tuned, std::int64_t topK);

// float64 for matrices of at most `float64MaxElements` elements, else float32.
torch::ScalarType analysisDType(std::int64_t elements, std::int64_t float64MaxElements);

} // namespace loralab
