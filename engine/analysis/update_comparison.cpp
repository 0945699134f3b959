// Summaries per module kind and the subspace similarity of two analysed
// updates; see update_analysis.h. Torch-free: the kept singular vectors are
// plain arrays and k is small, so the overlaps are a few dot products.
#include "engine/analysis/update_analysis.h"

#include "engine/util/error.h"

#include <algorithm>
#include <map>

namespace loralab {
namespace {

// The order in which kinds first appear in `names`, and each one's index.
struct KindOrder {
    std::vector<std::string> kinds;
    std::map<std::string, std::size_t> index;
    std::size_t of(const std::string& kind)
    {
        const auto found = index.find(kind);
        if (found != index.end()) return found->second;
        index[kind] = kinds.size();
        kinds.push_back(kind);
        return kinds.size() - 1;
    }
};

// ||A_k B_k^T||_F^2 / k with the directions as rows: the sum of squared dot products.
double overlapOfRows(const SingularDirections& a, const SingularDirections& b, std::int64_t k)
{
    double sum = 0.0;
    const auto dim = static_cast<std::size_t>(a.dim);
    for (std::int64_t p = 0; p < k; ++p) {
        const double* x = a.values.data() + static_cast<std::size_t>(p) * dim;
        for (std::int64_t q = 0; q < k; ++q) {
            const double* y = b.values.data() + static_cast<std::size_t>(q) * dim;
            double dot = 0.0;
            for (std::size_t i = 0; i < dim; ++i) dot += x[i] * y[i];
            sum += dot * dot;
        }
    }
    return sum / static_cast<double>(k);
}

std::string shapeOf(const LayerUpdate& u) { return "[" + std::to_string(u.outFeatures) + ", " + std::to_string(u.inFeatures) + "]"; }

} // namespace

const char* updateKindName(UpdateKind kind) { return kind == UpdateKind::Lora ? "lora" : "full"; }

const char* singularSideName(SingularSide side) { return side == SingularSide::Right ? "right" : "left"; }

std::vector<KindSummary> summarizeByKind(const std::vector<LayerUpdate>& layers)
{
    KindOrder order;
    std::vector<KindSummary> out;
    for (const auto& u : layers) {
        const std::size_t i = order.of(u.kind);
        if (i == out.size()) out.push_back({u.kind});
        KindSummary& k = out[i];
        ++k.layers;
        k.meanRelativeNorm += u.relativeNorm;
        k.meanEffectiveRank += u.effectiveRank;
        k.meanEnergyRank += static_cast<double>(u.energyRank);
        k.intruderTotal += u.intruderCount;
    }
    for (auto& k : out) {
        const double n = static_cast<double>(k.layers);
        k.meanRelativeNorm /= n;
        k.meanEffectiveRank /= n;
        k.meanEnergyRank /= n;
    }
    return out;
}

UpdateComparison compareUpdates(const UpdateAnalysis& a, const UpdateAnalysis& b, const CompareOptions& options)
{
    if (options.k < 1) throw Error("subspace similarity needs k >= 1, got " + std::to_string(options.k));
    UpdateComparison c;
    c.a = a.checkpoint;
    c.b = b.checkpoint;
    c.options = options;
    const bool right = options.side == SingularSide::Right;
    std::map<std::string, const LayerUpdate*> inB;
    for (const auto& u : b.layers) inB[u.module] = &u;
    std::map<std::string, bool> inA;
    KindOrder order;
    std::vector<double> sums;
    for (const auto& ua : a.layers) {
        inA[ua.module] = true;
        const auto found = inB.find(ua.module);
        if (found == inB.end()) {
            c.notes.push_back(ua.module + ": only " + a.checkpoint + " changes it");
            continue;
        }
        const LayerUpdate& ub = *found->second;
        if (ua.outFeatures != ub.outFeatures || ua.inFeatures != ub.inFeatures)
            throw Error(ua.module + " is " + shapeOf(ua) + " in " + a.checkpoint + " but " + shapeOf(ub) + " in " + b.checkpoint +
                        "; the updates are not of one base model");
        const SingularDirections& da = right ? ua.right : ua.left;
        const SingularDirections& db = right ? ub.right : ub.left;
        if (da.count == 0 && ua.numericalRank > 0)
            throw Error(a.checkpoint + " was analysed without singular vectors; analyse with keepDirections > 0 to compare");
        if (db.count == 0 && ub.numericalRank > 0)
            throw Error(b.checkpoint + " was analysed without singular vectors; analyse with keepDirections > 0 to compare");
        const std::int64_t k = std::min({options.k, ua.numericalRank, ub.numericalRank, da.count, db.count});
        if (k == 0) {
            c.notes.push_back(ua.module + ": " + (ua.numericalRank == 0 ? a.checkpoint : b.checkpoint) + " leaves it unchanged");
            continue;
        }
        LayerSimilarity s;
        s.module = ua.module;
        s.kind = ua.kind;
        s.layer = ua.layer;
        s.k = k;
        s.similarity = overlapOfRows(da, db, k);
        c.layers.push_back(s);
        const std::size_t i = order.of(s.kind);
        if (i == c.kinds.size()) {
            c.kinds.push_back({s.kind});
            sums.push_back(0.0);
        }
        ++c.kinds[i].layers;
        sums[i] += s.similarity;
    }
    for (std::size_t i = 0; i < c.kinds.size(); ++i) c.kinds[i].meanSimilarity = sums[i] / static_cast<double>(c.kinds[i].layers);
    for (const auto& ub : b.layers)
        if (!inA.count(ub.module)) c.notes.push_back(ub.module + ": only " + b.checkpoint + " changes it");
    return c;
}

} // namespace loralab
