// What a run has done so far, as its checkpoints keep it and a resume brings
// it back: where it is in its data, early stopping's state, the best step,
// the totals its summary averages over, and its wall time. No LibTorch here.
#pragma once

#include "engine/records/metrics.h"
#include "engine/run/early_stopping.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

namespace loralab {

// Where the run is in its data: epoch and position in that epoch's order,
// which is a permutation drawn from (seed, epoch) alone, so a resumed run
// sees exactly the examples an uninterrupted one would.
class DataCursor {
public:
    DataCursor(std::size_t size, std::uint64_t seed) : m_size(size), m_seed(seed) { shuffle(); }

    std::vector<std::size_t> next(std::size_t count)
    {
        std::vector<std::size_t> out;
        while (out.size() < count) {
            if (m_position >= m_size) {
                ++m_epoch;
                m_position = 0;
                shuffle();
            }
            out.push_back(m_order[m_position++]);
        }
        return out;
    }

    double epoch() const { return static_cast<double>(m_epoch) + static_cast<double>(m_position) / static_cast<double>(m_size); }
    nlohmann::json state() const { return {{"epoch", m_epoch}, {"position", m_position}}; }
    void restore(const nlohmann::json& j)
    {
        m_epoch = j.at("epoch").get<std::int64_t>();
        m_position = j.at("position").get<std::size_t>();
        shuffle();
    }

private:
    void shuffle()
    {
        m_order.resize(m_size);
        std::iota(m_order.begin(), m_order.end(), 0);
        std::mt19937_64 rng(m_seed * 1000003ull + static_cast<std::uint64_t>(m_epoch));
        std::shuffle(m_order.begin(), m_order.end(), rng);
    }

    std::size_t m_size;
    std::uint64_t m_seed;
    std::int64_t m_epoch = 0;
    std::size_t m_position = 0;
    std::vector<std::size_t> m_order;
};

// Sums over the steps a run took, for its summary.
struct StepTotals {
    std::int64_t steps = 0;
    double forwardMs = 0, backwardMs = 0, optimizerMs = 0, stepMs = 0;
    std::int64_t tokens = 0;
    std::int64_t usefulTokens = 0;
    std::int64_t peakMemory = 0;
    std::int64_t processPeakMemory = 0;
    MemoryBreakdown measuredAtPeak;
    double firstLoss = 0, lastLoss = 0;

    void add(const StepRecord& r)
    {
        if (steps == 0) firstLoss = r.loss;
        ++steps;
        forwardMs += r.forwardMs;
        backwardMs += r.backwardMs;
        optimizerMs += r.optimizerMs;
        stepMs += r.stepMs;
        tokens += r.tokens;
        usefulTokens += r.usefulTokens;
        if (r.peakMemoryBytes >= peakMemory) {
            peakMemory = r.peakMemoryBytes;
            measuredAtPeak = r.measured;
        }
        processPeakMemory = std::max(processPeakMemory, r.processMemoryBytes);
        lastLoss = r.loss;
    }
};

struct RunProgress {
    RunProgress(std::size_t trainCount, const RunConfig& config)
        : cursor(trainCount, config.seed),
          early(config.patience, config.minDelta, config.earlyStoppingMetric == StopMetric::Accuracy)
    {
    }

    DataCursor cursor;
    EarlyStopping early;
    std::int64_t bestStep = 0;
    std::optional<double> bestValLoss; // the validation loss of bestStep
    std::optional<double> lastValLoss;
    std::optional<double> bestAccuracy;
    std::int64_t lastSaved = -1; // the step of the newest "last" checkpoint
    StepTotals totals;
    double priorSeconds = 0.0;  // wall time of the sessions before a resume
    double pausedSeconds = 0.0;

    // What a checkpoint keeps beside the weights and optimizer state.
    nlohmann::json checkpointState() const
    {
        return {{"cursor", cursor.state()},
                {"early_stopping", {{"has_best", early.hasBest()}, {"best", early.best()}, {"since_best", early.evalsSinceBest()}}},
                {"best_step", bestStep},
                {"best_val_loss", bestValLoss ? nlohmann::json(*bestValLoss) : nlohmann::json(nullptr)}};
    }
    // Takes a checkpoint's state back; `restartPatience` gives early stopping
    // its patience afresh. `step` is the checkpoint's step.
    void restore(const nlohmann::json& state, bool restartPatience, std::int64_t step)
    {
        cursor.restore(state.at("cursor"));
        const auto& es = state.at("early_stopping");
        early.restore(es.at("has_best").get<bool>(), es.at("best").get<double>(),
                      restartPatience ? 0 : es.at("since_best").get<std::int64_t>());
        bestStep = state.value("best_step", std::int64_t{0});
        const auto loss = state.find("best_val_loss");
        bestValLoss = loss != state.end() && loss->is_number() && loss->get<double>() >= 0 ? std::optional<double>(loss->get<double>())
                                                                                           : std::nullopt;
        lastSaved = step;
    }
};

} // namespace loralab
