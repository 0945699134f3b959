// The Charts tab: train loss with validation points, time per step split
// into forward, backward and optimizer, memory per step against the
// estimate, and tokens per second. Records are collected as they arrive and
// the charts are redrawn by a ~10 Hz timer, so a fast run costs one repaint
// per tick, not one per step. Each run shown is a trace with its own colour:
// LoRA and full in a comparison, or two reopened runs overlaid.
#pragma once

#include "engine/runner/metrics.h"

#include <QColor>
#include <QTimer>
#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace loralab::ui {

class MetricChart;

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPanel(QWidget* parent = nullptr);

    void clear();
    // Live records; the trace is the record's run ("lora", "full", "dpo")
    // prefixed by `tracePrefix` (used when overlaying reopened runs).
    void addStep(const StepRecord& record, const QString& tracePrefix = {});
    void addEval(const EvalRecord& record, const QString& tracePrefix = {});
    // A whole reopened run, under `label` (empty: by its run kind).
    void addRecords(const RunRecords& records, const QString& label);

    // Redraws now instead of at the next tick (tests, exports).
    void flush();
    void resetZoom();
    bool exportAll(const QString& folder, QString* error = nullptr);

    MetricChart* lossChart() const { return m_loss; }
    MetricChart* timeChart() const { return m_time; }
    MetricChart* memoryChart() const { return m_memory; }
    MetricChart* throughputChart() const { return m_throughput; }
    QList<MetricChart*> charts() const { return {m_loss, m_time, m_memory, m_throughput}; }
    // Totals over all traces: train-loss points and validation points drawn.
    int stepPointCount() const;
    int evalPointCount() const;

    double smoothing() const;
    void setSmoothing(double weight);
    bool xIsEpoch() const;

private:
    struct Trace {
        QString key;
        QString label;
        QColor color;
        std::vector<StepRecord> steps;
        std::vector<EvalRecord> evals;
        bool dirty = true;
    };

    Trace& trace(const QString& key, const QString& label);
    void ensureSeries(const Trace& t);
    void restyle();
    void redrawTrace(Trace& t);
    void markAllDirty();
    void updateLastLine();

    MetricChart* m_loss;
    MetricChart* m_time;
    MetricChart* m_memory;
    MetricChart* m_throughput;
    QSlider* m_smoothing;
    QLabel* m_smoothingValue;
    QCheckBox* m_logScale;
    QComboBox* m_xAxis;
    QLabel* m_last;
    std::vector<Trace> m_traces;
    QTimer m_refresh;
    bool m_dirty = false;
};

} // namespace loralab::ui
