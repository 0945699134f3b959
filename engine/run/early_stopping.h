// Early stopping on validation results: a result improves when it beats the
// best so far by more than min_delta; after `patience` evaluations without
// improvement the run should stop. Patience may change while a run goes on.
#pragma once

#include <cstdint>
#include <limits>

namespace loralab {

class EarlyStopping {
public:
    // higherIsBetter: for metrics such as preference accuracy; loss is lower-is-better.
    EarlyStopping(std::int64_t patience, double minDelta, bool higherIsBetter = false)
        : m_patience(patience), m_minDelta(minDelta), m_higherIsBetter(higherIsBetter)
    {
    }

    struct Decision {
        bool improved = false;
        bool stop = false;
        std::int64_t evalsSinceBest = 0;
        std::int64_t evalsLeft = 0; // evaluations without improvement before a stop
    };

    Decision observe(double value)
    {
        const bool finite = value == value && value != std::numeric_limits<double>::infinity() &&
                            value != -std::numeric_limits<double>::infinity();
        const bool improved = finite && (!m_hasBest || (m_higherIsBetter ? value > m_best + m_minDelta : value < m_best - m_minDelta));
        if (improved) {
            m_best = value;
            m_hasBest = true;
            m_sinceBest = 0;
        } else {
            ++m_sinceBest;
        }
        return decision(improved);
    }

    void setPatience(std::int64_t patience) { m_patience = patience; }
    std::int64_t patience() const { return m_patience; }
    double minDelta() const { return m_minDelta; }
    bool hasBest() const { return m_hasBest; }
    double best() const { return m_best; }
    std::int64_t evalsSinceBest() const { return m_sinceBest; }
    bool shouldStop() const { return m_patience > 0 && m_sinceBest >= m_patience; }
    // Restores the state a checkpoint recorded.
    void restore(bool hasBest, double best, std::int64_t sinceBest)
    {
        m_hasBest = hasBest;
        m_best = best;
        m_sinceBest = sinceBest;
    }

private:
    Decision decision(bool improved) const
    {
        Decision d;
        d.improved = improved;
        d.stop = shouldStop();
        d.evalsSinceBest = m_sinceBest;
        d.evalsLeft = m_patience > 0 ? (m_patience > m_sinceBest ? m_patience - m_sinceBest : 0) : -1;
        return d;
    }

    std::int64_t m_patience;
    double m_minDelta;
    bool m_higherIsBetter;
    bool m_hasBest = false;
    double m_best = 0.0;
    std::int64_t m_sinceBest = 0;
};

} // namespace loralab
