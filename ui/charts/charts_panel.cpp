#include "ui/charts/charts_panel.h"

#include "ui/config/config_widgets.h"
#include "ui/charts/chart_specs.h"
#include "ui/charts/metric_chart.h"
#include "ui/charts/run_legend.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QToolButton>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

namespace loralab::ui {

namespace {

constexpr int kRefreshMs = 100;

QString xValueText(ChartsPanel::XAxis axis, double x)
{
    switch (axis) {
    case ChartsPanel::XAxis::Tokens: return QObject::tr("%1 tokens").arg(formatCount(static_cast<qint64>(std::llround(x))));
    case ChartsPanel::XAxis::WallTime: return QObject::tr("%1 into the run").arg(formatDuration(x));
    case ChartsPanel::XAxis::Step: break;
    }
    return QObject::tr("step %1").arg(static_cast<qint64>(std::llround(x)));
}
} // namespace

QString ChartsPanel::seriesId(int run, const QString& quantity) { return QStringLiteral("run%1/%2").arg(run).arg(quantity); }

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Smoothing")));
    m_smoothing = new QSlider(Qt::Horizontal);
    m_smoothing->setObjectName(QStringLiteral("smoothing"));
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(60);
    m_smoothing->setMinimumWidth(80);
    m_smoothing->setMaximumWidth(140);
    m_smoothing->setToolTip(tr("Exponential moving average on every chart (0: the recorded values); "
                               "tooltips and the CSV export give the recorded values too"));
    bar->addWidget(m_smoothing);
    m_smoothingValue = new QLabel;
    m_smoothingValue->setMinimumWidth(28);
    bar->addWidget(m_smoothingValue);
    m_logScale = new QCheckBox(tr("Log-scale loss"));
    m_logScale->setObjectName(QStringLiteral("logScale"));
    bar->addWidget(m_logScale);
    bar->addSpacing(8);
    bar->addWidget(new QLabel(tr("x axis")));
    m_xAxis = new QComboBox;
    m_xAxis->setObjectName(QStringLiteral("xAxis"));
    m_xAxis->addItems({tr("Step"), tr("Tokens seen"), tr("Wall time")});
    m_xAxis->setToolTip(tr("Wall time counts training, evaluations and checkpoints, not pauses"));
    bar->addWidget(m_xAxis);
    auto* reset = new QPushButton(tr("Reset zoom"));
    reset->setToolTip(tr("Drag a rectangle to zoom, use the wheel to zoom about the cursor, "
                         "middle- or Shift-drag to pan; right-click a chart to export it"));
    bar->addWidget(reset);
    auto* exportButton = new QToolButton;
    exportButton->setText(tr("Export"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto* exportMenu = new QMenu(exportButton);
    exportMenu->addAction(tr("All charts as PNG, SVG and CSV…"), this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Export charts to"));
        QString error;
        if (!folder.isEmpty() && !exportAll(folder, &error)) QMessageBox::warning(this, tr("Export"), error);
    });
    exportButton->setMenu(exportMenu);
    bar->addWidget(exportButton);
    m_last = new QLabel;
    m_last->setObjectName(QStringLiteral("lastStep"));
    m_last->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    // A long line is cut rather than squeezing the controls.
    m_last->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_last, 1);
    layout->addLayout(bar);

    m_legend = new RunLegend;
    connect(m_legend, &RunLegend::visibilityChanged, this, &ChartsPanel::setRunVisible);
    layout->addWidget(m_legend);

    for (const ChartSpec& spec : chartSpecs()) {
        auto* chart = new MetricChart(tr(spec.title), tr(spec.yTitle));
        chart->setObjectName(QLatin1String(spec.objectName));
        if (*spec.tooltip) chart->setToolTip(tr(spec.tooltip));
        m_charts.push_back(chart);
    }
    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    const QList<MetricChart*> all = charts();
    for (int i = 0; i < all.size(); ++i) grid->addWidget(all[i], i / 3, i % 3);
    layout->addLayout(grid, 1);

    connect(m_smoothing, &QSlider::valueChanged, this, &ChartsPanel::markAllDirty);
    connect(m_logScale, &QCheckBox::toggled, lossChart(), &MetricChart::setLogScale);
    connect(m_xAxis, &QComboBox::currentIndexChanged, this, &ChartsPanel::applyXAxis);
    connect(reset, &QPushButton::clicked, this, &ChartsPanel::resetZoom);

    m_refresh.setInterval(kRefreshMs);
    connect(&m_refresh, &QTimer::timeout, this, &ChartsPanel::flush);
    m_refresh.start();
    applyXAxis();
}

double ChartsPanel::smoothing() const { return m_smoothing->value() / 100.0; }
void ChartsPanel::setSmoothing(double weight) { m_smoothing->setValue(static_cast<int>(std::lround(weight * 100))); }
ChartsPanel::XAxis ChartsPanel::xAxis() const { return static_cast<XAxis>(m_xAxis->currentIndex()); }
void ChartsPanel::setXAxis(XAxis axis) { m_xAxis->setCurrentIndex(static_cast<int>(axis)); }

void ChartsPanel::applyXAxis()
{
    const XAxis axis = xAxis();
    const QString title = axis == XAxis::Tokens ? tr("tokens seen") : axis == XAxis::WallTime ? tr("seconds") : tr("step");
    for (MetricChart* c : charts()) {
        c->setXTitle(title);
        c->setXFormatter([axis](double x) { return xValueText(axis, x); });
        c->resetZoom();
    }
    markAllDirty();
}

void ChartsPanel::clear()
{
    m_traces.clear();
    for (MetricChart* c : charts()) c->clear();
    m_legend->setRuns({}, {});
    m_last->clear();
    m_lastRun = -1;
    m_dirty = false;
}

void ChartsPanel::setRuns(const QStringList& labels)
{
    clear();
    QList<QColor> colors;
    for (int i = 0; i < labels.size(); ++i) {
        Trace t;
        t.label = labels[i].isEmpty() ? tr("run %1").arg(i + 1) : labels[i];
        t.color = paletteColour(i);
        colors << t.color;
        m_traces.push_back(std::move(t));
    }
    for (int i = 0; i < labels.size(); ++i) createSeries(i);
    m_legend->setRuns(labels, colors);
    restyle();
}

void ChartsPanel::setRunLabel(int run, const QString& label)
{
    if (Trace* t = trace(run)) {
        t->label = label;
        m_legend->setLabel(run, label);
        restyle();
    }
}

ChartsPanel::Trace* ChartsPanel::trace(int run)
{
    return run >= 0 && run < runCount() ? &m_traces[static_cast<std::size_t>(run)] : nullptr;
}

void ChartsPanel::createSeries(int run)
{
    const QPen any = chartPen(Qt::black, 1.0);
    for (std::size_t c = 0; c < chartSpecs().size(); ++c)
        for (const SeriesSpec& q : chartSpecs()[c].series) {
            const QString id = seriesId(run, QLatin1String(q.id));
            if (q.look == SeriesSpec::Look::Scatter)
                m_charts[c]->addScatter(id, tr(q.name), Qt::red, q.width);
            else
                m_charts[c]->addLine(id, tr(q.name), any, q.look != SeriesSpec::Look::Faint);
        }
}

void ChartsPanel::restyle()
{
    // One run: each quantity its own colour, named in each chart's legend.
    // Several: each run keeps its colour (the run legend names it), quantities
    // differ by line style, and the chart legends show the styles in grey.
    const bool single = m_traces.size() <= 1;
    for (std::size_t c = 0; c < chartSpecs().size(); ++c) {
        MetricChart* chart = m_charts[c];
        for (const QString& id : chart->seriesIds())
            if (id.startsWith(QLatin1String("style/"))) chart->setInLegend(id, !single);
        if (single) continue;
        for (const SeriesSpec& q : chartSpecs()[c].series) {
            const QString id = QStringLiteral("style/") + QLatin1String(q.id);
            if (!q.styleEntry || chart->hasSeries(id)) continue;
            if (q.look == SeriesSpec::Look::Scatter)
                chart->addScatter(id, tr(q.name), kNeutralColour, q.width);
            else
                chart->addLine(id, tr(q.name), chartPen(kNeutralColour, 2.0, q.style), true);
        }
    }
    for (int run = 0; run < runCount(); ++run) {
        const Trace& t = m_traces[static_cast<std::size_t>(run)];
        for (std::size_t c = 0; c < chartSpecs().size(); ++c)
            for (const SeriesSpec& q : chartSpecs()[c].series) {
                MetricChart* chart = m_charts[c];
                const QString id = seriesId(run, QLatin1String(q.id));
                const QColor base = single ? (q.singleColour < 0 ? kNeutralColour : paletteColour(q.singleColour))
                                           : (q.lighterShared ? t.color.lighter(120) : t.color);
                chart->setInLegend(id, single && q.look != SeriesSpec::Look::Faint);
                chart->setSeriesName(id, single ? tr(q.name) : t.label + QStringLiteral(" · ") + tr(q.name));
                if (q.look == SeriesSpec::Look::Scatter)
                    chart->setMarkerColor(id, single ? kValidationColour : t.color.darker(115));
                else if (q.look == SeriesSpec::Look::Faint)
                    chart->setPen(id, chartPen(faded(base), q.width));
                else
                    chart->setPen(id, chartPen(base, q.width, single && !q.styledAlone ? Qt::SolidLine : q.style));
            }
    }
}

void ChartsPanel::addStep(int run, const StepRecord& r)
{
    Trace* t = trace(run);
    if (!t) return;
    // A continued run repeats the steps after its last checkpoint.
    while (!t->steps.empty() && t->steps.back().step >= r.step) t->steps.pop_back();
    while (!t->evals.empty() && t->evals.back().step >= r.step) t->evals.pop_back();
    t->steps.push_back(r);
    t->dirty = m_dirty = true;
    m_lastRun = run;
}

void ChartsPanel::addEval(int run, const EvalRecord& r)
{
    Trace* t = trace(run);
    if (!t) return;
    while (!t->evals.empty() && t->evals.back().step >= r.step) t->evals.pop_back();
    t->evals.push_back(r);
    t->dirty = m_dirty = true;
}

void ChartsPanel::addRecords(int run, const RunRecords& records)
{
    for (const StepRecord& r : records.steps) addStep(run, r);
    for (const EvalRecord& r : records.evals) addEval(run, r);
}

void ChartsPanel::setRunVisible(int run, bool visible)
{
    Trace* t = trace(run);
    if (!t) return;
    t->visible = visible;
    const QString prefix = QStringLiteral("run%1/").arg(run);
    for (MetricChart* c : charts()) {
        for (const QString& id : c->seriesIds())
            if (id.startsWith(prefix)) c->setSeriesVisible(id, visible);
        c->rescale();
    }
    if (m_legend->isRunVisible(run) != visible) m_legend->setRunVisible(run, visible);
}

bool ChartsPanel::isRunVisible(int run) const
{
    return run >= 0 && run < runCount() && m_traces[static_cast<std::size_t>(run)].visible;
}

void ChartsPanel::markAllDirty()
{
    m_smoothingValue->setText(QString::number(smoothing(), 'f', 2));
    for (Trace& t : m_traces) t.dirty = true;
    m_dirty = true;
}

void ChartsPanel::redrawTrace(int run)
{
    Trace& t = m_traces[static_cast<std::size_t>(run)];
    const XAxis axis = xAxis();
    // x of each step: its number, the tokens seen up to it, or the wall time
    // (files of older versions lack it: the summed step times stand in).
    std::vector<double> xs;
    xs.reserve(t.steps.size());
    double tokens = 0.0, seconds = 0.0;
    for (const StepRecord& r : t.steps) {
        tokens += static_cast<double>(r.tokens);
        seconds = r.elapsedSeconds > 0 ? r.elapsedSeconds : seconds + r.stepMs / 1000.0;
        xs.push_back(axis == XAxis::Tokens ? tokens : axis == XAxis::WallTime ? seconds : static_cast<double>(r.step));
    }
    const auto xOfStep = [&](std::int64_t step) {
        if (axis == XAxis::Step || step <= 0) return axis == XAxis::Step ? static_cast<double>(step) : 0.0;
        const auto it = std::lower_bound(t.steps.begin(), t.steps.end(), step,
                                         [](const StepRecord& r, std::int64_t s) { return r.step < s; });
        return it == t.steps.end() ? (xs.empty() ? 0.0 : xs.back()) : xs[static_cast<std::size_t>(it - t.steps.begin())];
    };
    const double w = smoothing();
    for (std::size_t c = 0; c < chartSpecs().size(); ++c)
        for (const SeriesSpec& q : chartSpecs()[c].series) {
            QList<QPointF> raw;
            if (q.fromStep) {
                for (std::size_t i = 0; i < t.steps.size(); ++i)
                    if (const auto v = q.fromStep(t.steps[i])) raw.append({xs[i], *v});
            } else {
                for (const EvalRecord& e : t.evals) raw.append({xOfStep(e.step), q.fromEval(e)});
            }
            const QList<QPointF> shown = thinned(q.smoothed ? smoothed(raw, w) : raw);
            m_charts[c]->setPoints(seriesId(run, QLatin1String(q.id)), shown, q.smoothed && w > 0 ? thinned(raw) : QList<QPointF>{});
        }
    t.dirty = false;
}

void ChartsPanel::flush()
{
    if (!m_dirty) return;
    for (int run = 0; run < runCount(); ++run)
        if (m_traces[static_cast<std::size_t>(run)].dirty) redrawTrace(run);
    for (MetricChart* c : charts()) c->rescale();
    updateLastLine();
    m_dirty = false;
}

void ChartsPanel::updateLastLine()
{
    const Trace* t = m_lastRun >= 0 && m_lastRun < runCount() ? &m_traces[static_cast<std::size_t>(m_lastRun)] : nullptr;
    if (!t || t->steps.empty()) {
        m_last->clear();
        return;
    }
    const StepRecord& r = t->steps.back();
    const QString who = runCount() > 1 ? tr("%1 (run %2 of %3): ").arg(t->label).arg(m_lastRun + 1).arg(runCount()) : QString();
    m_last->setText(tr("%1step %2/%3 · loss %4 · %5 tok/s")
                        .arg(who)
                        .arg(r.step)
                        .arg(r.totalSteps)
                        .arg(r.loss, 0, 'f', 4)
                        .arg(r.tokensPerSecond, 0, 'f', 0));
}

void ChartsPanel::resetZoom()
{
    for (MetricChart* c : charts()) c->resetZoom();
}

int ChartsPanel::stepPointCount() const
{
    int n = 0;
    for (int run = 0; run < runCount(); ++run) n += lossChart()->pointCount(seriesId(run, QStringLiteral("loss")));
    return n;
}

int ChartsPanel::evalPointCount() const
{
    int n = 0;
    for (int run = 0; run < runCount(); ++run) n += lossChart()->pointCount(seriesId(run, QStringLiteral("val")));
    return n;
}

bool ChartsPanel::exportAll(const QString& folder, QString* error)
{
    flush();
    const QDir dir(folder);
    for (std::size_t i = 0; i < chartSpecs().size(); ++i) {
        MetricChart* c = m_charts[i];
        const QString base = dir.filePath(QLatin1String(chartSpecs()[i].exportStem));
        if (!c->exportPng(base + QStringLiteral(".png")) || !c->exportSvg(base + QStringLiteral(".svg")) ||
            !c->exportCsv(base + QStringLiteral(".csv"))) {
            if (error) *error = tr("Could not write %1.*").arg(QDir::toNativeSeparators(base));
            return false;
        }
    }
    return true;
}

} // namespace loralab::ui
