#include "ui/summary_panel.h"

#include "ui/config_widgets.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <functional>

namespace loralab::ui {

namespace {

struct Row {
    QString name;
    std::function<QString(const RunSummary&)> text;
    std::function<double(const RunSummary&)> value; // for the ratio; < 0: not available
    bool lowerIsBetter = true;
};

QString ms(double v) { return v > 0 ? QStringLiteral("%1 ms").arg(v, 0, 'f', v < 10 ? 2 : 1) : QStringLiteral("–"); }
QString lossText(double v) { return v >= 0 ? QString::number(v, 'f', 4) : QStringLiteral("–"); }

const std::vector<Row>& rows()
{
    static const std::vector<Row> all = {
        {QObject::tr("Total parameters"), [](const RunSummary& s) { return formatCount(s.totalParams); },
         [](const RunSummary& s) { return double(s.totalParams); }},
        {QObject::tr("Trainable parameters"),
         [](const RunSummary& s) {
             const double pct = s.totalParams > 0 ? 100.0 * double(s.trainableParams) / double(s.totalParams) : 0.0;
             return QStringLiteral("%1 (%2 %)").arg(formatCount(s.trainableParams)).arg(pct, 0, 'f', pct < 1 ? 3 : 1);
         },
         [](const RunSummary& s) { return double(s.trainableParams); }},
        {QObject::tr("Steps"), [](const RunSummary& s) { return QString::number(s.steps); },
         [](const RunSummary& s) { return double(s.steps); }},
        {QObject::tr("Forward (avg)"), [](const RunSummary& s) { return ms(s.avgForwardMs); },
         [](const RunSummary& s) { return s.avgForwardMs; }},
        {QObject::tr("Backward (avg)"), [](const RunSummary& s) { return ms(s.avgBackwardMs); },
         [](const RunSummary& s) { return s.avgBackwardMs; }},
        {QObject::tr("Optimizer (avg)"), [](const RunSummary& s) { return ms(s.avgOptimizerMs); },
         [](const RunSummary& s) { return s.avgOptimizerMs; }},
        {QObject::tr("Whole step (avg)"), [](const RunSummary& s) { return ms(s.avgStepMs); },
         [](const RunSummary& s) { return s.avgStepMs; }},
        {QObject::tr("Throughput"),
         [](const RunSummary& s) { return QStringLiteral("%1 tokens/s").arg(s.tokensPerSecond, 0, 'f', 0); },
         [](const RunSummary& s) { return s.tokensPerSecond; }, false},
        {QObject::tr("Peak memory"), [](const RunSummary& s) { return formatBytes(s.peakMemoryBytes); },
         [](const RunSummary& s) { return double(s.peakMemoryBytes); }},
        {QObject::tr("Estimated memory"), [](const RunSummary& s) { return formatBytes(s.estimate.total()); },
         [](const RunSummary& s) { return double(s.estimate.total()); }},
        {QObject::tr("First train loss"), [](const RunSummary& s) { return lossText(s.firstTrainLoss); },
         [](const RunSummary& s) { return s.firstTrainLoss; }},
        {QObject::tr("Final train loss"), [](const RunSummary& s) { return lossText(s.finalTrainLoss); },
         [](const RunSummary& s) { return s.finalTrainLoss; }},
        {QObject::tr("Final validation loss"), [](const RunSummary& s) { return lossText(s.finalValLoss); },
         [](const RunSummary& s) { return s.finalValLoss; }},
        {QObject::tr("Best validation loss"),
         [](const RunSummary& s) {
             return s.bestValLoss >= 0 ? QObject::tr("%1 (step %2)").arg(lossText(s.bestValLoss)).arg(s.bestStep)
                                       : QStringLiteral("–");
         },
         [](const RunSummary& s) { return s.bestValLoss; }},
        {QObject::tr("Stopped because"), [](const RunSummary& s) { return QString::fromStdString(s.stopReason).replace('_', ' '); },
         [](const RunSummary&) { return -1.0; }},
        {QObject::tr("Wall time"), [](const RunSummary& s) { return formatDuration(s.seconds); },
         [](const RunSummary& s) { return s.seconds; }},
    };
    return all;
}

QString runTitle(const RunSummary& s)
{
    if (s.method == "lora" || s.run == "lora") return QObject::tr("LoRA");
    if (s.method == "full" || s.run == "full") return QObject::tr("Full fine-tuning");
    if (s.method == "dpo") return QObject::tr("DPO");
    return QString::fromStdString(s.method.empty() ? s.run : s.method);
}

} // namespace

SummaryPanel::SummaryPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    m_headline = new QLabel;
    m_headline->setObjectName(QStringLiteral("summaryHeadline"));
    m_headline->setWordWrap(true);
    m_headline->setTextFormat(Qt::RichText);
    layout->addWidget(m_headline);
    m_table = new QTableWidget;
    m_table->setObjectName(QStringLiteral("summaryTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionMode(QAbstractItemView::ContiguousSelection);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(m_table, 1);
    m_footer = new QLabel;
    m_footer->setWordWrap(true);
    m_footer->setStyleSheet(QStringLiteral("color: #616161;"));
    layout->addWidget(m_footer);
    clear();
}

void SummaryPanel::clear()
{
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    m_headline->setText(tr("<p>The summary appears when a run finishes. Choose <b>Compare LoRA and full</b> as the method "
                           "to see both side by side, or reopen runs from the Runs tab.</p>"));
    m_footer->clear();
}

void SummaryPanel::showComparison(const CompareSummary& s)
{
    fill(&s.lora, tr("LoRA"), &s.full, tr("Full fine-tuning"));
    m_footer->setText(tr("Group folder: %1").arg(QString::fromStdString(s.groupDir)));
}

void SummaryPanel::showRun(const RunSummary& s)
{
    fill(&s, runTitle(s), nullptr, {});
    m_footer->setText(tr("Run folder: %1").arg(QString::fromStdString(s.runDir)));
}

void SummaryPanel::showPair(const RunSummary& a, const QString& aTitle, const RunSummary& b, const QString& bTitle)
{
    fill(&a, aTitle, &b, bTitle);
    m_footer->setText(tr("Runs: %1 and %2").arg(QString::fromStdString(a.runDir), QString::fromStdString(b.runDir)));
}

QString SummaryPanel::headline() const { return m_headline->text(); }

void SummaryPanel::fill(const RunSummary* a, const QString& aTitle, const RunSummary* b, const QString& bTitle)
{
    const auto& all = rows();
    m_table->clear();
    m_table->setRowCount(static_cast<int>(all.size()));
    QStringList headers{aTitle};
    if (b) headers << bTitle << tr("%1 ÷ %2").arg(bTitle, aTitle);
    m_table->setColumnCount(headers.size());
    m_table->setHorizontalHeaderLabels(headers);
    for (int i = 0; i < static_cast<int>(all.size()); ++i) {
        const Row& row = all[i];
        m_table->setVerticalHeaderItem(i, new QTableWidgetItem(row.name));
        m_table->setItem(i, 0, new QTableWidgetItem(row.text(*a)));
        if (!b) continue;
        m_table->setItem(i, 1, new QTableWidgetItem(row.text(*b)));
        const double va = row.value(*a), vb = row.value(*b);
        auto* ratio = new QTableWidgetItem(va > 0 && vb >= 0 ? QStringLiteral("%1×").arg(vb / va, 0, 'f', vb / va < 10 ? 2 : 1)
                                                             : QStringLiteral("–"));
        m_table->setItem(i, 2, ratio);
    }
    // Numbers line up on the right when columns are compared; a lone column
    // reads better next to its row names.
    const Qt::Alignment align = (b ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter;
    for (int r = 0; r < m_table->rowCount(); ++r)
        for (int c = 0; c < m_table->columnCount(); ++c)
            if (auto* item = m_table->item(r, c)) item->setTextAlignment(align);

    if (!b) {
        m_headline->setText(tr("<p><b>%1</b>: %2 steps, best validation loss %3, %4 peak memory, %5 per step.</p>")
                                .arg(aTitle)
                                .arg(a->steps)
                                .arg(lossText(a->bestValLoss), formatBytes(a->peakMemoryBytes), ms(a->avgStepMs)));
        return;
    }
    const auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
    const double pct = a->totalParams > 0 ? 100.0 * double(a->trainableParams) / double(a->totalParams) : 0.0;
    m_headline->setText(
        tr("<p><b>%1</b> trains %2 % of the parameters; a step takes %3× the time and %4× the peak memory of "
           "<b>%5</b>. Best validation loss: %6 against %7.</p>")
            .arg(aTitle)
            .arg(pct, 0, 'f', pct < 1 ? 3 : 1)
            .arg(ratio(a->avgStepMs, b->avgStepMs), 0, 'f', 2)
            .arg(ratio(double(a->peakMemoryBytes), double(b->peakMemoryBytes)), 0, 'f', 2)
            .arg(bTitle, lossText(a->bestValLoss), lossText(b->bestValLoss)));
}

} // namespace loralab::ui
