// The Summary tab: LoRA and full fine-tuning side by side (parameters,
// time per step, memory, losses) with their ratios, and a one-line verdict.
// A single run fills its own column.
#pragma once

#include "engine/runner/metrics.h"

#include <QWidget>

#include <optional>

class QLabel;
class QTableWidget;

namespace loralab::ui {

class SummaryPanel : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPanel(QWidget* parent = nullptr);

    void clear();
    void showComparison(const CompareSummary& summary);
    void showRun(const RunSummary& summary);
    // Two runs of any kind, e.g. overlaid reopened runs.
    void showPair(const RunSummary& a, const QString& aTitle, const RunSummary& b, const QString& bTitle);

    QTableWidget* table() const { return m_table; }
    QString headline() const;

private:
    void fill(const RunSummary* a, const QString& aTitle, const RunSummary* b, const QString& bTitle);

    QLabel* m_headline;
    QTableWidget* m_table;
    QLabel* m_footer;
};

} // namespace loralab::ui
