#include "ui/report/report_content.h"

#include "ui/config/config_widgets.h"
#include "ui/experiment/summary_columns.h"
#include "ui/report/report_text.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <map>

namespace loralab::ui {

namespace {

bool trained(const ExperimentRun& r) { return r.summary && r.summary->steps > 0; }

QString optionText(const RunConfig& c, const std::string& key) { return qstr(runOptionJson(c, key)).remove(QLatin1Char('"')); }

// An option as config.csv holds it: text options as the text, the others as JSON.
QString optionCsv(const RunConfig& c, const std::string& key)
{
    const QByteArray json = QByteArray::fromStdString(runOptionJson(c, key));
    if (!json.startsWith('"')) return QString::fromUtf8(json);
    return QJsonDocument::fromJson("[" + json + "]").array().at(0).toString();
}


QString kindOf(const Experiment& e)
{
    if (e.runs.size() == 1) return QObject::tr("%1 run").arg(qstr(runKindText(e.runs.front().config.objective, e.runs.front().config.method)));
    const bool methodOnly = e.axes.size() == 1 && e.axes.front().key == "method";
    if (methodOnly) return QObject::tr("LoRA against full fine-tuning");
    QStringList keys;
    for (const SweepAxis& a : e.axes) keys << qstr(a.key);
    if (keys.isEmpty()) return QObject::tr("%1 runs overlaid").arg(e.runs.size());
    return QObject::tr("a sweep of %1 runs over %2").arg(e.runs.size()).arg(keys.join(QStringLiteral(", ")));
}

ReportTable summaryTable(const Experiment& e)
{
    ReportTable t;
    t.title = QObject::tr("Runs");
    t.note = QObject::tr("Times are averages per optimizer step in milliseconds; peak memory is what the run's tensors held at most "
                         "during a step, beside the estimate from shapes and the whole process's resident set (RSS).");
    const std::vector<SummaryColumn> cols = summaryColumns(varyingOptions(e));
    for (const SummaryColumn& c : cols) {
        t.header << c.title;
        bool number = false;
        for (const ExperimentRun& r : e.runs) number = number || !std::isnan(c.value(r));
        t.right << number;
    }
    for (const ExperimentRun& r : e.runs) {
        QStringList row;
        for (const SummaryColumn& c : cols) row << c.text(r);
        t.rows << row;
    }
    return t;
}

ReportTable memoryTable(const Experiment& e)
{
    ReportTable t;
    t.title = QObject::tr("Memory by kind");
    t.note = QObject::tr("Measured at the step with the highest peak (weights, gradients and optimizer state from the tensors "
                         "themselves, activations as what else the peak held), and estimated from shapes before the run.");
    t.header = QStringList{QObject::tr("Run"), QObject::tr("Of"), QObject::tr("Weights"), QObject::tr("Gradients"),
                           QObject::tr("Optimizer state"), QObject::tr("Activations"), QObject::tr("Total")};
    t.right = {false, false, true, true, true, true, true};
    const auto row = [](const QString& label, const QString& of, const MemoryBreakdown& m) {
        return QStringList{label, of, formatBytes(m.weightBytes), formatBytes(m.gradientBytes), formatBytes(m.optimizerBytes),
                           formatBytes(m.activationBytes), formatBytes(m.total())};
    };
    for (const ExperimentRun& r : e.runs) {
        if (!trained(r)) continue;
        if (r.summary->measured.total() > 0) t.rows << row(qstr(r.label), QObject::tr("measured"), r.summary->measured);
        t.rows << row(qstr(r.label), QObject::tr("estimate"), r.summary->estimate);
    }
    return t;
}

ReportTable lossTable(const Experiment& e)
{
    ReportTable t;
    t.title = QObject::tr("Losses");
    t.note = QObject::tr("The best step is the one whose checkpoint is kept and restored; the stop reason is how the run ended.");
    bool accuracy = false;
    for (const ExperimentRun& r : e.runs) accuracy = accuracy || (r.summary && r.summary->bestValAccuracy);
    t.header = QStringList{QObject::tr("Run"), QObject::tr("First train loss"), QObject::tr("Final train loss"),
                           QObject::tr("Final val loss"), QObject::tr("Best val loss"), QObject::tr("Best step")};
    if (accuracy) t.header << QObject::tr("Best val accuracy");
    t.header << QObject::tr("Stop reason");
    for (int c = 0; c < t.header.size(); ++c) t.right << (c > 0 && c + 1 < t.header.size());
    for (const ExperimentRun& r : e.runs) {
        QStringList row{qstr(r.label)};
        if (trained(r)) {
            const RunSummary& s = *r.summary;
            row << QString::number(s.firstTrainLoss, 'f', 4) << QString::number(s.finalTrainLoss, 'f', 4) << lossText(s.finalValLoss)
                << lossText(s.bestValLoss) << (s.bestValLoss || s.bestValAccuracy ? QString::number(s.bestStep) : QStringLiteral("–"));
            if (accuracy) row << (s.bestValAccuracy ? QStringLiteral("%1 %").arg(*s.bestValAccuracy * 100, 0, 'f', 1) : QStringLiteral("–"));
        } else {
            for (int c = 1; c + 1 < t.header.size(); ++c) row << QStringLiteral("–");
        }
        row << qstr(outcomeText(r));
        t.rows << row;
    }
    return t;
}

void configTables(const Experiment& e, ReportContent& out)
{
    const std::vector<std::string> varying = varyingOptions(e);
    out.varying.title = QObject::tr("Options that differ between the runs");
    out.varying.header << QObject::tr("Option");
    out.varying.right << false;
    for (const ExperimentRun& r : e.runs) {
        out.varying.header << qstr(r.label);
        out.varying.right << false;
    }
    for (const std::string& key : varying) {
        QStringList row{qstr(key)};
        for (const ExperimentRun& r : e.runs) row << optionText(r.config, key);
        out.varying.rows << row;
    }
    out.options.title = e.runs.size() > 1 ? QObject::tr("Options every run shares") : QObject::tr("Options");
    out.options.header = QStringList{QObject::tr("Option"), QObject::tr("Value"), QObject::tr("Default")};
    out.options.right = {false, false, false};
    const RunConfig& first = e.runs.empty() ? e.base : e.runs.front().config;
    for (const RunOptionDoc& doc : runOptionDocs()) {
        if (doc.key == "name" || doc.key == "runs_dir" || std::find(varying.begin(), varying.end(), doc.key) != varying.end()) continue;
        const QString value = optionText(first, doc.key);
        const QString fallback = qstr(doc.defaultValue).remove(QLatin1Char('"'));
        out.options.rows << QStringList{qstr(doc.key), value, value == fallback ? QString() : fallback};
    }
}

// Samples grouped by prompt and target: every run of an experiment answers
// the same validation prompts, one example each.
std::vector<ReportExample> examplesOf(const Experiment& e)
{
    std::vector<ReportExample> out;
    std::map<std::pair<std::string, std::string>, std::size_t> index;
    for (std::size_t i = 0; i < e.runs.size(); ++i) {
        for (const SampleRecord& s : e.runs[i].records.samples) {
            const auto key = std::make_pair(s.prompt, s.target);
            auto it = index.find(key);
            if (it == index.end()) {
                ReportExample x;
                x.prompt = qstr(s.prompt);
                x.target = qstr(s.target);
                x.rejected = qstr(s.rejected);
                for (std::size_t k = 0; k < e.runs.size(); ++k) x.outputs << QString();
                it = index.emplace(key, out.size()).first;
                out.push_back(x);
            }
            ReportExample& x = out[it->second];
            if (x.base.isEmpty()) x.base = qstr(s.baseOutput);
            x.outputs[static_cast<int>(i)] = qstr(s.tunedOutput);
        }
    }
    return out;
}

} // namespace

ReportContent reportContent(const Experiment& e)
{
    ReportContent c;
    c.title = QObject::tr("%1: %2").arg(qstr(e.name.empty() ? e.base.name : e.name), kindOf(e));
    c.headlineMarkdown = summaryHeadline(e, Markup::Markdown);
    c.headlineHtml = summaryHeadline(e, Markup::Html);
    const RunConfig& first = e.runs.empty() ? e.base : e.runs.front().config;
    const std::vector<std::string> varying = varyingOptions(e);
    const auto varies = [&](const char* key) { return std::find(varying.begin(), varying.end(), key) != varying.end(); };
    if (!varies("model")) c.facts << QObject::tr("Model: %1").arg(first.model == "default" ? QObject::tr("the embedded default model") : qstr(first.model));
    if (!varies("dataset")) c.facts << QObject::tr("Dataset: %1").arg(qstr(first.dataset));
    c.facts << QObject::tr("Objective: %1").arg(qstr(choiceName(first.objective)));
    c.facts << (e.runs.size() == 1 ? QObject::tr("Run folder: %1") : QObject::tr("Experiment folder: %1")).arg(QDir::toNativeSeparators(qstr(e.dir)));
    for (const ExperimentRun& r : e.runs) c.runLabels << qstr(r.label);
    c.summary = summaryTable(e);
    c.memory = memoryTable(e);
    c.losses = lossTable(e);
    configTables(e, c);
    c.examples = examplesOf(e);
    return c;
}

QString summaryCsv(const Experiment& e)
{
    const QStringList header{"run", "dir", "state", "outcome", "objective", "method", "steps", "total_params", "trainable_params",
                          "avg_forward_ms", "avg_backward_ms", "avg_optimizer_ms", "avg_step_ms", "tokens_per_second", "useful_tokens_per_second",
                          "peak_memory_bytes", "process_peak_memory_bytes", "measured_weight_bytes", "measured_gradient_bytes",
                          "measured_optimizer_bytes", "measured_activation_bytes", "estimate_weight_bytes", "estimate_gradient_bytes",
                          "estimate_optimizer_bytes", "estimate_activation_bytes", "first_train_loss", "final_train_loss",
                          "final_val_loss", "best_val_loss", "best_val_accuracy", "best_step", "base_exact_match",
                          "tuned_exact_match", "seconds"};
    QString out = csvRow(header);
    const auto n = [](auto v) { return QString::number(v); };
    for (const ExperimentRun& r : e.runs) {
        QStringList row{qstr(r.label), qstr(r.dir), QLatin1String(choiceName(r.state)), qstr(outcomeText(r)),
                        QLatin1String(choiceName(r.config.objective)), QLatin1String(choiceName(r.config.method))};
        if (r.summary) {
            const RunSummary& s = *r.summary;
            row << n(s.steps) << n(s.totalParams) << n(s.trainableParams) << csvNumber(s.avgForwardMs) << csvNumber(s.avgBackwardMs)
                << csvNumber(s.avgOptimizerMs) << csvNumber(s.avgStepMs) << csvNumber(s.tokensPerSecond) << csvNumber(s.usefulTokensPerSecond) << n(s.peakMemoryBytes)
                << n(s.processPeakMemoryBytes);
            for (const MemoryBreakdown& m : {s.measured, s.estimate})
                row << n(m.weightBytes) << n(m.gradientBytes) << n(m.optimizerBytes) << n(m.activationBytes);
            row << csvNumber(s.firstTrainLoss) << csvNumber(s.finalTrainLoss) << csvNumber(s.finalValLoss) << csvNumber(s.bestValLoss)
                << csvNumber(s.bestValAccuracy) << ((s.bestValLoss || s.bestValAccuracy) ? n(s.bestStep) : QString())
                << csvNumber(s.baseExactMatch) << csvNumber(s.tunedExactMatch) << csvNumber(s.seconds);
        } else {
            row << n(r.stepsDone);
        }
        while (row.size() < header.size()) row << QString(); // every row has every field
        out += csvRow(row);
    }
    return out;
}

QString configCsv(const Experiment& e)
{
    QStringList header{QStringLiteral("option")};
    for (const ExperimentRun& r : e.runs) header << qstr(r.label);
    QString out = csvRow(header);
    for (const RunOptionDoc& doc : runOptionDocs()) {
        // Where new run folders go is no property of a run (summary.csv has each run's folder).
        if (doc.key == "runs_dir") continue;
        QStringList row{qstr(doc.key)};
        for (const ExperimentRun& r : e.runs) row << optionCsv(r.config, doc.key);
        out += csvRow(row);
    }
    return out;
}

QString generationsCsv(const ReportContent& c)
{
    bool rejected = false;
    for (const ReportExample& x : c.examples) rejected = rejected || !x.rejected.isEmpty();
    QStringList header{QStringLiteral("prompt"), QStringLiteral("target")};
    if (rejected) header << QStringLiteral("rejected");
    header << QStringLiteral("base");
    header << c.runLabels;
    QString out = csvRow(header);
    for (const ReportExample& x : c.examples) {
        QStringList row{x.prompt, x.target};
        if (rejected) row << x.rejected;
        row << x.base << x.outputs;
        out += csvRow(row);
    }
    return out;
}

} // namespace loralab::ui
