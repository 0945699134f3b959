#include "ui/charts/chart_svg.h"

#include <QStringList>

#include <cmath>

namespace loralab::ui {

namespace {

QString esc(QString s)
{
    return s.replace('&', QStringLiteral("&amp;")).replace('<', QStringLiteral("&lt;")).replace('>', QStringLiteral("&gt;"));
}

QString num(double v) { return QString::number(v, 'f', 2); }

QString dash(Qt::PenStyle style, double width)
{
    switch (style) {
    case Qt::DashLine: return QStringLiteral(" stroke-dasharray=\"%1,%2\"").arg(num(4 * width), num(2 * width));
    case Qt::DotLine: return QStringLiteral(" stroke-dasharray=\"%1,%2\"").arg(num(width), num(2 * width));
    default: return {};
    }
}

} // namespace

QString chartToSvg(const SvgChart& c, int width, int height)
{
    const double left = 70, right = 16, top = 34;
    int legendRows = 0;
    for (const SvgSeries& s : c.series) legendRows += s.inLegend;
    const double legendHeight = 16.0 * ((legendRows + 2) / 3);
    const double bottom = 46 + legendHeight;
    const double plotW = width - left - right, plotH = height - top - bottom;
    const auto ly = [&](double y) { return c.logY ? std::log10(std::max(y, 1e-300)) : y; };
    const double yLo = ly(c.y0), yHi = ly(c.y1);
    const auto px = [&](double x) { return left + (x - c.x0) / std::max(c.x1 - c.x0, 1e-300) * plotW; };
    const auto py = [&](double y) { return top + plotH - (ly(y) - yLo) / std::max(yHi - yLo, 1e-300) * plotH; };

    QStringList out;
    out << QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        << QStringLiteral("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%1\" height=\"%2\" viewBox=\"0 0 %1 %2\" "
                          "font-family=\"sans-serif\" font-size=\"11\">")
               .arg(width)
               .arg(height)
        << QStringLiteral("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        << QStringLiteral("<text x=\"%1\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"13\">%2</text>")
               .arg(num(width / 2.0), esc(c.title));
    // Grid and tick labels.
    for (int i = 0; i < c.xTicks; ++i) {
        const double v = c.x0 + (c.x1 - c.x0) * i / std::max(1, c.xTicks - 1);
        out << QStringLiteral("<line x1=\"%1\" y1=\"%2\" x2=\"%1\" y2=\"%3\" stroke=\"#e0e0e0\"/>").arg(num(px(v)), num(top), num(top + plotH))
            << QStringLiteral("<text x=\"%1\" y=\"%2\" text-anchor=\"middle\">%3</text>")
                   .arg(num(px(v)), num(top + plotH + 14), QString::number(v, 'g', 6));
    }
    for (int i = 0; i < c.yTicks; ++i) {
        const double t = yLo + (yHi - yLo) * i / std::max(1, c.yTicks - 1);
        const double v = c.logY ? std::pow(10.0, t) : t;
        out << QStringLiteral("<line x1=\"%1\" y1=\"%2\" x2=\"%3\" y2=\"%2\" stroke=\"#e0e0e0\"/>").arg(num(left), num(py(v)), num(left + plotW))
            << QStringLiteral("<text x=\"%1\" y=\"%2\" text-anchor=\"end\">%3</text>")
                   .arg(num(left - 4), num(py(v) + 4), QString::number(v, 'g', 5));
    }
    out << QStringLiteral("<rect x=\"%1\" y=\"%2\" width=\"%3\" height=\"%4\" fill=\"none\" stroke=\"#9e9e9e\"/>")
               .arg(num(left), num(top), num(plotW), num(plotH))
        << QStringLiteral("<text x=\"%1\" y=\"%2\" text-anchor=\"middle\">%3</text>")
               .arg(num(left + plotW / 2), num(top + plotH + 30), esc(c.xTitle))
        << QStringLiteral("<text transform=\"translate(14,%1) rotate(-90)\" text-anchor=\"middle\">%2</text>")
               .arg(num(top + plotH / 2), esc(c.yTitle));
    // Series, clipped to the plot area.
    out << QStringLiteral("<clipPath id=\"plot\"><rect x=\"%1\" y=\"%2\" width=\"%3\" height=\"%4\"/></clipPath><g clip-path=\"url(#plot)\">")
               .arg(num(left), num(top), num(plotW), num(plotH));
    for (const SvgSeries& s : c.series) {
        if (s.points.isEmpty()) continue;
        const QString colour = s.color.name(QColor::HexRgb);
        const QString opacity = s.color.alphaF() < 1 ? QStringLiteral(" opacity=\"%1\"").arg(num(s.color.alphaF())) : QString();
        if (s.markers) {
            for (const QPointF& p : s.points)
                if (std::isfinite(p.y()))
                    out << QStringLiteral("<circle cx=\"%1\" cy=\"%2\" r=\"4\" fill=\"%3\" stroke=\"%4\"%5/>")
                               .arg(num(px(p.x())), num(py(p.y())), colour, s.color.darker(140).name(), opacity);
            continue;
        }
        QStringList coords;
        for (const QPointF& p : s.points)
            if (std::isfinite(p.y()) && (!c.logY || p.y() > 0)) coords << num(px(p.x())) + QLatin1Char(',') + num(py(p.y()));
        out << QStringLiteral("<polyline fill=\"none\" stroke=\"%1\" stroke-width=\"%2\"%3%4 points=\"%5\"/>")
                   .arg(colour, num(s.width), dash(s.style, s.width), opacity, coords.join(QLatin1Char(' ')));
    }
    out << QStringLiteral("</g>");
    // Legend: three entries a row under the x axis title.
    int i = 0;
    for (const SvgSeries& s : c.series) {
        if (!s.inLegend) continue;
        const double x = left + (i % 3) * plotW / 3, y = top + plotH + 44 + 16.0 * (i / 3);
        const QString colour = s.color.name(QColor::HexRgb);
        if (s.markers)
            out << QStringLiteral("<circle cx=\"%1\" cy=\"%2\" r=\"4\" fill=\"%3\"/>").arg(num(x + 11), num(y - 4), colour);
        else
            out << QStringLiteral("<line x1=\"%1\" y1=\"%2\" x2=\"%3\" y2=\"%2\" stroke=\"%4\" stroke-width=\"%5\"%6/>")
                       .arg(num(x), num(y - 4), num(x + 22), colour, num(s.width), dash(s.style, s.width));
        out << QStringLiteral("<text x=\"%1\" y=\"%2\">%3</text>").arg(num(x + 28), num(y), esc(s.name));
        ++i;
    }
    out << QStringLiteral("</svg>");
    return out.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

} // namespace loralab::ui
