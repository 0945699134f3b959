#include "ui/experiment/experiment_view.h"

#include "ui/charts/charts_panel.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/generations/generation_panel.h"
#include "ui/experiment/summary_panel.h"

#include <QDir>

namespace loralab::ui {

namespace {

// Drops the records at or after `step`.
template <typename Record>
void keepUpTo(std::vector<Record>& records, std::int64_t step)
{
    while (!records.empty() && records.back().step >= step) records.pop_back();
}

QStringList labelsOf(const Experiment& e)
{
    QStringList out;
    for (const ExperimentRun& r : e.runs) out << qstr(r.label);
    return out;
}

} // namespace

ExperimentView::ExperimentView(ChartsPanel* charts, SummaryPanel* summary, GenerationPanel* generation,
                               EarlyStoppingPanel* earlyStopping, QObject* parent)
    : QObject(parent), m_charts(charts), m_summary(summary), m_generation(generation), m_earlyStopping(earlyStopping)
{
}

void ExperimentView::showRecords(int run, const ExperimentRun& recorded)
{
    if (recorded.state == RunState::NotStarted) return;
    m_charts->addRecords(run, recorded.records);
    if (!recorded.records.evals.empty()) m_earlyStopping->showEval(recorded.records.evals.back());
}

void ExperimentView::begin(const Experiment& experiment)
{
    m_shown = experiment;
    const QStringList labels = labelsOf(m_shown);
    m_charts->setRuns(labels);
    m_summary->clear();
    m_earlyStopping->resetReadout();
    m_generation->setRunLabels(labels);
    m_generation->clearRows();
    bool earlier = false;
    for (std::size_t i = 0; i < m_shown.runs.size(); ++i) {
        earlier = earlier || m_shown.runs[i].state != RunState::NotStarted;
        showRecords(static_cast<int>(i), m_shown.runs[i]);
    }
    if (!earlier) return;
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::runStarted(int run)
{
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    const ExperimentRun& r = m_shown.runs[static_cast<std::size_t>(run)];
    m_earlyStopping->resetReadout();
    m_earlyStopping->setRunLabel(m_shown.runs.size() > 1 ? qstr(r.label) : QString());
    m_earlyStopping->setMetric(r.config);
}

void ExperimentView::runDirCreated(int run, const QString& dir)
{
    if (run >= 0 && run < static_cast<int>(m_shown.runs.size())) {
        ExperimentRun& r = m_shown.runs[static_cast<std::size_t>(run)];
        r.dir = sstr(dir);
        r.state = RunState::Running;
    }
    if (m_shown.lone()) m_shown.dir = sstr(dir);
}

void ExperimentView::step(int run, const StepRecord& record)
{
    m_charts->addStep(run, record);
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    ExperimentRun& r = m_shown.runs[static_cast<std::size_t>(run)];
    r.stepsDone = record.step;
    // As the charts keep them: a continued run repeats the steps after its
    // checkpoint, and they replace what followed it.
    keepUpTo(r.records.steps, record.step);
    keepUpTo(r.records.evals, record.step);
    r.records.steps.push_back(record);
}

void ExperimentView::eval(int run, const EvalRecord& record)
{
    m_charts->addEval(run, record);
    m_earlyStopping->showEval(record);
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    auto& evals = m_shown.runs[static_cast<std::size_t>(run)].records.evals;
    keepUpTo(evals, record.step);
    evals.push_back(record);
}

void ExperimentView::runFinished(int run, const ExperimentRun& result)
{
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    ExperimentRun& r = m_shown.runs[static_cast<std::size_t>(run)];
    const QString label = qstr(r.label); // a title given in the Runs tab stays
    RunRecords recorded = std::move(r.records);
    r = result;
    r.label = sstr(label);
    // The records that arrived step by step stay where the result has none.
    if (r.records.steps.empty()) r.records.steps = std::move(recorded.steps);
    if (r.records.evals.empty()) r.records.evals = std::move(recorded.evals);
    if (r.summary) m_earlyStopping->showOutcome(*r.summary);
    // Rows appear as runs end, so a long sweep can be read while it goes on.
    m_summary->showExperiment(m_shown);
    m_generation->showSamples(r.records.samples, false, run);
}

void ExperimentView::finished(const Experiment& experiment)
{
    if (!experiment.dir.empty()) m_shown.dir = experiment.dir;
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::paused(int run, const QString& runDir, const RunConfig& config)
{
    if (!runDir.isEmpty()) m_generation->setSource(config, runDir, CheckpointPick::Last, run);
}

void ExperimentView::show(const Experiment& experiment)
{
    m_shown = experiment;
    m_charts->setRuns(labelsOf(m_shown));
    m_earlyStopping->resetReadout();
    m_earlyStopping->setRunLabel(QString());
    for (std::size_t i = 0; i < m_shown.runs.size(); ++i) showRecords(static_cast<int>(i), m_shown.runs[i]);
    if (m_shown.runs.size() == 1 && m_shown.runs.front().summary) m_earlyStopping->showOutcome(*m_shown.runs.front().summary);
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::retitle(const QString& dir, const QString& title)
{
    const QString wanted = QDir::cleanPath(dir);
    for (int i = 0; i < static_cast<int>(m_shown.runs.size()); ++i) {
        ExperimentRun& r = m_shown.runs[static_cast<std::size_t>(i)];
        if (r.dir.empty() || QDir::cleanPath(qstr(r.dir)) != wanted || title.isEmpty()) continue;
        r.label = sstr(title);
        m_charts->setRunLabel(i, title);
        m_summary->showExperiment(m_shown);
        m_generation->setRunLabels(labelsOf(m_shown));
    }
}

QString ExperimentView::outcomeSentence(int* level) const
{
    int worst = 0;
    QStringList parts;
    for (const ExperimentRun& r : m_shown.runs) {
        if (r.state == RunState::Failed || r.state == RunState::NonFiniteLoss) worst = 2;
        else if (!finishedNormally(r.state)) worst = std::max(worst, 1);
        parts << (m_shown.runs.size() == 1 ? qstr(outcomeText(r)) : QStringLiteral("%1 %2").arg(qstr(r.label), qstr(outcomeText(r))));
    }
    if (level) *level = worst;
    if (m_shown.runs.size() == 1) {
        const ExperimentRun& r = m_shown.runs.front();
        if (r.state == RunState::Cancelled)
            return tr("Run cancelled after %1 steps; its checkpoints are kept and it can be continued from the Runs tab.")
                .arg(r.stepsDone);
        return tr("Run finished: %1.").arg(parts.front());
    }
    const QString what = m_shown.runs.size() == 2 ? tr("Comparison") : tr("Experiment of %1 runs").arg(m_shown.runs.size());
    bool same = true;
    for (const ExperimentRun& r : m_shown.runs) same = same && outcomeText(r) == outcomeText(m_shown.runs.front());
    if (same)
        return tr("%1 %2: all %3.").arg(what, worst == 0 ? tr("finished") : tr("ended"), qstr(outcomeText(m_shown.runs.front())));
    if (m_shown.runs.size() > 6) {
        // Many runs: counts rather than a list.
        int normal = 0, cancelled = 0, notStarted = 0, failed = 0;
        for (const ExperimentRun& r : m_shown.runs) {
            normal += finishedNormally(r.state);
            cancelled += r.state == RunState::Cancelled;
            notStarted += r.state == RunState::NotStarted;
            failed += r.state == RunState::Failed || r.state == RunState::NonFiniteLoss;
        }
        parts = {tr("%1 finished").arg(normal)};
        if (cancelled) parts << tr("%1 cancelled").arg(cancelled);
        if (failed) parts << tr("%1 failed").arg(failed);
        if (notStarted) parts << tr("%1 not started").arg(notStarted);
    }
    return tr("%1 %2: %3.").arg(what, worst == 0 ? tr("finished") : tr("ended"), parts.join(QStringLiteral("; ")));
}

} // namespace loralab::ui
