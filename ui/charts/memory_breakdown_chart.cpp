#include "ui/charts/memory_breakdown_chart.h"

#include "ui/config/config_widgets.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QValueAxis>

namespace loralab::ui {

MemoryBreakdownChart::MemoryBreakdownChart(QWidget* parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("memoryBreakdown"));
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(160);
    showRuns({});
}

void MemoryBreakdownChart::showRuns(const std::vector<ExperimentRun>& runs)
{
    auto* chart = new QChart;
    chart->setTitle(tr("Memory by kind: measured at the peak step, and estimated"));
    QFont titleFont = chart->titleFont();
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);

    const QColor colours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd)};
    const QString names[] = {tr("weights"), tr("gradients"), tr("optimizer state"), tr("activations and temporaries")};
    QBarSet* sets[4];
    for (int i = 0; i < 4; ++i) {
        sets[i] = new QBarSet(names[i]);
        sets[i]->setColor(colours[i]);
        sets[i]->setBorderColor(colours[i].darker(120));
    }
    QStringList categories;
    constexpr double kMiB = 1024.0 * 1024.0;
    const auto add = [&](const MemoryBreakdown& m, const QString& category) {
        *sets[0] << m.weightBytes / kMiB;
        *sets[1] << m.gradientBytes / kMiB;
        *sets[2] << m.optimizerBytes / kMiB;
        *sets[3] << m.activationBytes / kMiB;
        categories << category;
    };
    // Bars run bottom-up: the last run first, so the first reads at the top.
    m_bars = 0;
    for (int i = static_cast<int>(runs.size()) - 1; i >= 0; --i) {
        const ExperimentRun& run = runs[static_cast<std::size_t>(i)];
        if (!run.summary || run.summary->peakMemoryBytes <= 0 || run.summary->measured.total() <= 0) continue;
        // The pair reads top-down: the run's label on its measured bar, then
        // its estimate; the number keeps the categories apart.
        const QString full = qstr(run.label);
        const QString label = full.size() > 40 ? full.left(39) + QStringLiteral("…") : full;
        add(run.summary->estimate, tr("%1. estimate").arg(i + 1));
        add(run.summary->measured, tr("%1. %2 · measured").arg(i + 1).arg(label));
        m_bars += 2;
    }
    auto* series = new QHorizontalStackedBarSeries;
    for (QBarSet* s : sets) series->append(s);
    series->setBarWidth(0.7);
    chart->addSeries(series);
    auto* y = new QBarCategoryAxis;
    y->append(categories);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(y);
    auto* x = new QValueAxis;
    x->setTitleText(tr("MiB"));
    x->setLabelFormat(QStringLiteral("%g"));
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(x);
    if (m_bars > 0) {
        x->setMin(0);
        x->applyNiceNumbers();
    } else {
        x->setRange(0, 1);
    }
    if (m_bars == 0) chart->setTitle(tr("Memory by kind appears when a run has taken a step"));
    // Bars of a readable thickness however many runs there are; the table above gets the rest.
    setMaximumHeight(150 + 26 * std::max(2, m_bars));

    QChart* old = this->chart();
    setChart(chart);
    delete old;
}

} // namespace loralab::ui
