// One chart of the Charts tab: series keyed by id, filled with whole point
// lists (QXYSeries::replace, called from the panel's refresh timer), axes
// that follow the data until the user zooms, zoom by rubber band or wheel,
// pan by middle-drag, Shift-drag or the arrow keys, an optional log-scale y
// axis, tooltips at the nearest real point (never a point interpolated on a
// line), and export as PNG, SVG or CSV of what is shown.
#pragma once

#include "ui/charts/chart_svg.h"

#include <QChartView>
#include <QHash>
#include <QList>
#include <QPen>
#include <QPointF>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>

class QAbstractAxis;
class QValueAxis;
class QXYSeries;

namespace loralab::ui {

class MetricChart : public QChartView {
    Q_OBJECT
public:
    MetricChart(const QString& title, const QString& yTitle, QWidget* parent = nullptr);

    // Series are created on first use; `name` is the legend text.
    void addLine(const QString& id, const QString& name, const QPen& pen, bool inLegend = true);
    void addScatter(const QString& id, const QString& name, const QColor& color, qreal size);
    bool hasSeries(const QString& id) const { return m_series.contains(id); }
    // Restyles an existing series (lines: pen; scatter: fill colour).
    void setPen(const QString& id, const QPen& pen);
    void setMarkerColor(const QString& id, const QColor& color);
    void setSeriesName(const QString& id, const QString& name);
    void setInLegend(const QString& id, bool visible);
    // `points` are drawn; `raw` (same x values, optional) are the values before
    // smoothing, which tooltips and the CSV export give beside them.
    void setPoints(const QString& id, const QList<QPointF>& points, const QList<QPointF>& raw = {});
    int pointCount(const QString& id) const; // points shown, for tests and status
    // Hidden series are not drawn, exported or used to fit the axes.
    void setSeriesVisible(const QString& id, bool visible);
    bool isSeriesVisible(const QString& id) const;
    QStringList seriesIds() const { return m_order; }
    void clear();

    void setXTitle(const QString& title);
    // How x values read in tooltips ("step 45", "1.2 M tokens", "3:05").
    void setXFormatter(std::function<QString(double)> format) { m_xFormat = std::move(format); }
    // The tooltip for the real point nearest `viewPos` (within a few pixels), or "".
    QString tooltipAt(const QPointF& viewPos) const;
    // Where the point (x, y) of the chart is drawn, in view coordinates.
    QPointF viewPosition(const QPointF& value) const;
    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    void setEmptyText(const QString& text);

    // Fits the axes to the data unless the user zoomed or panned.
    void rescale();
    void resetZoom();
    bool isZoomed() const { return m_userZoomed; }

    bool exportPng(const QString& path);
    bool exportSvg(const QString& path) const;
    bool exportCsv(const QString& path) const;
    SvgChart svgChart() const;
    QString title() const { return m_title; }

protected:
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void attach(QXYSeries* series, const QString& id, bool inLegend);
    void pushPoints(const QString& id);
    void showContextMenu(const QPoint& pos);
    void markZoomed();
    // The legend is drawn here rather than by QLegend: it wraps onto more
    // rows when needed and shows each series' line style.
    struct LegendItem {
        QString id;
        QRectF rect; // in view coordinates
    };
    void layoutLegend();
    void drawLegend(QPainter* painter);

    QString m_title;
    QString m_xTitle;
    QString m_emptyText;
    QValueAxis* m_x;
    QAbstractAxis* m_y;
    QHash<QString, QXYSeries*> m_series;
    QHash<QString, QList<QPointF>> m_points; // as given; log scale drops y <= 0 when shown
    QHash<QString, QList<QPointF>> m_raw;    // before smoothing, where it differs
    QSet<QString> m_hidden;
    std::function<QString(double)> m_xFormat;
    QStringList m_order;
    QSet<QString> m_hiddenFromLegend;
    QList<LegendItem> m_legend;
    bool m_log = false;
    bool m_userZoomed = false;
    bool m_panning = false;
    bool m_rubberBanding = false;
    QPoint m_lastPan;
};

} // namespace loralab::ui
