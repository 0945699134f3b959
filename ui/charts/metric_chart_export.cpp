// MetricChart's exports (PNG, SVG, CSV) and its context menu; see metric_chart.h.
#include "ui/charts/metric_chart.h"
#include <QFile>
#include <QFileDialog>
#include <QLegendMarker>
#include <QLogValueAxis>
#include <QMenu>
#include <QScatterSeries>
#include <QLineSeries>
#include <QTextStream>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>
#include <cmath>
#include <limits>

namespace loralab::ui {

void MetricChart::showContextMenu(const QPoint& pos)
{
    QMenu menu(this);
    menu.addAction(tr("Reset zoom"), this, &MetricChart::resetZoom);
    menu.addSeparator();
    menu.addAction(tr("Export as PNG…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), m_title + QStringLiteral(".png"),
                                                          tr("PNG images (*.png)"));
        if (!path.isEmpty()) exportPng(path);
    });
    menu.addAction(tr("Export as SVG…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), m_title + QStringLiteral(".svg"),
                                                          tr("SVG images (*.svg)"));
        if (!path.isEmpty()) exportSvg(path);
    });
    menu.addAction(tr("Export data as CSV…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart data"), m_title + QStringLiteral(".csv"),
                                                          tr("CSV files (*.csv)"));
        if (!path.isEmpty()) exportCsv(path);
    });
    menu.exec(mapToGlobal(pos));
}

bool MetricChart::exportPng(const QString& path) { return grab().save(path, "PNG"); }

SvgChart MetricChart::svgChart() const
{
    SvgChart c;
    c.title = m_title;
    c.xTitle = m_xTitle;
    c.yTitle = m_y->titleText();
    c.x0 = m_x->min();
    c.x1 = m_x->max();
    c.xTicks = m_x->tickCount();
    c.logY = m_log;
    if (const auto* lin = qobject_cast<const QValueAxis*>(m_y)) {
        c.y0 = lin->min();
        c.y1 = lin->max();
        c.yTicks = lin->tickCount();
    } else if (const auto* log = qobject_cast<const QLogValueAxis*>(m_y)) {
        c.y0 = log->min();
        c.y1 = log->max();
        c.yTicks = static_cast<int>(std::lround(std::log10(c.y1 / c.y0))) + 1;
    }
    for (const QString& id : m_order) {
        const QXYSeries* s = m_series.value(id);
        if (!s->isVisible()) continue;
        SvgSeries out;
        out.name = s->name();
        out.markers = qobject_cast<const QScatterSeries*>(s) != nullptr;
        out.color = out.markers ? s->color() : s->pen().color();
        out.width = out.markers ? 1.0 : std::max<qreal>(1.0, s->pen().widthF());
        out.style = s->pen().style();
        out.inLegend = !m_hiddenFromLegend.contains(id);
        out.points = m_points.value(id);
        c.series << out;
    }
    return c;
}

bool MetricChart::exportSvg(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    return file.write(chartToSvg(svgChart()).toUtf8()) > 0;
}

bool MetricChart::exportCsv(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    QTextStream out(&file);
    const auto quote = [](QString s) { return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"'); };
    // Long format: series differ in length and x values, so one row per point;
    // what is drawn (smoothed) and the value recorded, for visible series.
    out << "series," << quote(m_xTitle) << ',' << quote(m_y->titleText() + QStringLiteral(" (shown)")) << ','
        << quote(m_y->titleText() + QStringLiteral(" (recorded)")) << '\n';
    for (const QString& id : m_order) {
        if (!m_series.value(id)->isVisible()) continue;
        const QString name = quote(m_series.value(id)->name());
        const QList<QPointF>& points = m_points.value(id);
        const QList<QPointF>& raw = m_raw.value(id);
        for (int i = 0; i < points.size(); ++i) {
            const double recorded = i < raw.size() ? raw[i].y() : points[i].y();
            out << name << ',' << QString::number(points[i].x(), 'g', 10) << ',' << QString::number(points[i].y(), 'g', 10)
                << ',' << QString::number(recorded, 'g', 10) << '\n';
        }
    }
    return out.status() == QTextStream::Ok;
}

} // namespace loralab::ui
