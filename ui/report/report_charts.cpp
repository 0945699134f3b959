#include "ui/report/report_charts.h"

#include "ui/charts/chart_specs.h"
#include "ui/charts/charts_panel.h"
#include "ui/charts/memory_breakdown_chart.h"
#include "ui/charts/metric_chart.h"

#include "engine/util/error.h"

#include <QDir>
#include <QCoreApplication>
#include <QImage>
#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>

#include <algorithm>

namespace loralab::ui {

namespace {

[[noreturn]] void cannotWrite(const QString& path, const QString& what)
{
    throw Error(sstr(QDir::toNativeSeparators(path)) + ": cannot write " + sstr(what));
}

// Which colour is which run, as the Charts tab's run legend says it (without
// its check boxes): one line of coloured squares and labels.
QLabel* runLegend(const Experiment& e)
{
    QStringList items;
    for (std::size_t i = 0; i < e.runs.size(); ++i)
        items << QStringLiteral("<span style='color:%1'>&#9632;</span>&nbsp;%2")
                     .arg(paletteColour(static_cast<int>(i)).name(), qstr(e.runs[i].label).toHtmlEscaped());
    auto* label = new QLabel(items.join(QStringLiteral("&nbsp;&nbsp;&nbsp; ")));
    label->setTextFormat(Qt::RichText);
    label->setWordWrap(true);
    label->setAlignment(Qt::AlignHCenter);
    label->setContentsMargins(8, 2, 8, 0);
    return label;
}

// A frame laid out and drawn as on screen but never shown there, so its
// widgets get their real size (a hidden widget would keep its old one).
class Frame {
public:
    explicit Frame(QLabel* legend)
    {
        m_widget.setAttribute(Qt::WA_DontShowOnScreen);
        m_widget.setAutoFillBackground(true);
        QPalette p = m_widget.palette();
        p.setColor(QPalette::Window, Qt::white);
        m_widget.setPalette(p);
        m_layout = new QVBoxLayout(&m_widget);
        m_layout->setContentsMargins(0, 4, 0, 0);
        m_layout->setSpacing(0);
        if (legend) m_layout->addWidget(legend);
    }

    // `content` drawn (with the legend above it) at `size` into a PNG of size × ratio pixels.
    QSize save(QWidget* content, const QSize& size, double ratio, const QString& path)
    {
        content->setParent(&m_widget);
        m_layout->addWidget(content, 1);
        content->show();
        m_widget.resize(size);
        m_widget.show();
        m_layout->activate();
        QCoreApplication::sendPostedEvents();
        QImage image(size * ratio, QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(ratio);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            painter.setRenderHint(QPainter::Antialiasing);
            m_widget.render(&painter);
        }
        m_layout->removeWidget(content);
        content->hide();
        if (!image.save(path, "PNG")) cannotWrite(path, QStringLiteral("the chart image"));
        return image.size();
    }

    QWidget* widget() { return &m_widget; }

private:
    QWidget m_widget;
    QVBoxLayout* m_layout;
};

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
    // The charts move into the frame to be drawn; it owns them from then on.
    Frame frame(e.runs.size() > 1 ? runLegend(e) : nullptr);

    std::vector<ReportChart> out;
    const QList<MetricChart*> charts = panel.charts();
    for (int i = 0; i < charts.size(); ++i) {
        const ChartSpec& spec = chartSpecs()[static_cast<std::size_t>(i)];
        MetricChart* chart = charts[i];
        ReportChart c;
        c.title = chart->title();
        c.caption = QCoreApplication::translate("ChartsPanel", spec.caption);
        c.stem = QStringLiteral("charts/") + QLatin1String(spec.exportStem);
        const QString base = dir.filePath(c.stem);
        c.pixels = frame.save(chart, options.size, options.pixelRatio, base + QStringLiteral(".png"));
        if (!chart->exportSvg(base + QStringLiteral(".svg"))) cannotWrite(base + QStringLiteral(".svg"), QStringLiteral("the chart"));
        if (!chart->exportCsv(base + QStringLiteral(".csv"))) cannotWrite(base + QStringLiteral(".csv"), QStringLiteral("the chart's data"));
        out.push_back(c);
    }

    Frame bars(nullptr);
    auto* memory = new MemoryBreakdownChart(bars.widget());
    memory->hide();
    memory->showRuns(e.runs);
    if (memory->barCount() > 0) {
        ReportChart c;
        c.title = QObject::tr("Memory by kind");
        c.caption = QObject::tr("Weights, gradients, optimizer state and activations of each run: measured at its peak step "
                                "(counted at the allocator) above the estimate from shapes.");
        c.stem = QStringLiteral("memory-by-kind");
        c.svgAndCsv = false;
        // Tall enough for every pair of bars to keep its label.
        const QSize size(options.size.width(), std::max(280, 150 + 34 * memory->barCount()));
        c.pixels = bars.save(memory, size, options.pixelRatio, dir.filePath(c.stem + QStringLiteral(".png")));
        out.push_back(c);
    }
    return out;
}

} // namespace loralab::ui
