#include "ui/dataset/length_histogram.h"

#include "ui/config/config_widgets.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCursor>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace loralab::ui {

namespace {
constexpr int kMaxBins = 16;
}

LengthHistogram::LengthHistogram(QWidget* parent) : QChartView(parent)
{
    auto* c = new QChart;
    c->setAnimationOptions(QChart::NoAnimation);
    c->legend()->hide();
    c->setMargins(QMargins(2, 2, 2, 2));
    c->setBackgroundRoundness(0);
    setChart(c);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(150);
}

void LengthHistogram::setLengths(const std::vector<std::int64_t>& lengths, std::int64_t maxLen)
{
    QChart* c = chart();
    c->removeAllSeries();
    for (QAbstractAxis* a : c->axes()) {
        c->removeAxis(a);
        delete a;
    }
    m_bins = 0;
    if (lengths.empty()) {
        c->setTitle(tr("Tokens per example: no examples"));
        return;
    }
    const std::int64_t longest = std::max<std::int64_t>(*std::max_element(lengths.begin(), lengths.end()), 1);
    // Bin widths of a round size, so the labels read well.
    const double raw = double(longest + 1) / kMaxBins;
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
    std::int64_t width = static_cast<std::int64_t>(magnitude);
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            width = static_cast<std::int64_t>(m * magnitude);
            break;
        }
    width = std::max<std::int64_t>(width, 1);
    m_bins = static_cast<int>(longest / width + 1);
    std::vector<int> counts(m_bins, 0);
    std::int64_t atMax = 0;
    for (std::int64_t l : lengths) {
        ++counts[static_cast<std::size_t>(std::min<std::int64_t>(l / width, m_bins - 1))];
        if (maxLen > 0 && l >= maxLen) ++atMax;
    }
    auto* set = new QBarSet(tr("examples"));
    set->setColor(QColor(0x1f, 0x77, 0xb4));
    set->setBorderColor(QColor(0x1f, 0x77, 0xb4).darker(120));
    QStringList labels;
    int highest = 0;
    for (int i = 0; i < m_bins; ++i) {
        *set << counts[i];
        highest = std::max(highest, counts[i]);
        labels << QString::number(i * width); // the bin's first length; the tooltip gives the range
    }
    connect(set, &QBarSet::hovered, this, [this, width, counts](bool status, int index) {
        if (!status || index < 0 || index >= static_cast<int>(counts.size())) return;
        QToolTip::showText(QCursor::pos(), tr("%1–%2 tokens: %3")
                                               .arg(index * width)
                                               .arg((index + 1) * width - 1)
                                               .arg(countText(counts[static_cast<std::size_t>(index)], tr("example"), tr("examples"))),
                           this);
    });
    auto* series = new QBarSeries;
    series->setBarWidth(0.95);
    series->append(set);
    c->addSeries(series);
    auto* x = new QBarCategoryAxis;
    x->append(labels);
    x->setTitleText(width == 1 ? tr("tokens") : tr("tokens (bins of %1, labelled by their start)").arg(width));
    QFont f = x->labelsFont();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    x->setLabelsFont(f);
    x->setLabelsAngle(m_bins > 12 ? -45 : 0);
    c->addAxis(x, Qt::AlignBottom);
    series->attachAxis(x);
    auto* y = new QValueAxis;
    y->setRange(0, std::max(1, highest));
    y->applyNiceNumbers(); // round tick labels
    y->setLabelFormat(QStringLiteral("%.0f"));
    y->setTitleText(tr("examples"));
    c->addAxis(y, Qt::AlignLeft);
    series->attachAxis(y);

    QString title = tr("Tokens per example (%1 examples, longest %2)").arg(lengths.size()).arg(longest);
    if (atMax > 0) title += tr(" · %1 cut at max_len %2").arg(atMax).arg(maxLen);
    c->setTitle(title);
}

} // namespace loralab::ui
