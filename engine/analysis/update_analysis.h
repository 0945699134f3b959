// Weight-space analysis of what fine-tuning changed, per linear layer: how
// large the update is against the base weight, its singular values and
// effective ranks, the intruder dimensions it brings into the weight
// (Shuttleworth et al. 2024), and how much two runs' updates share their top
// singular directions (the LoRA paper's subspace similarity, Section 7).
// LoRA's update is scale * B A; full fine-tuning's is the trained weight
// minus the base weight. Results are plain values, no LibTorch in this
// header, so the window can show them as they are.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace loralab {

// Matrices of at most this many elements are decomposed in float64 (4096 x
// 4096: 128 MiB a copy, and LAPACK's SVD a few copies of workspace on top);
// larger ones in float32, whose singular values carry about 1e-7 relative
// error of the largest one.
inline constexpr std::int64_t kFloat64MaxElements = 4096LL * 4096LL;

enum class UpdateKind { Lora, Full };
const char* updateKindName(UpdateKind kind); // "lora", "full"

// Which singular vectors a subspace similarity compares. Right: directions of
// the layer's input space (the row space of the update; for LoRA the span of
// A's rows, what the LoRA paper compares). Left: its output space.
enum class SingularSide { Right, Left };
const char* singularSideName(SingularSide side); // "right", "left"

struct AnalysisInput {
    std::string baseModel;  // a model directory or preset:<name>, as loadModel takes it
    std::string checkpoint; // a PEFT adapter folder, or a full checkpoint folder (config.json + model.safetensors)
    std::string device = "auto"; // where to compute: the device the run trained on ("cpu", "cuda", "cuda:1", "auto")
    std::uint64_t seed = 0;      // a preset's random weights: the run's seed
};

struct AnalysisOptions {
    bool intruders = true;           // needs a full SVD of W and of W + dW per layer
    std::int64_t intruderTopK = 10;  // singular vectors of W + dW examined, largest first
    double intruderEpsilon = 0.5;    // an intruder's largest |cos| with any singular vector of W is below this
    double energyFraction = 0.9;     // of sum s_i^2, for the energy rank
    // > 0: keep this many top left and right singular vectors of each update
    // (for compareUpdates); they cost (in + out) * count doubles per layer.
    std::int64_t keepDirections = 0;
    std::int64_t float64MaxElements = kFloat64MaxElements;
};

// Singular vectors of one update, largest singular value first.
struct SingularDirections {
    std::int64_t count = 0;
    std::int64_t dim = 0;       // in_features (right) or out_features (left)
    std::vector<double> values; // [count, dim] row-major; row i is the i-th unit singular vector
};

struct LayerUpdate {
    std::string module;       // "gpt_neox.layers.0.attention.query_key_value"
    std::string kind;         // the last name component: "query_key_value", "q_proj", "embed_out"
    std::int64_t layer = -1;  // block index from the name; -1 outside the blocks (the output head)
    std::int64_t outFeatures = 0;
    std::int64_t inFeatures = 0;
    std::int64_t loraRank = 0;  // r of the adapter; 0 for a full update
    double loraScale = 0.0;     // alpha / r (alpha / sqrt(r) with rsLoRA); 0 for a full update
    double updateNorm = 0.0;    // ||dW||_F
    double baseNorm = 0.0;      // ||W||_F
    double relativeNorm = 0.0;  // ||dW||_F / ||W||_F (0 when W is zero)
    // Every singular value of dW, largest first: min(out, in) of them for a
    // full update; for LoRA the r of the r x r core, exact (dW's other
    // singular values are zero).
    std::vector<double> singularValues;
    std::int64_t numericalRank = 0; // singular values above s_1 * max(out, in) * machine epsilon
    double effectiveRank = 0.0;     // exp of the Shannon entropy of s_i / sum(s) (Roy & Vetterli 2007)
    std::int64_t energyRank = 0;    // smallest k with sum_{i<=k} s_i^2 >= energyFraction * sum s_i^2
    bool spectrumFloat64 = true;    // dW's decomposition ran in float64 (LoRA's factors always do)
    // Intruder dimensions (empty cosines when not computed): for each of the
    // top-k left singular vectors u'_j of W + dW, max_i |cos(u'_j, u_i)| over
    // every left singular vector u_i of W; below epsilon it is an intruder.
    std::vector<double> intruderCosines;
    std::int64_t intruderCount = 0;
    bool intrudersFloat64 = true;
    SingularDirections left;  // [count, out] when keepDirections > 0
    SingularDirections right; // [count, in]
};

// Means over one module kind's layers.
struct KindSummary {
    std::string kind;
    std::int64_t layers = 0;
    double meanRelativeNorm = 0.0;
    double meanEffectiveRank = 0.0;
    double meanEnergyRank = 0.0;
    std::int64_t intruderTotal = 0;
};

struct UpdateAnalysis {
    std::string checkpoint;
    std::string baseModel;
    std::string device; // where it was computed, "cpu" or "cuda:0"
    UpdateKind kind = UpdateKind::Lora;
    AnalysisOptions options;         // as used
    std::vector<LayerUpdate> layers; // in the model's order
    std::vector<KindSummary> kinds;  // in order of first appearance
    std::vector<std::string> notes;  // layers left out and why
    bool complete = true;            // false when the progress callback stopped it; `layers` holds those done
};

struct AnalysisProgress {
    std::size_t done = 0;  // layers finished
    std::size_t total = 0; // layers to analyse
    std::string module;    // the layer about to be analysed; empty once all are done
};
// Called before each layer and once at the end; returning false stops the
// analysis there (the result holds the layers done, complete = false).
using AnalysisCallback = std::function<bool(const AnalysisProgress&)>;

// Reads the base model and the checkpoint and analyses every linear layer the
// checkpoint changes (LoRA: the adapted ones; full: all, except an output
// head tied to the input embedding). A checkpoint that does not fit the base
// (another architecture, other shapes) is an Error naming the tensor.
UpdateAnalysis analyzeUpdate(const AnalysisInput& input, const AnalysisOptions& options = {},
                             const AnalysisCallback& progress = {});

std::vector<KindSummary> summarizeByKind(const std::vector<LayerUpdate>& layers);

struct CompareOptions {
    std::int64_t k = 8; // top-k directions, capped per layer by both numerical ranks and the directions kept
    SingularSide side = SingularSide::Right;
};

struct LayerSimilarity {
    std::string module;
    std::string kind;
    std::int64_t layer = -1;
    std::int64_t k = 0;       // directions compared
    double similarity = 0.0;  // phi = ||U_a[:, :k]^T U_b[:, :k]||_F^2 / k, in [0, 1]
};

struct KindSimilarity {
    std::string kind;
    std::int64_t layers = 0;
    double meanSimilarity = 0.0;
};

struct UpdateComparison {
    std::string a; // checkpoints compared
    std::string b;
    CompareOptions options;
    std::vector<LayerSimilarity> layers; // layers both updates change, in a's order
    std::vector<KindSimilarity> kinds;
    std::vector<std::string> notes;      // layers only one update has, or where one is zero
};

// Subspace similarity of two analyses of one base model, both made with
// keepDirections > 0. Layers of different shapes are an Error naming them.
UpdateComparison compareUpdates(const UpdateAnalysis& a, const UpdateAnalysis& b, const CompareOptions& options = {});

} // namespace loralab
