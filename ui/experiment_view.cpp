#include "ui/experiment_view.h"

#include "ui/charts_panel.h"
#include "ui/early_stopping_panel.h"
#include "ui/generation_panel.h"
#include "ui/summary_panel.h"

#include <QDir>

namespace loralab::ui {

ExperimentView::ExperimentView(ChartsPanel* charts, SummaryPanel* summary, GenerationPanel* generation,
                               EarlyStoppingPanel* earlyStopping, QObject* parent)
    : QObject(parent), m_charts(charts), m_summary(summary), m_generation(generation), m_earlyStopping(earlyStopping)
{
}

void ExperimentView::showRecords(int run, const RunRecords& records)
{
    m_charts->addRecords(run, records);
    if (!records.evals.empty()) m_earlyStopping->showEval(records.evals.back());
}

void ExperimentView::begin(const ExperimentPlan& plan, const ExperimentRecords* earlier)
{
    m_shown = shownFrom(plan);
    m_charts->setRuns(m_shown.labels());
    m_summary->clear();
    m_earlyStopping->resetReadout();
    m_generation->setRunLabels(m_shown.labels());
    m_generation->clearRows();
    if (!earlier) return;
    // A continued experiment keeps what its runs recorded so far.
    const ShownExperiment before = shownFrom(*earlier);
    for (std::size_t i = 0; i < earlier->runs.size() && i < m_shown.runs.size(); ++i) {
        if (!earlier->runs[i].started) continue;
        showRecords(static_cast<int>(i), earlier->runs[i].records);
        ShownRun& run = m_shown.runs[i];
        run.dir = before.runs[i].dir;
        run.summary = before.runs[i].summary;
        run.samples = before.runs[i].samples;
        run.finished = before.runs[i].finished;
    }
    m_shown.dir = QString::fromStdString(earlier->dir);
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::runStarted(int run)
{
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    const ShownRun& r = m_shown.runs[static_cast<std::size_t>(run)];
    m_earlyStopping->resetReadout();
    m_earlyStopping->setRunLabel(m_shown.runs.size() > 1 ? r.label : QString());
    m_earlyStopping->setMetric(r.config);
}

void ExperimentView::runDirCreated(int run, const QString& dir)
{
    if (run >= 0 && run < static_cast<int>(m_shown.runs.size())) m_shown.runs[static_cast<std::size_t>(run)].dir = dir;
    if (m_shown.runs.size() == 1) m_shown.dir = dir;
}

void ExperimentView::step(int run, const StepRecord& record) { m_charts->addStep(run, record); }

void ExperimentView::eval(int run, const EvalRecord& record)
{
    m_charts->addEval(run, record);
    m_earlyStopping->showEval(record);
}

void ExperimentView::runFinished(int run, const RunResult& result)
{
    if (run < 0 || run >= static_cast<int>(m_shown.runs.size())) return;
    ShownRun& r = m_shown.runs[static_cast<std::size_t>(run)];
    r.summary = result.summary;
    r.samples = result.samples;
    r.finished = result.summary.stopReason != StopReason::NotStarted;
    if (!result.summary.runDir.empty()) r.dir = QString::fromStdString(result.summary.runDir);
    if (r.finished) m_earlyStopping->showOutcome(result.summary);
    // Rows appear as runs end, so a long sweep can be read while it goes on.
    m_summary->showExperiment(m_shown);
    m_generation->showSamples(r.samples, false, run);
}

void ExperimentView::finished(const ExperimentResult& result)
{
    if (!result.dir.empty()) m_shown.dir = QString::fromStdString(result.dir);
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::paused(int run, const QString& runDir, const RunConfig& config)
{
    if (!runDir.isEmpty()) m_generation->setSource(config, runDir, GenerationPanel::Checkpoint::Last, run);
}

void ExperimentView::show(const ExperimentRecords& records)
{
    m_shown = shownFrom(records);
    m_charts->setRuns(m_shown.labels());
    m_earlyStopping->resetReadout();
    m_earlyStopping->setRunLabel(QString());
    for (std::size_t i = 0; i < records.runs.size(); ++i)
        if (records.runs[i].started) showRecords(static_cast<int>(i), records.runs[i].records);
    if (m_shown.runs.size() == 1 && m_shown.runs.front().finished) m_earlyStopping->showOutcome(m_shown.runs.front().summary);
    m_charts->flush();
    m_summary->showExperiment(m_shown);
    m_generation->showExperiment(m_shown);
}

void ExperimentView::retitle(const QString& dir, const QString& title)
{
    const QString wanted = QDir::cleanPath(dir);
    for (int i = 0; i < static_cast<int>(m_shown.runs.size()); ++i) {
        ShownRun& r = m_shown.runs[static_cast<std::size_t>(i)];
        if (r.dir.isEmpty() || QDir::cleanPath(r.dir) != wanted || title.isEmpty()) continue;
        r.label = title;
        m_charts->setRunLabel(i, title);
        m_summary->showExperiment(m_shown);
        m_generation->setRunLabels(m_shown.labels());
    }
}

QString ExperimentView::outcomeSentence(int* level) const
{
    int worst = 0;
    QStringList parts;
    for (const ShownRun& r : m_shown.runs) {
        const StopReason s = r.summary.stopReason;
        if (s == StopReason::Failed || s == StopReason::NonFiniteLoss) worst = 2;
        else if (!finishedNormally(s)) worst = std::max(worst, 1);
        parts << (m_shown.runs.size() == 1 ? outcomeText(r) : QStringLiteral("%1 %2").arg(r.label, outcomeText(r)));
    }
    if (level) *level = worst;
    if (m_shown.runs.size() == 1) {
        const ShownRun& r = m_shown.runs.front();
        if (r.summary.stopReason == StopReason::Cancelled)
            return tr("Run cancelled after %1 steps; its checkpoints are kept and it can be continued from the Runs tab.")
                .arg(r.summary.steps);
        return tr("Run finished: %1.").arg(parts.front());
    }
    const QString what = m_shown.runs.size() == 2 ? tr("Comparison") : tr("Experiment of %1 runs").arg(m_shown.runs.size());
    bool same = true;
    for (const ShownRun& r : m_shown.runs) same = same && outcomeText(r) == outcomeText(m_shown.runs.front());
    if (same) return tr("%1 %2: all %3.").arg(what, worst == 0 ? tr("finished") : tr("ended"), outcomeText(m_shown.runs.front()));
    if (m_shown.runs.size() > 6) {
        // Many runs: counts rather than a list.
        int normal = 0, cancelled = 0, notStarted = 0, failed = 0;
        for (const ShownRun& r : m_shown.runs) {
            normal += finishedNormally(r.summary.stopReason);
            cancelled += r.summary.stopReason == StopReason::Cancelled;
            notStarted += r.summary.stopReason == StopReason::NotStarted;
            failed += r.summary.stopReason == StopReason::Failed || r.summary.stopReason == StopReason::NonFiniteLoss;
        }
        parts = {tr("%1 finished").arg(normal)};
        if (cancelled) parts << tr("%1 cancelled").arg(cancelled);
        if (failed) parts << tr("%1 failed").arg(failed);
        if (notStarted) parts << tr("%1 not started").arg(notStarted);
    }
    return tr("%1 %2: %3.").arg(what, worst == 0 ? tr("finished") : tr("ended"), parts.join(QStringLiteral("; ")));
}

} // namespace loralab::ui
