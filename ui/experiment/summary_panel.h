// The Summary tab: one table with a row per run of the experiment shown
// (the options that differ between the runs, parameters, time per step split
// into forward, backward and optimizer, peak tensor memory against the
// estimate and the process's RSS, best validation loss and its step, the
// share of exact answers, how the run ended, wall time), sortable by any
// column; a headline in words; and the memory of each run split into
// weights, gradients, optimizer state and activations, measured beside
// estimated. Runs cancelled or never started say so and show no numbers.
#pragma once

#include "ui/metatypes.h"

#include <QWidget>

class QLabel;
class QSplitter;
class QTableWidget;

namespace loralab::ui {

class MemoryBreakdownChart;

class SummaryPanel : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPanel(QWidget* parent = nullptr);

    void clear();
    void showExperiment(const Experiment& experiment);

    QTableWidget* table() const { return m_table; }
    MemoryBreakdownChart* memoryChart() const { return m_memory; }
    QString headline() const;
    // The column titled `title` (-1 when there is none), for tests.
    int column(const QString& title) const;

private:
    QLabel* m_headline;
    QTableWidget* m_table;
    QSplitter* m_split;
    MemoryBreakdownChart* m_memory;
    QLabel* m_footer;
};

} // namespace loralab::ui
