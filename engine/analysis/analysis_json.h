// JSON for weight-space analyses and comparisons (nlohmann), as the command
// line prints them and files keep them. Singular vectors are left out: they
// are for compareUpdates, and large.
#pragma once

#include "engine/analysis/update_analysis.h"

#include <nlohmann/json.hpp>

namespace loralab {

nlohmann::ordered_json updateAnalysisJson(const UpdateAnalysis& analysis);
nlohmann::ordered_json updateComparisonJson(const UpdateComparison& comparison);

} // namespace loralab
