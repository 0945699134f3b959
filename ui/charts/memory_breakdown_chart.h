// Memory by what holds it, for each run of an experiment: weights,
// gradients, optimizer state and activations, as measured at the run's
// highest peak (counted at the allocator) beside the estimate from shapes,
// as stacked horizontal bars. LoRA against full fine-tuning shows at a
// glance where the difference is: gradients and optimizer state.
#pragma once

#include "ui/metatypes.h"

#include <QChartView>

namespace loralab::ui {

class MemoryBreakdownChart : public QChartView {
    Q_OBJECT
public:
    explicit MemoryBreakdownChart(QWidget* parent = nullptr);

    void showRuns(const std::vector<ExperimentRun>& runs);
    // Bars shown (two per run that trained), for tests.
    int barCount() const { return m_bars; }

private:
    int m_bars = 0;
};

} // namespace loralab::ui
