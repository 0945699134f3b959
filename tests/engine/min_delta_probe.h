// A min_delta that makes the min_delta case happen on given validation
// losses: some later loss is lower than the best, but by less than min_delta,
// so early stopping's best step (the one whose checkpoint is kept) is not the
// step of the lowest loss. Training does not depend on min_delta, so a second
// run with it sees the same losses. Shared by the engine and window tests.
#pragma once

#include "engine/run/early_stopping.h"
#include "engine/run/runner.h"

#include <vector>

namespace loralab::probe {

// The validation losses a run of `config` records, in order.
inline std::vector<double> validationLosses(const RunConfig& config)
{
    std::vector<double> losses;
    RunControl control;
    RunCallbacks callbacks;
    callbacks.onEval = [&](const EvalRecord& e) { losses.push_back(e.loss); };
    trainRun(config, control, callbacks);
    return losses;
}

// -1 when no min_delta separates the two on these losses.
inline double separatingMinDelta(const std::vector<double>& losses)
{
    for (std::size_t i = 1; i < losses.size(); ++i)
        for (std::size_t j = 0; j < i; ++j) {
            if (losses[i] >= losses[j]) continue;
            const double candidate = (losses[j] - losses[i]) * 1.01;
            EarlyStopping early(100, candidate);
            std::size_t bestAt = 0, lowestAt = 0;
            for (std::size_t k = 0; k < losses.size(); ++k) {
                if (early.observe(losses[k]).improved) bestAt = k;
                if (losses[k] < losses[lowestAt]) lowestAt = k;
            }
            if (bestAt != lowestAt) return candidate;
        }
    return -1.0;
}

} // namespace loralab::probe
