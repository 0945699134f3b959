#include "ui/charts/run_legend.h"

#include "ui/flow_layout.h"

#include <QCheckBox>
#include <QPainter>
#include <QPixmap>

namespace loralab::ui {

namespace {
QIcon swatch(const QColor& color)
{
    QPixmap pixmap(22, 10);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(color, 3));
    p.drawLine(1, 5, 21, 5);
    return QIcon(pixmap);
}
} // namespace

RunLegend::RunLegend(QWidget* parent) : QWidget(parent), m_layout(new FlowLayout(this, 14))
{
    setObjectName(QStringLiteral("runLegend"));
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
}

void RunLegend::setRuns(const QStringList& labels, const QList<QColor>& colors)
{
    qDeleteAll(m_boxes);
    m_boxes.clear();
    for (int i = 0; i < labels.size(); ++i) {
        auto* box = new QCheckBox(labels[i]);
        box->setObjectName(QStringLiteral("runVisible%1").arg(i));
        box->setChecked(true);
        box->setIcon(swatch(colors.value(i)));
        box->setToolTip(tr("Show or hide this run on every chart"));
        connect(box, &QCheckBox::toggled, this, [this, i](bool on) { emit visibilityChanged(i, on); });
        m_layout->addWidget(box);
        m_boxes << box;
    }
    // One run needs no legend: the chart legends name its quantities.
    setVisible(labels.size() > 1);
    updateGeometry();
}

void RunLegend::setLabel(int run, const QString& label)
{
    if (run >= 0 && run < m_boxes.size()) m_boxes[run]->setText(label);
}

bool RunLegend::isRunVisible(int run) const { return run < 0 || run >= m_boxes.size() || m_boxes[run]->isChecked(); }

void RunLegend::setRunVisible(int run, bool visible)
{
    if (run >= 0 && run < m_boxes.size()) m_boxes[run]->setChecked(visible);
}

} // namespace loralab::ui
