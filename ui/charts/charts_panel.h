// The Charts tab: train loss with validation points, time per step split
// into forward, backward and optimizer, memory (the run's tensors at their
// peak, the estimate, the process's RSS), throughput, learning rate and
// gradient norm, for any number of runs: each run one colour, named in the
// run legend, where a run can be hidden on every chart at once. The x axis is
// the step, the tokens seen or the wall time; smoothing applies to every
// chart (tooltips and CSV give the recorded values too). Records are
// collected as they arrive and the charts are redrawn by a ~10 Hz timer, so a
// fast run costs one repaint per tick, not one per step.
#pragma once

#include "engine/records/metrics.h"

#include <QColor>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace loralab::ui {

class MetricChart;
class RunLegend;

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    enum class XAxis { Step, Tokens, WallTime };

    explicit ChartsPanel(QWidget* parent = nullptr);

    // Drops every run and point.
    void clear();
    // The runs to show, in order: run i's records go to its own trace.
    void setRuns(const QStringList& labels);
    void setRunLabel(int run, const QString& label);
    int runCount() const { return static_cast<int>(m_traces.size()); }
    // Records of run `run`. A step at or before one already shown replaces
    // what followed it (a continued run repeats the steps after its checkpoint).
    void addStep(int run, const StepRecord& record);
    void addEval(int run, const EvalRecord& record);
    void addRecords(int run, const RunRecords& records);

    void setRunVisible(int run, bool visible);
    bool isRunVisible(int run) const;

    // Redraws now instead of at the next tick (tests, exports).
    void flush();
    void resetZoom();
    // Every chart as PNG, SVG and CSV (what is shown) into `folder`.
    bool exportAll(const QString& folder, QString* error = nullptr);

    // The charts, in the order of the table of chart specifications (charts_panel.cpp).
    MetricChart* lossChart() const { return m_charts[0]; }
    MetricChart* timeChart() const { return m_charts[1]; }
    MetricChart* memoryChart() const { return m_charts[2]; }
    MetricChart* throughputChart() const { return m_charts[3]; }
    MetricChart* learningRateChart() const { return m_charts[4]; }
    MetricChart* gradNormChart() const { return m_charts[5]; }
    QList<MetricChart*> charts() const { return QList<MetricChart*>(m_charts.begin(), m_charts.end()); }
    RunLegend* legend() const { return m_legend; }
    // The id of run `run`'s series of `quantity` ("loss", "ema", "val", "fwd",
    // "bwd", "opt", "peak", "est", "rss", "tps", "lr", "gn").
    static QString seriesId(int run, const QString& quantity);
    // Totals over all runs: train-loss points and validation points drawn.
    int stepPointCount() const;
    int evalPointCount() const;

    double smoothing() const;
    void setSmoothing(double weight);
    XAxis xAxis() const;
    void setXAxis(XAxis axis);

private:
    struct Trace {
        QString label;
        QColor color;
        std::vector<StepRecord> steps;
        std::vector<EvalRecord> evals;
        bool visible = true;
        bool dirty = true;
    };

    Trace* trace(int run);
    void createSeries(int run);
    void restyle();
    void redrawTrace(int run);
    void markAllDirty();
    void updateLastLine();
    void applyXAxis();

    std::vector<MetricChart*> m_charts;
    RunLegend* m_legend;
    QSlider* m_smoothing;
    QLabel* m_smoothingValue;
    QCheckBox* m_logScale;
    QComboBox* m_xAxis;
    QLabel* m_last;
    std::vector<Trace> m_traces;
    int m_lastRun = -1; // the run that reported last, for the status line
    QTimer m_refresh;
    bool m_dirty = false;
};

} // namespace loralab::ui
