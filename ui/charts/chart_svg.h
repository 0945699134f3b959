// A chart as an SVG document, written by hand: Qt's SVG module is not among
// LoRA Lab's dependencies, and a chart of lines and markers needs little of
// it. The picture is what the chart shows: the visible series in their
// colours and line styles, the axes' ranges and ticks, titles and a legend.
#pragma once

#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>

#include <Qt>

namespace loralab::ui {

struct SvgSeries {
    QString name;
    QColor color;
    double width = 1.5;
    Qt::PenStyle style = Qt::SolidLine;
    bool markers = false; // points as circles (validation), not a line
    bool inLegend = true;
    QList<QPointF> points;
};

struct SvgChart {
    QString title;
    QString xTitle;
    QString yTitle;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    bool logY = false;
    int xTicks = 6, yTicks = 6;
    QList<SvgSeries> series;
};

QString chartToSvg(const SvgChart& chart, int width = 800, int height = 500);

} // namespace loralab::ui
