#include "ui/charts_panel.h"

#include "ui/config_widgets.h"
#include "ui/metric_chart.h"
#include "ui/run_legend.h"

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

namespace loralab::ui {

namespace {
constexpr int kRefreshMs = 100;
constexpr int kMaxPointsPerSeries = 4000; // beyond this, lines are thinned for drawing
constexpr double kMiB = 1024.0 * 1024.0;

// Tableau's ten: distinct on white and for the common colour-vision
// deficiencies; a sweep of more runs reuses them.
const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                           QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                           QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
                           QColor(0x17, 0xbe, 0xcf)};
const QColor kValidation(0xd6, 0x27, 0x28); // one run: validation points and peaks stand out in red
const QColor kNeutral(0x61, 0x61, 0x61);     // several runs: line styles in the legends

QPen pen(const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine)
{
    QPen p(color, width, style);
    p.setCosmetic(true);
    return p;
}

QColor faded(const QColor& c) { return QColor(c.red(), c.green(), c.blue(), 70); }

// Every k-th point, always keeping the last, so long runs draw quickly.
QList<QPointF> thinned(const QList<QPointF>& points)
{
    if (points.size() <= kMaxPointsPerSeries) return points;
    const int stride = static_cast<int>(std::ceil(points.size() / double(kMaxPointsPerSeries)));
    QList<QPointF> out;
    out.reserve(points.size() / stride + 1);
    for (int i = 0; i < points.size(); i += stride) out.append(points[i]);
    if (out.back() != points.back()) out.append(points.back());
    return out;
}

// Debiased exponential moving average (as TensorBoard draws it): early points
// are not pulled toward zero; non-finite values are skipped.
QList<QPointF> smoothed(const QList<QPointF>& raw, double w)
{
    if (w <= 0) return raw;
    QList<QPointF> out;
    out.reserve(raw.size());
    double avg = 0.0;
    int n = 0;
    for (const QPointF& p : raw) {
        if (!std::isfinite(p.y())) {
            out.append(p);
            continue;
        }
        avg = w * avg + (1 - w) * p.y();
        ++n;
        out.append({p.x(), avg / (1 - std::pow(w, n))});
    }
    return out;
}

// A chart's quantities: the id suffix, the legend name and how the line looks
// when several runs share the chart (each run keeps its colour).
struct Quantity {
    const char* id;
    const char* name;
    Qt::PenStyle style;
};

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

    m_loss = new MetricChart(tr("Train loss"), tr("loss (nats/token)"));
    m_loss->setObjectName(QStringLiteral("lossChart"));
    m_time = new MetricChart(tr("Time per step"), tr("milliseconds"));
    m_time->setObjectName(QStringLiteral("timeChart"));
    m_memory = new MetricChart(tr("Memory"), tr("MiB"));
    m_memory->setToolTip(tr("tensors: the most this run's tensors held during the step; estimate: weights, gradients, "
                            "optimizer state and activations from shapes; RSS: the whole process's resident memory"));
    m_memory->setObjectName(QStringLiteral("memoryChart"));
    m_throughput = new MetricChart(tr("Throughput"), tr("tokens / second"));
    m_throughput->setObjectName(QStringLiteral("throughputChart"));
    m_learningRate = new MetricChart(tr("Learning rate"), tr("learning rate"));
    m_learningRate->setObjectName(QStringLiteral("learningRateChart"));
    m_gradNorm = new MetricChart(tr("Gradient norm"), tr("L2 norm before clipping"));
    m_gradNorm->setObjectName(QStringLiteral("gradNormChart"));
    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    const QList<MetricChart*> all = charts();
    for (int i = 0; i < all.size(); ++i) grid->addWidget(all[i], i / 3, i % 3);
    layout->addLayout(grid, 1);

    connect(m_smoothing, &QSlider::valueChanged, this, &ChartsPanel::markAllDirty);
    connect(m_logScale, &QCheckBox::toggled, m_loss, &MetricChart::setLogScale);
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
        t.color = kPalette[static_cast<std::size_t>(i) % std::size(kPalette)];
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

namespace {
const Quantity kLoss[] = {{"loss", QT_TRANSLATE_NOOP("ChartsPanel", "train (recorded)"), Qt::SolidLine},
                          {"ema", QT_TRANSLATE_NOOP("ChartsPanel", "train"), Qt::SolidLine}};
const Quantity kTime[] = {{"fwd", QT_TRANSLATE_NOOP("ChartsPanel", "forward"), Qt::SolidLine},
                          {"bwd", QT_TRANSLATE_NOOP("ChartsPanel", "backward"), Qt::DashLine},
                          {"opt", QT_TRANSLATE_NOOP("ChartsPanel", "optimizer"), Qt::DotLine}};
// Short names keep the legend on one row of a narrow chart; the chart's title
// and tooltip say what "tensors" means.
const Quantity kMemory[] = {{"peak", QT_TRANSLATE_NOOP("ChartsPanel", "tensors"), Qt::SolidLine},
                            {"est", QT_TRANSLATE_NOOP("ChartsPanel", "estimate"), Qt::DashLine},
                            {"rss", QT_TRANSLATE_NOOP("ChartsPanel", "RSS"), Qt::DotLine}};
const Quantity kGradNorm[] = {{"gnraw", QT_TRANSLATE_NOOP("ChartsPanel", "recorded"), Qt::SolidLine},
                              {"gn", QT_TRANSLATE_NOOP("ChartsPanel", "gradient norm"), Qt::SolidLine}};
} // namespace

void ChartsPanel::createSeries(int run)
{
    const QPen any = pen(Qt::black, 1.0);
    const auto add = [&](MetricChart* chart, const Quantity& q, bool faint = false) {
        chart->addLine(seriesId(run, q.id), tr(q.name), any, !faint);
    };
    for (const Quantity& q : kLoss) add(m_loss, q, QLatin1String(q.id) == QLatin1String("loss"));
    m_loss->addScatter(seriesId(run, QStringLiteral("val")), tr("validation"), Qt::red, 9.0);
    for (const Quantity& q : kTime) add(m_time, q);
    for (const Quantity& q : kMemory) add(m_memory, q);
    m_throughput->addLine(seriesId(run, QStringLiteral("tps")), tr("tokens/s"), any);
    m_learningRate->addLine(seriesId(run, QStringLiteral("lr")), tr("learning rate"), any);
    for (const Quantity& q : kGradNorm) add(m_gradNorm, q, QLatin1String(q.id) == QLatin1String("gnraw"));
}

void ChartsPanel::restyle()
{
    // One run: each quantity its own colour, named in each chart's legend.
    // Several: each run keeps its colour (the run legend names it), quantities
    // differ by line style, and the chart legends show the styles in grey.
    const bool single = m_traces.size() <= 1;
    for (MetricChart* c : charts())
        for (const QString& id : c->seriesIds())
            if (id.startsWith(QLatin1String("style/"))) c->setInLegend(id, !single);
    const auto styleEntry = [&](MetricChart* chart, const QString& quantity, const QString& name, Qt::PenStyle style) {
        const QString id = QStringLiteral("style/") + quantity;
        if (!chart->hasSeries(id)) chart->addLine(id, name, pen(kNeutral, 2.0, style), !single);
    };
    if (!single) {
        styleEntry(m_loss, QStringLiteral("ema"), tr("train"), Qt::SolidLine);
        if (!m_loss->hasSeries(QStringLiteral("style/val"))) m_loss->addScatter(QStringLiteral("style/val"), tr("validation"), kNeutral, 9.0);
        for (const Quantity& q : kTime) styleEntry(m_time, q.id, tr(q.name), q.style);
        for (const Quantity& q : kMemory) styleEntry(m_memory, q.id, tr(q.name), q.style);
    }
    for (int run = 0; run < runCount(); ++run) {
        const Trace& t = m_traces[static_cast<std::size_t>(run)];
        const auto id = [run](const char* q) { return seriesId(run, QLatin1String(q)); };
        const auto name = [&](const QString& quantity) { return single ? quantity : t.label + QStringLiteral(" · ") + quantity; };
        const auto colour = [&](int quantity) { return single ? kPalette[quantity] : t.color; };
        for (MetricChart* c : charts())
            for (const QString& sid : c->seriesIds())
                if (sid.startsWith(QStringLiteral("run%1/").arg(run))) c->setInLegend(sid, single && !sid.endsWith(QLatin1String("/loss")) && !sid.endsWith(QLatin1String("/gnraw")));
        m_loss->setPen(id("loss"), pen(faded(colour(0)), 1.0));
        m_loss->setPen(id("ema"), pen(colour(0), 2.0));
        m_loss->setMarkerColor(id("val"), single ? kValidation : t.color.darker(115));
        m_loss->setSeriesName(id("ema"), name(tr("train")));
        m_loss->setSeriesName(id("loss"), name(tr("train (recorded)")));
        m_loss->setSeriesName(id("val"), name(tr("validation")));
        int i = 0;
        for (const Quantity& q : kTime) {
            m_time->setPen(id(q.id), pen(colour(i++), 2.0, single ? Qt::SolidLine : q.style));
            m_time->setSeriesName(id(q.id), name(tr(q.name)));
        }
        m_memory->setPen(id("peak"), pen(colour(0), 2.0));
        m_memory->setPen(id("est"), pen(single ? kNeutral : t.color, 1.5, Qt::DashLine));
        m_memory->setPen(id("rss"), pen(single ? QColor(0x94, 0x67, 0xbd) : t.color.lighter(120), 1.5, Qt::DotLine));
        for (const Quantity& q : kMemory) m_memory->setSeriesName(id(q.id), name(tr(q.name)));
        m_throughput->setPen(id("tps"), pen(colour(0), 2.0));
        m_throughput->setSeriesName(id("tps"), name(tr("tokens/s")));
        m_learningRate->setPen(id("lr"), pen(colour(0), 2.0));
        m_learningRate->setSeriesName(id("lr"), name(tr("learning rate")));
        m_gradNorm->setPen(id("gnraw"), pen(faded(colour(0)), 1.0));
        m_gradNorm->setPen(id("gn"), pen(colour(0), 2.0));
        m_gradNorm->setSeriesName(id("gn"), name(tr("gradient norm")));
        m_gradNorm->setSeriesName(id("gnraw"), name(tr("gradient norm (recorded)")));
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
    QList<QPointF> loss, val, fwd, bwd, opt, peak, est, rss, tps, lr, gn;
    for (std::size_t i = 0; i < t.steps.size(); ++i) {
        const StepRecord& r = t.steps[i];
        const double x = xs[i];
        loss.append({x, r.loss});
        fwd.append({x, r.forwardMs});
        bwd.append({x, r.backwardMs});
        opt.append({x, r.optimizerMs});
        if (r.peakMemoryBytes > 0) peak.append({x, r.peakMemoryBytes / kMiB});
        if (r.estimate.total() > 0) est.append({x, r.estimate.total() / kMiB});
        if (r.processMemoryBytes > 0) rss.append({x, r.processMemoryBytes / kMiB});
        tps.append({x, r.tokensPerSecond});
        lr.append({x, r.learningRate});
        gn.append({x, r.gradNorm});
    }
    for (const EvalRecord& e : t.evals) val.append({xOfStep(e.step), e.loss});
    const double w = smoothing();
    const auto put = [&](MetricChart* chart, const char* quantity, const QList<QPointF>& raw, bool smooth = true) {
        const QList<QPointF> shown = thinned(smooth ? smoothed(raw, w) : raw);
        chart->setPoints(seriesId(run, QLatin1String(quantity)), shown, smooth && w > 0 ? thinned(raw) : QList<QPointF>{});
    };
    put(m_loss, "loss", loss, false);
    put(m_loss, "ema", loss);
    put(m_loss, "val", val, false);
    put(m_time, "fwd", fwd);
    put(m_time, "bwd", bwd);
    put(m_time, "opt", opt);
    put(m_memory, "peak", peak);
    put(m_memory, "est", est, false);
    put(m_memory, "rss", rss);
    put(m_throughput, "tps", tps);
    put(m_learningRate, "lr", lr);
    put(m_gradNorm, "gnraw", gn, false);
    put(m_gradNorm, "gn", gn);
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
    for (int run = 0; run < runCount(); ++run) n += m_loss->pointCount(seriesId(run, QStringLiteral("loss")));
    return n;
}

int ChartsPanel::evalPointCount() const
{
    int n = 0;
    for (int run = 0; run < runCount(); ++run) n += m_loss->pointCount(seriesId(run, QStringLiteral("val")));
    return n;
}

bool ChartsPanel::exportAll(const QString& folder, QString* error)
{
    flush();
    const QDir dir(folder);
    const QStringList stems = {QStringLiteral("train-loss"), QStringLiteral("time-per-step"), QStringLiteral("memory"),
                               QStringLiteral("throughput"), QStringLiteral("learning-rate"), QStringLiteral("gradient-norm")};
    const QList<MetricChart*> all = charts();
    for (int i = 0; i < all.size(); ++i) {
        MetricChart* c = all[i];
        const QString base = dir.filePath(stems.value(i));
        if (!c->exportPng(base + QStringLiteral(".png")) || !c->exportSvg(base + QStringLiteral(".svg")) ||
            !c->exportCsv(base + QStringLiteral(".csv"))) {
            if (error) *error = tr("Could not write %1.*").arg(QDir::toNativeSeparators(base));
            return false;
        }
    }
    return true;
}

} // namespace loralab::ui
