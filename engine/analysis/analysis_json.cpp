// JSON for weight-space analyses; see analysis_json.h.
#include "engine/analysis/analysis_json.h"

#include <cmath>

namespace loralab {
namespace {

using Json = nlohmann::ordered_json;

// Infinite or NaN numbers (nothing here should be either) become null rather
// than text JSON readers reject.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json layerJson(const LayerUpdate& u)
{
    Json j;
    j["module"] = u.module;
    j["kind"] = u.kind;
    j["layer"] = u.layer;
    j["shape"] = {u.outFeatures, u.inFeatures};
    if (u.loraRank > 0) {
        j["lora_rank"] = u.loraRank;
        j["lora_scale"] = number(u.loraScale);
    }
    j["update_norm"] = number(u.updateNorm);
    j["base_norm"] = number(u.baseNorm);
    j["relative_norm"] = number(u.relativeNorm);
    j["numerical_rank"] = u.numericalRank;
    j["effective_rank"] = number(u.effectiveRank);
    j["energy_rank"] = u.energyRank;
    j["spectrum_precision"] = u.spectrumFloat64 ? "float64" : "float32";
    Json values = Json::array();
    for (const double s : u.singularValues) values.push_back(number(s));
    j["singular_values"] = values;
    if (!u.intruderCosines.empty()) {
        j["intruder_count"] = u.intruderCount;
        Json cosines = Json::array();
        for (const double c : u.intruderCosines) cosines.push_back(number(c));
        j["intruder_cosines"] = cosines;
        j["intruder_precision"] = u.intrudersFloat64 ? "float64" : "float32";
    }
    return j;
}

} // namespace

nlohmann::ordered_json updateAnalysisJson(const UpdateAnalysis& a)
{
    Json j;
    j["checkpoint"] = a.checkpoint;
    j["base_model"] = a.baseModel;
    j["method"] = updateKindName(a.kind);
    j["device"] = a.device;
    j["complete"] = a.complete;
    j["options"] = {{"intruders", a.options.intruders},
                    {"intruder_top_k", a.options.intruderTopK},
                    {"intruder_epsilon", a.options.intruderEpsilon},
                    {"energy_fraction", a.options.energyFraction},
                    {"float64_max_elements", a.options.float64MaxElements}};
    Json kinds = Json::array();
    for (const auto& k : a.kinds) {
        Json row = {{"kind", k.kind},
                    {"layers", k.layers},
                    {"mean_relative_norm", number(k.meanRelativeNorm)},
                    {"mean_effective_rank", number(k.meanEffectiveRank)},
                    {"mean_energy_rank", number(k.meanEnergyRank)}};
        if (a.options.intruders) row["intruder_total"] = k.intruderTotal;
        kinds.push_back(row);
    }
    j["kinds"] = kinds;
    Json layers = Json::array();
    for (const auto& u : a.layers) layers.push_back(layerJson(u));
    j["layers"] = layers;
    j["notes"] = a.notes;
    return j;
}

nlohmann::ordered_json updateComparisonJson(const UpdateComparison& c)
{
    Json j;
    j["a"] = c.a;
    j["b"] = c.b;
    j["k"] = c.options.k;
    j["side"] = singularSideName(c.options.side);
    Json kinds = Json::array();
    for (const auto& k : c.kinds)
        kinds.push_back({{"kind", k.kind}, {"layers", k.layers}, {"mean_similarity", number(k.meanSimilarity)}});
    j["kinds"] = kinds;
    Json layers = Json::array();
    for (const auto& s : c.layers)
        layers.push_back({{"module", s.module}, {"kind", s.kind}, {"layer", s.layer}, {"k", s.k}, {"similarity", number(s.similarity)}});
    j["layers"] = layers;
    j["notes"] = c.notes;
    return j;
}

} // namespace loralab
