#include "ui/report/report_charts.h"

#include "ui/charts/chart_specs.h"
#include "ui/charts/charts_panel.h"
#include "ui/charts/memory_breakdown_chart.h"
#include "ui/charts/metric_chart.h"

#include "engine/util/error.h"

#include <QDir>
#include <QImage>
#include <QPainter>

#include <algorithm>

namespace loralab::ui {

namespace {

[[noreturn]] void cannotWrite(const QString& path, const QString& what)
{
    throw Error(sstr(QDir::toNativeSeparators(path)) + ": cannot write " + sstr(what));
}

// The widget drawn at `size` into a PNG of size × ratio pixels.
QSize savePng(QWidget* widget, const QSize& size, double ratio, const QString& path)
{
    widget->resize(size);
    QImage image(size * ratio, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(ratio);
    image.fill(Qt::white);
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        widget->render(&painter);
    }
    if (!image.save(path, "PNG")) cannotWrite(path, QStringLiteral("the chart image"));
    return image.size();
}

} // namespace

std::vector<ReportChart> writeReportCharts(const Experiment& e, const QString& folder, const ReportChartOptions& options)
{
    const QDir dir(folder);
    if (!dir.mkpath(QStringLiteral("charts"))) cannotWrite(dir.filePath(QStringLiteral("charts")), QStringLiteral("the charts folder"));

    ChartsPanel panel;
    QStringList labels;
    for (const ExperimentRun& r : e.runs) labels << qstr(r.label);
    panel.setRuns(labels);
    for (std::size_t i = 0; i < e.runs.size(); ++i)
        if (e.runs[i].state != RunState::NotStarted) panel.addRecords(static_cast<int>(i), e.runs[i].records);
    panel.flush();

    std::vector<ReportChart> out;
    const QList<MetricChart*> charts = panel.charts();
    for (int i = 0; i < charts.size(); ++i) {
        const ChartSpec& spec = chartSpecs()[static_cast<std::size_t>(i)];
        MetricChart* chart = charts[i];
        ReportChart c;
        c.title = chart->title();
        c.caption = QObject::tr(spec.tooltip);
        c.stem = QStringLiteral("charts/") + QLatin1String(spec.exportStem);
        const QString base = dir.filePath(c.stem);
        c.pixels = savePng(chart, options.size, options.pixelRatio, base + QStringLiteral(".png"));
        if (!chart->exportSvg(base + QStringLiteral(".svg"))) cannotWrite(base + QStringLiteral(".svg"), QStringLiteral("the chart"));
        if (!chart->exportCsv(base + QStringLiteral(".csv"))) cannotWrite(base + QStringLiteral(".csv"), QStringLiteral("the chart's data"));
        out.push_back(c);
    }

    MemoryBreakdownChart memory;
    memory.showRuns(e.runs);
    if (memory.barCount() > 0) {
        ReportChart c;
        c.title = QObject::tr("Memory by kind");
        c.caption = QObject::tr("Weights, gradients, optimizer state and activations of each run: measured at its peak step "
                                "(counted at the allocator) above the estimate from shapes.");
        c.stem = QStringLiteral("memory-by-kind");
        c.svgAndCsv = false;
        // Tall enough for every pair of bars to keep its label.
        const QSize size(options.size.width(), std::max(280, 150 + 34 * memory.barCount()));
        c.pixels = savePng(&memory, size, options.pixelRatio, dir.filePath(QStringLiteral("memory-by-kind.png")));
        out.push_back(c);
    }
    return out;
}

} // namespace loralab::ui
