// MetricChart's zoom and pan: a dragged rectangle, the wheel about the
// cursor, middle- or Shift-drag, keys; see metric_chart.h.
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
constexpr double kWheelZoomStep = 0.85; // range factor per wheel notch
} // namespace

void MetricChart::resetZoom()
{
    m_userZoomed = false;
    chart()->zoomReset();
    rescale();
}

void MetricChart::markZoomed() { m_userZoomed = true; }

void MetricChart::wheelEvent(QWheelEvent* event)
{
    const double notches = event->angleDelta().y() / 120.0;
    if (notches == 0.0) return;
    const double factor = std::pow(kWheelZoomStep, notches);
    const QPointF pos = event->position();
    const QRectF area = chart()->plotArea();
    if (!area.contains(pos)) return;
    // Zoom about the cursor: the point under it stays where it is.
    const double fx = (pos.x() - area.left()) / area.width();
    const double fy = (area.bottom() - pos.y()) / area.height();
    const QRectF zoomed(area.left() + fx * area.width() * (1 - factor), area.top() + (1 - fy) * area.height() * (1 - factor),
                        area.width() * factor, area.height() * factor);
    chart()->zoomIn(zoomed);
    markZoomed();
    event->accept();
}

void MetricChart::mousePressEvent(QMouseEvent* event)
{
    const bool pan = event->button() == Qt::MiddleButton ||
                     (event->button() == Qt::LeftButton && event->modifiers().testFlag(Qt::ShiftModifier));
    if (pan) {
        m_panning = true;
        m_lastPan = event->pos();
        setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    if (event->button() == Qt::RightButton) {
        event->accept(); // the menu opens on release; QChartView would zoom out
        return;
    }
    m_rubberBanding = event->button() == Qt::LeftButton;
    QChartView::mousePressEvent(event);
}

void MetricChart::mouseMoveEvent(QMouseEvent* event)
{
    if (event->buttons() == Qt::NoButton) {
        const QString tip = tooltipAt(event->position());
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), tip, this);
    }
    if (m_panning) {
        const QPoint d = event->pos() - m_lastPan;
        m_lastPan = event->pos();
        chart()->scroll(-d.x(), d.y());
        markZoomed();
        event->accept();
        return;
    }
    QChartView::mouseMoveEvent(event);
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event)
{
    if (m_panning) {
        m_panning = false;
        unsetCursor();
        event->accept();
        return;
    }
    if (event->button() == Qt::RightButton) {
        showContextMenu(event->pos());
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
    if (m_rubberBanding && event->button() == Qt::LeftButton) markZoomed();
    m_rubberBanding = false;
}

void MetricChart::keyPressEvent(QKeyEvent* event)
{
    const QRectF area = chart()->plotArea();
    const qreal dx = area.width() / 10, dy = area.height() / 10;
    switch (event->key()) {
    case Qt::Key_Left: chart()->scroll(-dx, 0); break;
    case Qt::Key_Right: chart()->scroll(dx, 0); break;
    case Qt::Key_Up: chart()->scroll(0, dy); break;
    case Qt::Key_Down: chart()->scroll(0, -dy); break;
    case Qt::Key_Plus: chart()->zoom(1.25); break;
    case Qt::Key_Minus: chart()->zoom(0.8); break;
    case Qt::Key_0:
    case Qt::Key_Home: resetZoom(); return;
    default: QChartView::keyPressEvent(event); return;
    }
    markZoomed();
}

} // namespace loralab::ui
