// Early stopping, before and during a run: whether it is on, how often the
// run evaluates, patience and min_delta; while the run goes on, a readout of
// the best validation loss and how many evaluations are left before a stop,
// and "Stop now, keep best". Patience, the interval and the switch stay
// editable mid-run and are handed to the engine through RunControl.
#pragma once

#include "ui/config/config_widgets.h"

#include "engine/records/metrics.h"
#include "engine/config/run_config.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace loralab::ui {

class EarlyStoppingPanel : public QWidget {
    Q_OBJECT
public:
    EarlyStoppingPanel(FieldMessages& messages, QWidget* parent = nullptr);

    void load(const RunConfig& config);
    void store(RunConfig& config) const;

    void setRunning(bool running);
    // What "best" refers to in the readout: validation loss, or DPO preference accuracy.
    void setMetric(const RunConfig& config);
    void resetReadout();
    void showEval(const EvalRecord& eval);
    void showOutcome(const RunSummary& summary);
    // Which run of an experiment the readout is about ("" for a lone run).
    void setRunLabel(const QString& label);

    QString statusText() const;

signals:
    void changed();
    // Mid-run edits, for RunControl.
    void patienceEdited(qint64 patience);
    void evalIntervalEdited(qint64 steps);
    void enabledEdited(bool enabled);
    void stopKeepBestRequested();

private:
    void updateEnabled();

    QCheckBox* m_enabled;
    QSpinBox* m_evalInterval;
    QCheckBox* m_evalAtStart;
    QSpinBox* m_patience;
    ScientificSpinBox* m_minDelta;
    QLabel* m_best;
    QLabel* m_sinceBest;
    QLabel* m_left;
    QLabel* m_status;
    QPushButton* m_stopKeepBest;
    bool m_loading = false;
    bool m_running = false;
    QString m_metricName = QStringLiteral("loss");
    QString m_runLabel;
};

} // namespace loralab::ui
