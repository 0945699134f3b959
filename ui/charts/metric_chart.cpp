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

namespace {

// Widens [lo, hi] to multiples of a 1-2-5 step giving about five intervals,
// so tick labels are round numbers that fit ("200", not "266.667").
void setNiceRange(QValueAxis* axis, double lo, double hi)
{
    const double span = std::max(hi - lo, 1e-12);
    const double raw = span / 5.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    const double niceLo = std::floor(lo / step + 1e-9) * step;
    const double niceHi = std::ceil(hi / step - 1e-9) * step;
    axis->setRange(niceLo, niceHi > niceLo ? niceHi : niceLo + step);
    axis->setTickCount(static_cast<int>(std::lround((axis->max() - axis->min()) / step)) + 1);
}

void styleAxis(QAbstractAxis* axis)
{
    QFont f = axis->labelsFont();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    axis->setLabelsFont(f);
    axis->setGridLineColor(QColor(0xe0, 0xe0, 0xe0));
}
} // namespace

MetricChart::MetricChart(const QString& title, const QString& yTitle, QWidget* parent)
    : QChartView(parent), m_title(title), m_emptyText(tr("Waiting for the first step…"))
{
    auto* c = new QChart;
    c->setTitle(title);
    QFont titleFont = c->titleFont();
    titleFont.setBold(true);
    c->setTitleFont(titleFont);
    c->setAnimationOptions(QChart::NoAnimation); // points arrive at 10 Hz; animation only lags
    c->legend()->hide(); // see drawLegend()
    c->setMargins(QMargins(4, 4, 4, 4));
    c->layout()->setContentsMargins(0, 0, 0, 0);
    c->setBackgroundRoundness(0);
    setChart(c);
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::RectangleRubberBand);
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true); // tooltips follow the pointer
    setMinimumSize(200, 150);

    m_x = new QValueAxis;
    m_x->setLabelFormat(QStringLiteral("%g"));
    m_x->setTitleText(tr("step"));
    styleAxis(m_x);
    c->addAxis(m_x, Qt::AlignBottom);
    auto* y = new QValueAxis;
    y->setLabelFormat(QStringLiteral("%g"));
    y->setTitleText(yTitle);
    styleAxis(y);
    c->addAxis(y, Qt::AlignLeft);
    m_y = y;
    m_xTitle = m_x->titleText();
}

void MetricChart::attach(QXYSeries* series, const QString& id, bool inLegend)
{
    chart()->addSeries(series);
    series->attachAxis(m_x);
    series->attachAxis(m_y);
    m_series.insert(id, series);
    m_order << id;
    if (!inLegend) m_hiddenFromLegend.insert(id);
    layoutLegend();
}

void MetricChart::addLine(const QString& id, const QString& name, const QPen& pen, bool inLegend)
{
    if (m_series.contains(id)) return;
    auto* s = new QLineSeries;
    s->setName(name);
    s->setPen(pen);
    attach(s, id, inLegend);
}

void MetricChart::addScatter(const QString& id, const QString& name, const QColor& color, qreal size)
{
    if (m_series.contains(id)) return;
    auto* s = new QScatterSeries;
    s->setName(name);
    s->setColor(color);
    s->setBorderColor(color.darker(140));
    s->setMarkerSize(size);
    attach(s, id, true);
}

void MetricChart::setPen(const QString& id, const QPen& pen)
{
    if (QXYSeries* s = m_series.value(id)) s->setPen(pen);
}

void MetricChart::setMarkerColor(const QString& id, const QColor& color)
{
    if (QXYSeries* s = m_series.value(id)) {
        s->setColor(color);
        if (auto* scatter = qobject_cast<QScatterSeries*>(s)) scatter->setBorderColor(color.darker(140));
    }
}

void MetricChart::setSeriesName(const QString& id, const QString& name)
{
    if (QXYSeries* s = m_series.value(id)) s->setName(name);
    layoutLegend();
}

void MetricChart::setInLegend(const QString& id, bool visible)
{
    if (visible)
        m_hiddenFromLegend.remove(id);
    else
        m_hiddenFromLegend.insert(id);
    layoutLegend();
}

void MetricChart::resizeEvent(QResizeEvent* event)
{
    QChartView::resizeEvent(event);
    layoutLegend();
}

void MetricChart::layoutLegend()
{
    constexpr qreal kSample = 22, kGap = 6, kSpacing = 14, kMargin = 6;
    const QFontMetricsF fm(font());
    const qreal rowHeight = fm.height() + 4;
    const qreal width = viewport()->width() - 2 * kMargin;
    QList<LegendItem> items;
    qreal x = 0;
    int row = 0;
    for (const QString& id : std::as_const(m_order)) {
        if (m_hiddenFromLegend.contains(id) || m_hidden.contains(id)) continue;
        const qreal w = kSample + kGap + fm.horizontalAdvance(m_series.value(id)->name());
        if (x > 0 && x + w > width) {
            x = 0;
            ++row;
        }
        items.append({id, QRectF(kMargin + x, row * rowHeight, w, rowHeight)});
        x += w + kSpacing;
    }
    const int rows = items.isEmpty() ? 0 : row + 1;
    // Rows are centred, then placed at the bottom, under the axis titles.
    const qreal top = viewport()->height() - rows * rowHeight - kMargin;
    for (int r = 0; r < rows; ++r) {
        qreal used = 0;
        for (const LegendItem& item : items)
            if (qFuzzyCompare(item.rect.top(), r * rowHeight)) used = item.rect.right() - kMargin;
        const qreal shift = (width - used) / 2;
        for (LegendItem& item : items)
            if (qFuzzyCompare(item.rect.top(), r * rowHeight)) item.rect.translate(shift, 0);
    }
    for (LegendItem& item : items) item.rect.translate(0, top);
    m_legend = items;
    const QMargins margins(4, 4, 4, 4 + static_cast<int>(rows * rowHeight));
    if (chart()->margins() != margins) chart()->setMargins(margins);
    viewport()->update();
}

void MetricChart::drawLegend(QPainter* painter)
{
    painter->save();
    painter->setFont(font());
    for (const LegendItem& item : std::as_const(m_legend)) {
        const QXYSeries* s = m_series.value(item.id);
        if (!s) continue;
        const qreal mid = item.rect.center().y();
        if (qobject_cast<const QScatterSeries*>(s)) {
            painter->setPen(QPen(s->color().darker(140), 1));
            painter->setBrush(s->color());
            painter->drawEllipse(QPointF(item.rect.left() + 11, mid), 4.5, 4.5);
        } else {
            QPen pen = s->pen();
            pen.setCosmetic(true);
            painter->setPen(pen);
            painter->drawLine(QPointF(item.rect.left(), mid), QPointF(item.rect.left() + 22, mid));
        }
        painter->setPen(palette().color(QPalette::WindowText));
        painter->drawText(QRectF(item.rect.left() + 28, item.rect.top(), item.rect.width() - 28, item.rect.height()),
                          Qt::AlignLeft | Qt::AlignVCenter, s->name());
    }
    painter->restore();
}

void MetricChart::setPoints(const QString& id, const QList<QPointF>& points, const QList<QPointF>& raw)
{
    if (!m_series.contains(id)) return;
    m_points.insert(id, points);
    if (raw.isEmpty())
        m_raw.remove(id);
    else
        m_raw.insert(id, raw);
    pushPoints(id);
}

void MetricChart::setSeriesVisible(const QString& id, bool visible)
{
    QXYSeries* s = m_series.value(id);
    if (!s || s->isVisible() == visible) return;
    s->setVisible(visible);
    if (visible)
        m_hidden.remove(id);
    else
        m_hidden.insert(id);
    layoutLegend();
}

bool MetricChart::isSeriesVisible(const QString& id) const { return m_series.contains(id) && !m_hidden.contains(id); }

QPointF MetricChart::viewPosition(const QPointF& value) const
{
    const QXYSeries* any = nullptr;
    for (const QXYSeries* s : std::as_const(m_series)) any = s;
    if (!any) return {};
    return mapFromScene(chart()->mapToScene(chart()->mapToPosition(value, const_cast<QXYSeries*>(any))));
}

QString MetricChart::tooltipAt(const QPointF& viewPos) const
{
    constexpr double kReach = 12.0; // pixels
    const QRectF area = chart()->plotArea();
    if (!area.adjusted(-kReach, -kReach, kReach, kReach).contains(viewPos)) return {};
    QString bestId;
    int bestIndex = -1;
    double bestDistance = kReach * kReach;
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        if (!it.value()->isVisible()) continue;
        const QList<QPointF>& points = m_points.value(it.key());
        if (points.isEmpty()) continue;
        // Points are in x order: look near the pointer's x only.
        const double x = chart()->mapToValue(chart()->mapFromScene(mapToScene(viewPos.toPoint())), it.value()).x();
        auto at = std::lower_bound(points.begin(), points.end(), x, [](const QPointF& p, double v) { return p.x() < v; });
        const int centre = static_cast<int>(at - points.begin());
        for (int i = std::max(0, centre - 3); i < std::min<int>(points.size(), centre + 3); ++i) {
            if (!std::isfinite(points[i].y()) || (m_log && points[i].y() <= 0)) continue;
            const QPointF d = viewPosition(points[i]) - viewPos;
            const double distance = d.x() * d.x() + d.y() * d.y();
            if (distance < bestDistance) {
                bestDistance = distance;
                bestId = it.key();
                bestIndex = i;
            }
        }
    }
    if (bestIndex < 0) return {};
    const QPointF p = m_points.value(bestId)[bestIndex];
    const QString x = m_xFormat ? m_xFormat(p.x()) : QStringLiteral("%1 %2").arg(m_xTitle).arg(p.x(), 0, 'g', 8);
    QString text = QStringLiteral("%1\n%2: %3").arg(m_series.value(bestId)->name(), x).arg(p.y(), 0, 'g', 5);
    const QList<QPointF>& raw = m_raw.value(bestId);
    if (bestIndex < raw.size() && raw[bestIndex].y() != p.y())
        text = QStringLiteral("%1\n%2: %3 (smoothed %4)").arg(m_series.value(bestId)->name(), x).arg(raw[bestIndex].y(), 0, 'g', 5).arg(p.y(), 0, 'g', 5);
    return text;
}

void MetricChart::pushPoints(const QString& id)
{
    const QList<QPointF>& points = m_points.value(id);
    // A line through one point draws nothing; show it as a marker until there are two.
    if (auto* line = qobject_cast<QLineSeries*>(m_series.value(id))) line->setPointsVisible(points.size() == 1);
    if (!m_log) {
        m_series.value(id)->replace(points);
        return;
    }
    QList<QPointF> positive;
    positive.reserve(points.size());
    for (const QPointF& p : points)
        if (p.y() > 0) positive.append(p);
    m_series.value(id)->replace(positive);
}

int MetricChart::pointCount(const QString& id) const
{
    const QXYSeries* s = m_series.value(id);
    return s ? s->count() : 0;
}

void MetricChart::clear()
{
    chart()->removeAllSeries();
    m_series.clear();
    m_points.clear();
    m_raw.clear();
    m_hidden.clear();
    m_order.clear();
    m_hiddenFromLegend.clear();
    layoutLegend();
    m_userZoomed = false;
    viewport()->update();
}

void MetricChart::setXTitle(const QString& title)
{
    m_xTitle = title;
    m_x->setTitleText(title);
}

void MetricChart::setEmptyText(const QString& text)
{
    m_emptyText = text;
    viewport()->update();
}

void MetricChart::setLogScale(bool on)
{
    if (on == m_log) return;
    m_log = on;
    const QString title = m_y->titleText();
    QAbstractAxis* axis = nullptr;
    if (on) {
        auto* log = new QLogValueAxis;
        log->setBase(10.0);
        log->setLabelFormat(QStringLiteral("%.3g"));
        log->setMinorTickCount(-1); // Qt picks minor ticks per decade
        axis = log;
    } else {
        auto* lin = new QValueAxis;
        lin->setLabelFormat(QStringLiteral("%g"));
        axis = lin;
    }
    axis->setTitleText(title);
    styleAxis(axis);
    chart()->removeAxis(m_y);
    delete m_y;
    m_y = axis;
    chart()->addAxis(m_y, Qt::AlignLeft);
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        it.value()->attachAxis(m_y);
        pushPoints(it.key());
    }
    m_userZoomed = false;
    rescale();
}

void MetricChart::rescale()
{
    if (m_userZoomed) return;
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    for (const QXYSeries* s : std::as_const(m_series)) {
        if (!s->isVisible()) continue;
        for (const QPointF& p : s->points()) {
            if (!std::isfinite(p.x()) || !std::isfinite(p.y())) continue;
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    }
    if (!(x0 <= x1)) {
        m_x->setRange(0, 1);
        m_y->setRange(m_log ? 0.1 : 0.0, 1.0);
        viewport()->update();
        return;
    }
    if (x1 - x0 < 1e-12) { // one x value: centre it
        x0 -= 1;
        x1 += 1;
    }
    setNiceRange(m_x, x0, x1);
    if (m_log) {
        const double lo = std::pow(10.0, std::floor(std::log10(y0)));
        const double hi = std::pow(10.0, std::ceil(std::log10(y1 * 1.0001)));
        m_y->setRange(lo, hi > lo ? hi : lo * 10);
    } else {
        const double pad = (y1 - y0) > 1e-12 ? 0.06 * (y1 - y0) : std::max(std::fabs(y1) * 0.1, 1e-3);
        // Times, memory and throughput start at zero; loss does not need to.
        const double lower = y0 >= 0 && y0 - pad < 0 ? 0.0 : y0 - pad;
        setNiceRange(static_cast<QValueAxis*>(m_y), lower, y1 + pad);
    }
    viewport()->update();
}

void MetricChart::drawForeground(QPainter* painter, const QRectF& rect)
{
    QChartView::drawForeground(painter, rect);
    // The scene is the view here (the chart fills it), so view coordinates work.
    drawLegend(painter);
    for (const QXYSeries* s : std::as_const(m_series))
        if (s->count() > 0) return;
    painter->save();
    painter->setPen(palette().color(QPalette::PlaceholderText));
    painter->drawText(chart()->plotArea(), Qt::AlignCenter | Qt::TextWordWrap, m_emptyText);
    painter->restore();
}

} // namespace loralab::ui
