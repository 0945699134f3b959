#include "ui/experiment/early_stopping_panel.h"

#include "ui/config/wheel_guard.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QFrame>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace loralab::ui {

EarlyStoppingPanel::EarlyStoppingPanel(FieldMessages& messages, QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    layout->addLayout(form);

    m_enabled = new QCheckBox(tr("Stop when validation stops improving"));
    m_enabled->setObjectName(QStringLiteral("earlyStoppingEnabled"));
    form->addRow(messages.wrap(m_enabled, QStringLiteral("early_stopping")));
    m_evalInterval = new QSpinBox;
    m_evalInterval->setObjectName(QStringLiteral("evalInterval"));
    m_evalInterval->setRange(0, 100000000);
    setPluralSuffix(m_evalInterval, tr("step"), tr("steps"));
    m_evalInterval->setSpecialValueText(tr("only at the end"));
    m_evalInterval->setKeyboardTracking(false);
    form->addRow(tr("Evaluate every"), messages.wrap(m_evalInterval, QStringLiteral("eval_interval")));
    m_evalAtStart = new QCheckBox(tr("and before the first step (the baseline)"));
    m_evalAtStart->setObjectName(QStringLiteral("evalAtStart"));
    form->addRow(QString(), messages.wrap(m_evalAtStart, QStringLiteral("eval_at_start")));
    m_patience = new QSpinBox;
    m_patience->setObjectName(QStringLiteral("patience"));
    m_patience->setRange(0, 1000000);
    setPluralSuffix(m_patience, tr("evaluation"), tr("evaluations"));
    m_patience->setSpecialValueText(tr("never stop"));
    m_patience->setKeyboardTracking(false);
    form->addRow(tr("Patience"), messages.wrap(m_patience, QStringLiteral("patience")));
    m_minDelta = new ScientificSpinBox;
    m_minDelta->setObjectName(QStringLiteral("minDelta"));
    m_minDelta->setRange(0.0, 1e12);
    form->addRow(tr("Min improvement"), messages.wrap(m_minDelta, QStringLiteral("min_delta")));

    auto* line = new QFrame;
    line->setFrameShape(QFrame::HLine);
    line->setFrameShadow(QFrame::Sunken);
    layout->addWidget(line);

    auto* readout = new QFormLayout;
    readout->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_best = new QLabel;
    m_best->setObjectName(QStringLiteral("bestValidation"));
    m_sinceBest = new QLabel;
    m_sinceBest->setObjectName(QStringLiteral("evalsSinceBest"));
    m_left = new QLabel;
    m_left->setObjectName(QStringLiteral("evalsLeft"));
    readout->addRow(tr("Best validation"), m_best);
    readout->addRow(tr("Since the best"), m_sinceBest);
    readout->addRow(tr("Left before a stop"), m_left);
    layout->addLayout(readout);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("earlyStoppingStatus"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    m_stopKeepBest = new QPushButton(QIcon::fromTheme(QStringLiteral("media-playback-stop")), tr("Stop now, keep best"));
    m_stopKeepBest->setObjectName(QStringLiteral("stopKeepBest"));
    m_stopKeepBest->setToolTip(tr("End the run after the current step and finish with its best checkpoint"));
    layout->addWidget(m_stopKeepBest);
    layout->addStretch(1);

    connect(m_stopKeepBest, &QPushButton::clicked, this, &EarlyStoppingPanel::stopKeepBestRequested);
    connect(m_enabled, &QCheckBox::toggled, this, [this](bool on) {
        updateEnabled();
        if (m_loading) return;
        if (m_running) emit enabledEdited(on);
        emit changed();
    });
    connect(m_evalInterval, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_loading) return;
        if (m_running) emit evalIntervalEdited(v);
        emit changed();
    });
    connect(m_patience, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_loading) return;
        if (m_running) emit patienceEdited(v);
        emit changed();
    });
    connect(m_minDelta, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    connect(m_evalAtStart, &QCheckBox::toggled, this, [this] {
        if (!m_loading) emit changed();
    });
    resetReadout();
    setRunning(false);
    guardWheel(this);
}

void EarlyStoppingPanel::load(const RunConfig& c)
{
    m_loading = true;
    m_enabled->setChecked(c.earlyStopping);
    m_evalInterval->setValue(static_cast<int>(c.evalInterval));
    m_evalAtStart->setChecked(c.evalAtStart);
    m_patience->setValue(static_cast<int>(c.patience));
    m_minDelta->setValue(c.minDelta);
    m_loading = false;
    setMetric(c);
    updateEnabled();
}

void EarlyStoppingPanel::setMetric(const RunConfig& c)
{
    m_metricName = c.objective == Objective::Dpo && c.earlyStoppingMetric == StopMetric::Accuracy ? tr("accuracy") : tr("loss");
}

void EarlyStoppingPanel::store(RunConfig& c) const
{
    c.earlyStopping = m_enabled->isChecked();
    c.evalInterval = m_evalInterval->value();
    c.evalAtStart = m_evalAtStart->isChecked();
    c.patience = m_patience->value();
    c.minDelta = m_minDelta->value();
}

void EarlyStoppingPanel::setRunning(bool running)
{
    m_running = running;
    // min_delta is fixed once the engine has built its stopper; the baseline is past.
    m_minDelta->setEnabled(!running && m_enabled->isChecked());
    m_evalAtStart->setEnabled(!running);
    m_stopKeepBest->setEnabled(running);
}

void EarlyStoppingPanel::resetReadout()
{
    m_best->setText(QStringLiteral("–"));
    m_sinceBest->setText(QStringLiteral("–"));
    m_left->setText(QStringLiteral("–"));
    m_status->setText(tr("No evaluation yet."));
    m_status->setStyleSheet({});
}

void EarlyStoppingPanel::showEval(const EvalRecord& e)
{
    m_best->setText(std::isfinite(e.bestValue) ? QStringLiteral("%1 (%2)").arg(e.bestValue, 0, 'f', 4).arg(m_metricName)
                                               : QStringLiteral("–"));
    m_sinceBest->setText(countText(e.evalsSinceBest, tr("evaluation"), tr("evaluations")));
    m_left->setText(e.evalsLeft < 0 ? tr("early stopping is off") : countText(e.evalsLeft, tr("evaluation"), tr("evaluations")));
    const QString who = m_runLabel.isEmpty() ? QString() : QStringLiteral("[%1] ").arg(m_runLabel);
    m_status->setText(e.improved ? tr("%1Step %2: validation loss %3, a new best.").arg(who).arg(e.step).arg(e.loss, 0, 'f', 4)
                                 : tr("%1Step %2: validation loss %3, no improvement.").arg(who).arg(e.step).arg(e.loss, 0, 'f', 4));
    m_status->setStyleSheet(e.improved ? QStringLiteral("color: #2e7d32;") : QStringLiteral("color: #b26a00;"));
}

void EarlyStoppingPanel::setRunLabel(const QString& label) { m_runLabel = label; }

void EarlyStoppingPanel::showOutcome(const RunSummary& s)
{
    QString text;
    switch (s.state) {
    case RunState::EarlyStopping: text = tr("Stopped by early stopping at step %1; best step %2.").arg(s.steps).arg(s.bestStep); break;
    case RunState::UserStop: text = tr("Stopped on request at step %1, keeping the best (step %2).").arg(s.steps).arg(s.bestStep); break;
    case RunState::Cancelled: text = tr("Cancelled at step %1.").arg(s.steps); break;
    case RunState::NonFiniteLoss: text = tr("Stopped at step %1: the loss was not finite.").arg(s.steps); break;
    case RunState::Failed: text = tr("Failed: %1").arg(QString::fromStdString(s.error)); break;
    case RunState::NotStarted: text = tr("Not started."); break;
    case RunState::Running: text = tr("Running, step %1.").arg(s.steps); break;
    case RunState::Interrupted: text = tr("Interrupted at step %1.").arg(s.steps); break;
    case RunState::Completed: text = tr("Completed %1 steps; best step %2.").arg(s.steps).arg(s.bestStep); break;
    }
    if (!m_runLabel.isEmpty()) text = QStringLiteral("[%1] ").arg(m_runLabel) + text;
    m_status->setText(text);
    m_status->setStyleSheet(s.state == RunState::EarlyStopping ? QStringLiteral("color: #1565c0; font-weight: bold;") : QString());
}

QString EarlyStoppingPanel::statusText() const { return m_status->text(); }

void EarlyStoppingPanel::updateEnabled()
{
    const bool on = m_enabled->isChecked();
    m_patience->setEnabled(on);
    m_minDelta->setEnabled(on && !m_running);
}

} // namespace loralab::ui
