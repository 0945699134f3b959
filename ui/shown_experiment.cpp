#include "ui/shown_experiment.h"

#include <QDir>
#include <QFileInfo>


namespace loralab::ui {

QStringList ShownExperiment::labels() const
{
    QStringList out;
    for (const ShownRun& r : runs) out << r.label;
    return out;
}

QStringList ShownExperiment::varyingKeys() const
{
    QStringList keys;
    if (runs.size() < 2) return keys;
    for (const RunOptionDoc& doc : runOptionDocs()) {
        if (doc.key == "name" || doc.key == "runs_dir") continue;
        std::string first;
        bool differs = false;
        bool any = false;
        for (const ShownRun& r : runs) {
            if (!r.hasConfig) continue;
            const std::string value = runOptionJson(r.config, doc.key);
            if (!any) first = value;
            differs = differs || (any && value != first);
            any = true;
        }
        if (differs) keys << QString::fromStdString(doc.key);
    }
    return keys;
}

ShownRun shownRun(const RunRecords& records, const QString& label)
{
    ShownRun r;
    r.dir = QString::fromStdString(records.dir);
    r.finished = records.hasSummary;
    r.summary = records.summary;
    r.samples = records.samples;
    try {
        if (!records.configJson.empty()) {
            r.config = parseRunConfig(records.configJson, records.dir + "/config.json");
            r.hasConfig = true;
        }
    } catch (const std::exception&) {
    }
    r.label = !label.isEmpty() ? label : r.hasConfig ? QString::fromStdString(r.config.name) : QFileInfo(r.dir).fileName();
    if (!r.finished) {
        // No summary yet: what the metrics say so far.
        r.summary.stopReason = StopReason::Cancelled;
        r.summary.method = r.config.method;
        r.summary.steps = records.steps.empty() ? 0 : records.steps.back().step;
    }
    return r;
}

ShownExperiment shownFrom(const ExperimentRecords& records)
{
    ShownExperiment e;
    e.dir = QString::fromStdString(records.dir);
    e.name = QString::fromStdString(records.name);
    RunConfig base;
    bool hasBase = false;
    try {
        if (!records.baseConfigJson.empty()) {
            base = parseRunConfig(records.baseConfigJson, records.dir + "/experiment.json");
            hasBase = true;
        }
    } catch (const std::exception&) {
    }
    for (const ExperimentRun& run : records.runs) {
        ShownRun r;
        if (run.started) {
            r = shownRun(run.records, QString::fromStdString(run.label));
        } else {
            r.label = QString::fromStdString(run.label);
            r.summary.stopReason = StopReason::NotStarted;
            if (hasBase) {
                // A run never begun still has the configuration it would have had.
                r.config = base;
                for (const auto& [key, value] : run.values) setRunOption(r.config, key, value);
                r.hasConfig = true;
                r.summary.method = r.config.method;
            }
        }
        if (r.label.isEmpty()) r.label = QStringLiteral("run %1").arg(e.runs.size() + 1);
        e.runs.push_back(std::move(r));
    }
    return e;
}

ShownExperiment shownFrom(const ExperimentPlan& plan)
{
    ShownExperiment e;
    e.name = QString::fromStdString(plan.name);
    e.dir = QString::fromStdString(plan.dir);
    for (const PlannedRun& p : plan.runs) {
        ShownRun r;
        r.label = p.label.empty() ? QString::fromStdString(p.config.name) : QString::fromStdString(p.label);
        r.config = p.config;
        r.hasConfig = true;
        r.dir = QString::fromStdString(!p.doneDir.empty() ? p.doneDir : p.resumeDir);
        r.summary.stopReason = StopReason::NotStarted;
        r.summary.method = p.config.method;
        e.runs.push_back(std::move(r));
    }
    return e;
}

QString outcomeText(const ShownRun& r)
{
    const RunSummary& s = r.summary;
    switch (s.stopReason) {
    case StopReason::NotStarted: return QObject::tr("not started");
    case StopReason::Failed: return QObject::tr("failed: %1").arg(QString::fromStdString(s.error));
    case StopReason::Cancelled:
        return r.finished ? QObject::tr("cancelled after %1 steps").arg(s.steps)
                          : QObject::tr("interrupted after %1 steps").arg(s.steps);
    case StopReason::EarlyStopping: return QObject::tr("stopped early");
    case StopReason::UserStop: return QObject::tr("stopped, kept best");
    case StopReason::NonFiniteLoss: return QObject::tr("loss not finite");
    case StopReason::Completed: break;
    }
    return QObject::tr("completed");
}

} // namespace loralab::ui
