#include "ui/experiment/summary_columns.h"

#include "ui/config/config_widgets.h"
#include "ui/report/report_text.h"

#include <QObject>
#include <QStringList>

#include <algorithm>
#include <limits>

namespace loralab::ui {

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

QString ms(double v) { return v > 0 ? QStringLiteral("%1").arg(v, 0, 'f', v < 10 ? 2 : 1) : QStringLiteral("–"); }

bool ran(const ExperimentRun& r) { return r.summary && r.summary->steps > 0; }

} // namespace

QString lossText(const std::optional<double>& v) { return v ? QString::number(*v, 'f', 4) : QStringLiteral("–"); }

RunSummary summaryOf(const ExperimentRun& r)
{
    if (r.summary) return *r.summary;
    RunSummary s;
    s.objective = r.config.objective;
    s.method = r.config.method;
    s.steps = r.stepsDone;
    s.state = r.state;
    return s;
}

std::vector<SummaryColumn> summaryColumns(const std::vector<std::string>& varying)
{
    const auto number = [](std::function<double(const RunSummary&)> f) {
        return [f](const ExperimentRun& r) { return ran(r) ? f(*r.summary) : kMissing; };
    };
    std::vector<SummaryColumn> out;
    out.push_back({QObject::tr("Run"), {}, [](const ExperimentRun& r) { return qstr(r.label); }, [](const ExperimentRun&) { return kMissing; }});
    for (const std::string& key : varying) {
        out.push_back({qstr(key), optionTooltip(qstr(key)),
                       [key](const ExperimentRun& r) { return qstr(runOptionJson(r.config, key)).remove(QLatin1Char('"')); },
                       [key](const ExperimentRun& r) {
                           bool ok = false;
                           const double v = qstr(runOptionJson(r.config, key)).toDouble(&ok);
                           return ok ? v : kMissing;
                       }});
    }
    out.push_back({QObject::tr("Outcome"), {}, [](const ExperimentRun& r) { return qstr(outcomeText(r)); },
                   [](const ExperimentRun&) { return kMissing; }});
    out.push_back({QObject::tr("Steps"), {},
                   [](const ExperimentRun& r) { return ran(r) ? QString::number(r.summary->steps) : QStringLiteral("–"); },
                   number([](const RunSummary& s) { return double(s.steps); })});
    out.push_back({QObject::tr("Trainable"), QObject::tr("Trainable parameters, and their share of all"),
                   [](const ExperimentRun& r) {
                       const RunSummary s = summaryOf(r);
                       if (s.totalParams <= 0) return QStringLiteral("–");
                       const double pct = 100.0 * double(s.trainableParams) / double(s.totalParams);
                       return QStringLiteral("%1 (%2 %)").arg(formatCount(s.trainableParams)).arg(pct, 0, 'f', pct < 1 ? 3 : 1);
                   },
                   [](const ExperimentRun& r) {
                       const RunSummary s = summaryOf(r);
                       return s.totalParams > 0 ? double(s.trainableParams) : kMissing;
                   }});
    const auto timing = [&](const QString& title, const QString& tip, double RunSummary::*member) {
        out.push_back({title, tip, [member](const ExperimentRun& r) { return ran(r) ? ms((*r.summary).*member) : QStringLiteral("–"); },
                       number([member](const RunSummary& s) { return s.*member; })});
    };
    timing(QObject::tr("Fwd ms"), QObject::tr("Forward pass per step, average"), &RunSummary::avgForwardMs);
    timing(QObject::tr("Bwd ms"), QObject::tr("Backward pass per step, average"), &RunSummary::avgBackwardMs);
    timing(QObject::tr("Opt ms"), QObject::tr("Clipping and the optimizer step, average"), &RunSummary::avgOptimizerMs);
    timing(QObject::tr("Step ms"), QObject::tr("Whole step, average"), &RunSummary::avgStepMs);
    const auto rate = [&](const QString& title, const QString& tip, double RunSummary::*member) {
        out.push_back({title, tip,
                       [member](const ExperimentRun& r) {
                           return ran(r) && (*r.summary).*member > 0 ? QString::number((*r.summary).*member, 'f', 0) : QStringLiteral("–");
                       },
                       number([member](const RunSummary& s) { return s.*member; })});
    };
    rate(QObject::tr("Tokens/s"), QObject::tr("Tokens the model read per second (padding not counted)"), &RunSummary::tokensPerSecond);
    rate(QObject::tr("Useful tokens/s"), QObject::tr("Tokens whose labels count in the loss, per second (packing raises these)"),
         &RunSummary::usefulTokensPerSecond);
    const auto bytes = [&](const QString& title, const QString& tip, std::function<std::int64_t(const RunSummary&)> f) {
        out.push_back({title, tip,
                       [f](const ExperimentRun& r) { return ran(r) && f(*r.summary) > 0 ? formatBytes(f(*r.summary)) : QStringLiteral("–"); },
                       number([f](const RunSummary& s) { return double(f(s)); })});
    };
    bytes(QObject::tr("Peak memory"), QObject::tr("The most this run's tensors held during a step"),
          [](const RunSummary& s) { return s.peakMemoryBytes; });
    bytes(QObject::tr("Estimate"), QObject::tr("Weights, gradients, optimizer state and activations, from shapes"),
          [](const RunSummary& s) { return s.estimate.total(); });
    bytes(QObject::tr("RSS"), QObject::tr("The whole process's resident memory at most: libraries, caches and all"),
          [](const RunSummary& s) { return s.processPeakMemoryBytes; });
    out.push_back({QObject::tr("Best val loss"),
                   QObject::tr("The validation loss of the best step, whose checkpoint is kept and restored (sorts by the loss)"),
                   [](const ExperimentRun& r) {
                       const RunSummary s = summaryOf(r);
                       return s.bestValLoss ? QObject::tr("%1 (step %2)").arg(lossText(s.bestValLoss)).arg(s.bestStep) : QStringLiteral("–");
                   },
                   [](const ExperimentRun& r) { return summaryOf(r).bestValLoss.value_or(kMissing); }});
    out.push_back({QObject::tr("Exact"), QObject::tr("Sampled answers equal to their targets (base model → fine-tuned)"),
                   [](const ExperimentRun& r) {
                       const RunSummary s = summaryOf(r);
                       if (!s.tunedExactMatch) return QStringLiteral("–");
                       return QStringLiteral("%1 → %2 %").arg(s.baseExactMatch.value_or(0) * 100, 0, 'f', 0).arg(*s.tunedExactMatch * 100, 0, 'f', 0);
                   },
                   [](const ExperimentRun& r) { return summaryOf(r).tunedExactMatch.value_or(kMissing); }});
    out.push_back({QObject::tr("Wall time"), QObject::tr("Pauses excluded"),
                   [](const ExperimentRun& r) { return ran(r) ? formatDuration(r.summary->seconds) : QStringLiteral("–"); },
                   number([](const RunSummary& s) { return s.seconds; })});
    // What people compare first comes first (a narrow window scrolls to the rest);
    // the swept options stay right after the run's name.
    const QStringList order = {QObject::tr("Run"), QObject::tr("Outcome"), QObject::tr("Best val loss"), QObject::tr("Peak memory"),
                               QObject::tr("Estimate"), QObject::tr("Step ms"), QObject::tr("Fwd ms"), QObject::tr("Bwd ms"),
                               QObject::tr("Opt ms"), QObject::tr("Tokens/s"), QObject::tr("Useful tokens/s"), QObject::tr("Trainable"),
                               QObject::tr("Exact"), QObject::tr("Steps"),
                               QObject::tr("RSS"), QObject::tr("Wall time")};
    const auto rank = [&](const SummaryColumn& c) {
        const int at = static_cast<int>(order.indexOf(c.title));
        return at < 0 ? 1 : at == 0 ? 0 : at + 1; // swept options (not listed) between Run and Outcome
    };
    std::stable_sort(out.begin(), out.end(), [&](const SummaryColumn& a, const SummaryColumn& b) { return rank(a) < rank(b); });
    return out;
}

namespace {

// The run that is best by `value` among those that finished normally.
const ExperimentRun* bestBy(const Experiment& e, const std::function<double(const RunSummary&)>& value)
{
    const ExperimentRun* best = nullptr;
    for (const ExperimentRun& r : e.runs) {
        if (!finishedNormally(r.state) || !r.summary || !(value(*r.summary) > 0)) continue;
        if (!best || value(*r.summary) < value(*best->summary)) best = &r;
    }
    return best;
}

} // namespace

QString summaryHeadline(const Experiment& e, Markup markup)
{
    const auto bold = [markup](const QString& s) {
        return markup == Markup::Html ? QStringLiteral("<b>%1</b>").arg(s.toHtmlEscaped()) : QStringLiteral("**%1**").arg(markdownEscaped(s));
    };
    int cancelled = 0, notStarted = 0, failed = 0;
    for (const ExperimentRun& r : e.runs) {
        cancelled += r.state == RunState::Cancelled;
        notStarted += r.state == RunState::NotStarted;
        failed += r.state == RunState::Failed;
    }
    QString text;
    if (e.runs.size() == 1) {
        const ExperimentRun& r = e.runs.front();
        const RunSummary s = summaryOf(r);
        text = QObject::tr("%1: %2, %3 steps, best validation loss %4 (step %5), %6 peak tensor memory, %7 ms per step.")
                   .arg(bold(qstr(r.label)), qstr(outcomeText(r)))
                   .arg(s.steps)
                   .arg(lossText(s.bestValLoss))
                   .arg(s.bestStep)
                   .arg(formatBytes(s.peakMemoryBytes), ms(s.avgStepMs));
        return markup == Markup::Html ? QStringLiteral("<p>%1</p>").arg(text) : text;
    }
    const ExperimentRun* lora = nullptr;
    const ExperimentRun* full = nullptr;
    for (const ExperimentRun& r : e.runs) {
        if (r.config.method == Method::Lora && !lora) lora = &r;
        if (r.config.method == Method::Full && !full) full = &r;
    }
    const bool comparison = e.runs.size() == 2 && lora && full && finishedNormally(lora->state) && finishedNormally(full->state);
    if (comparison) {
        const RunSummary& a = *lora->summary;
        const RunSummary& b = *full->summary;
        const auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
        const double pct = a.totalParams > 0 ? 100.0 * double(a.trainableParams) / double(a.totalParams) : 0.0;
        text = QObject::tr("%7 trains %1 % of the parameters; a step takes %2× the time and %3× the peak tensor "
                           "memory of %8 (estimated %4×). Best validation loss: %5 against %6.")
                   .arg(pct, 0, 'f', pct < 1 ? 3 : 1)
                   .arg(ratio(a.avgStepMs, b.avgStepMs), 0, 'f', 2)
                   .arg(ratio(double(a.peakMemoryBytes), double(b.peakMemoryBytes)), 0, 'f', 2)
                   .arg(ratio(double(a.estimate.total()), double(b.estimate.total())), 0, 'f', 2)
                   .arg(lossText(a.bestValLoss), lossText(b.bestValLoss), bold(QObject::tr("LoRA")), bold(QObject::tr("full fine-tuning")));
    } else {
        QStringList parts;
        if (const ExperimentRun* r = bestBy(e, [](const RunSummary& s) { return s.bestValLoss ? *s.bestValLoss + 1e-12 : -1.0; }))
            parts << QObject::tr("Best validation loss: %1 (%2 at step %3)")
                         .arg(bold(qstr(r->label)), lossText(r->summary->bestValLoss))
                         .arg(r->summary->bestStep);
        if (const ExperimentRun* r = bestBy(e, [](const RunSummary& s) { return double(s.peakMemoryBytes); }))
            parts << QObject::tr("least memory: %1 (%2)").arg(bold(qstr(r->label)), formatBytes(r->summary->peakMemoryBytes));
        if (const ExperimentRun* r = bestBy(e, [](const RunSummary& s) { return s.avgStepMs; }))
            parts << QObject::tr("fastest step: %1 (%2 ms)").arg(bold(qstr(r->label)), ms(r->summary->avgStepMs));
        text = QObject::tr("%1 runs. ").arg(e.runs.size()) + (parts.isEmpty() ? QString() : parts.join(QStringLiteral("; ")) + QLatin1Char('.'));
    }
    QStringList notes;
    if (cancelled) notes << QObject::tr("%1 cancelled").arg(cancelled);
    if (failed) notes << QObject::tr("%1 failed").arg(failed);
    if (notStarted) notes << QObject::tr("%1 not started").arg(notStarted);
    if (!notes.isEmpty())
        text += markup == Markup::Html ? QStringLiteral(" <span style='color:#b26a00'>%1.</span>").arg(notes.join(QStringLiteral(", ")))
                                       : QStringLiteral(" *%1.*").arg(notes.join(QStringLiteral(", ")));
    return markup == Markup::Html ? QStringLiteral("<p>%1</p>").arg(text) : text;
}

} // namespace loralab::ui
