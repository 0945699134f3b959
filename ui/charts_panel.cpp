#include "ui/charts_panel.h"

#include "ui/metric_chart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QToolButton>
#include <QMenu>

#include <cmath>

namespace loralab::ui {

namespace {
constexpr int kRefreshMs = 100;
constexpr int kMaxPointsPerSeries = 4000; // beyond this, lines are thinned for drawing
constexpr double kMiB = 1024.0 * 1024.0;

// Distinct on white and for the common colour-vision deficiencies: blue,
// orange, green, purple, then brown and grey for more overlays.
const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xe8, 0x6a, 0x0a), QColor(0x2c, 0xa0, 0x2c),
                           QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0x7f, 0x7f, 0x7f)};
const QColor kValidation(0xd6, 0x27, 0x28); // red: validation points and peaks stand out from blue lines

QString prettyRun(const std::string& run)
{
    if (run == "lora") return QObject::tr("LoRA");
    if (run == "full") return QObject::tr("Full");
    if (run == "dpo") return QObject::tr("DPO");
    return run.empty() ? QObject::tr("run") : QString::fromStdString(run);
}

QPen pen(const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine)
{
    QPen p(color, width, style);
    p.setCosmetic(true);
    return p;
}

// Every k-th point, always keeping the last, so long runs draw quickly.
QList<QPointF> thinned(QList<QPointF> points)
{
    if (points.size() <= kMaxPointsPerSeries) return points;
    const int stride = static_cast<int>(std::ceil(points.size() / double(kMaxPointsPerSeries)));
    QList<QPointF> out;
    out.reserve(points.size() / stride + 1);
    for (int i = 0; i < points.size(); i += stride) out.append(points[i]);
    if (out.back() != points.back()) out.append(points.back());
    return out;
}
} // namespace

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
    m_smoothing->setMinimumWidth(100);
    m_smoothing->setMaximumWidth(160);
    m_smoothing->setToolTip(tr("Exponential moving average of the train loss (0: raw values)"));
    bar->addWidget(m_smoothing);
    m_smoothingValue = new QLabel;
    m_smoothingValue->setMinimumWidth(32);
    bar->addWidget(m_smoothingValue);
    m_logScale = new QCheckBox(tr("Log-scale loss"));
    m_logScale->setObjectName(QStringLiteral("logScale"));
    bar->addWidget(m_logScale);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("x axis")));
    m_xAxis = new QComboBox;
    m_xAxis->setObjectName(QStringLiteral("xAxis"));
    m_xAxis->addItems({tr("Step"), tr("Epoch")});
    bar->addWidget(m_xAxis);
    auto* reset = new QPushButton(tr("Reset zoom"));
    reset->setToolTip(tr("Drag a rectangle to zoom, use the wheel to zoom about the cursor, "
                         "middle- or Shift-drag to pan; right-click a chart to export it"));
    bar->addWidget(reset);
    auto* exportButton = new QToolButton;
    exportButton->setText(tr("Export"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto* exportMenu = new QMenu(exportButton);
    exportMenu->addAction(tr("All charts as PNG and CSV…"), this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Export charts to"));
        QString error;
        if (!folder.isEmpty() && !exportAll(folder, &error)) QMessageBox::warning(this, tr("Export"), error);
    });
    exportButton->setMenu(exportMenu);
    bar->addWidget(exportButton);
    m_last = new QLabel;
    m_last->setObjectName(QStringLiteral("lastStep"));
    m_last->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    // Long lines (two runs) are cut rather than squeezing the controls.
    m_last->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_last, 1);
    layout->addLayout(bar);

    m_loss = new MetricChart(tr("Train loss"), tr("loss (nats/token)"));
    m_loss->setObjectName(QStringLiteral("lossChart"));
    m_time = new MetricChart(tr("Time per step"), tr("milliseconds"));
    m_time->setObjectName(QStringLiteral("timeChart"));
    m_memory = new MetricChart(tr("Memory"), tr("MiB"));
    m_memory->setObjectName(QStringLiteral("memoryChart"));
    m_throughput = new MetricChart(tr("Throughput"), tr("tokens / second"));
    m_throughput->setObjectName(QStringLiteral("throughputChart"));
    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    grid->addWidget(m_loss, 0, 0);
    grid->addWidget(m_time, 0, 1);
    grid->addWidget(m_memory, 1, 0);
    grid->addWidget(m_throughput, 1, 1);
    layout->addLayout(grid, 1);

    connect(m_smoothing, &QSlider::valueChanged, this, &ChartsPanel::markAllDirty);
    connect(m_logScale, &QCheckBox::toggled, m_loss, &MetricChart::setLogScale);
    connect(m_xAxis, &QComboBox::currentIndexChanged, this, [this] {
        for (MetricChart* c : charts()) {
            c->setXTitle(xIsEpoch() ? tr("epoch") : tr("step"));
            c->resetZoom();
        }
        markAllDirty();
    });
    connect(reset, &QPushButton::clicked, this, &ChartsPanel::resetZoom);

    m_refresh.setInterval(kRefreshMs);
    connect(&m_refresh, &QTimer::timeout, this, &ChartsPanel::flush);
    m_refresh.start();
    markAllDirty();
}

double ChartsPanel::smoothing() const { return m_smoothing->value() / 100.0; }
void ChartsPanel::setSmoothing(double weight) { m_smoothing->setValue(static_cast<int>(std::lround(weight * 100))); }
bool ChartsPanel::xIsEpoch() const { return m_xAxis->currentIndex() == 1; }

void ChartsPanel::clear()
{
    m_traces.clear();
    for (MetricChart* c : charts()) c->clear();
    m_last->clear();
    m_dirty = false;
}

ChartsPanel::Trace& ChartsPanel::trace(const QString& key, const QString& label)
{
    for (Trace& t : m_traces)
        if (t.key == key) return t;
    Trace t;
    t.key = key;
    t.label = label;
    t.color = kPalette[m_traces.size() % std::size(kPalette)];
    m_traces.push_back(std::move(t));
    ensureSeries(m_traces.back());
    return m_traces.back();
}

void ChartsPanel::ensureSeries(const Trace& t)
{
    const QString& k = t.key;
    const QPen none = pen(t.color, 1.0);
    m_loss->addLine(k + "/loss", tr("%1 train (raw)").arg(t.label), none, false);
    m_loss->addLine(k + "/ema", tr("%1 train").arg(t.label), none);
    m_loss->addScatter(k + "/val", tr("%1 validation").arg(t.label), t.color, 9.0);
    m_time->addLine(k + "/fwd", tr("%1 forward").arg(t.label), none);
    m_time->addLine(k + "/bwd", tr("%1 backward").arg(t.label), none);
    m_time->addLine(k + "/opt", tr("%1 optimizer").arg(t.label), none);
    m_memory->addLine(k + "/mem", tr("%1 now").arg(t.label), none);
    m_memory->addLine(k + "/peak", tr("%1 peak").arg(t.label), none);
    m_memory->addLine(k + "/est", tr("%1 estimate").arg(t.label), none);
    m_throughput->addLine(k + "/tps", tr("%1 tokens/s").arg(t.label), none);
    restyle();
}

void ChartsPanel::restyle()
{
    // One run: each quantity gets its own colour. Several runs: each run
    // keeps one colour and quantities differ by line style, so LoRA and full
    // stay apart at a glance.
    const bool single = m_traces.size() == 1;
    for (const Trace& t : m_traces) {
        const QString& k = t.key;
        const auto colour = [&](int quantity) { return single ? kPalette[quantity] : t.color; };
        const QColor lossColour = colour(0);
        m_loss->setPen(k + "/loss", pen(QColor(lossColour.red(), lossColour.green(), lossColour.blue(), 70), 1.0));
        m_loss->setPen(k + "/ema", pen(lossColour, 2.0));
        m_loss->setMarkerColor(k + "/val", single ? kValidation : t.color.darker(115));
        m_time->setPen(k + "/fwd", pen(colour(0), 2.0));
        m_time->setPen(k + "/bwd", pen(colour(1), 2.0, single ? Qt::SolidLine : Qt::DashLine));
        m_time->setPen(k + "/opt", pen(colour(2), 2.0, single ? Qt::SolidLine : Qt::DotLine));
        m_memory->setPen(k + "/mem", pen(colour(0), 2.0));
        m_memory->setPen(k + "/peak", pen(single ? kValidation : t.color.darker(140), 2.0, Qt::DotLine));
        m_memory->setPen(k + "/est", pen(single ? QColor(0x61, 0x61, 0x61) : t.color.lighter(130), 1.5, Qt::DashLine));
        m_throughput->setPen(k + "/tps", pen(colour(0), 2.0));

    }
}

void ChartsPanel::addStep(const StepRecord& r, const QString& tracePrefix)
{
    const QString key = tracePrefix + QString::fromStdString(r.run);
    Trace& t = trace(key, tracePrefix.isEmpty() ? prettyRun(r.run) : tracePrefix.chopped(1));
    t.steps.push_back(r);
    t.dirty = m_dirty = true;
}

void ChartsPanel::addEval(const EvalRecord& r, const QString& tracePrefix)
{
    const QString key = tracePrefix + QString::fromStdString(r.run);
    Trace& t = trace(key, tracePrefix.isEmpty() ? prettyRun(r.run) : tracePrefix.chopped(1));
    t.evals.push_back(r);
    t.dirty = m_dirty = true;
}

void ChartsPanel::addRecords(const RunRecords& records, const QString& label)
{
    // A label becomes the trace prefix (with a separator that chopped(1) drops).
    const QString prefix = label.isEmpty() ? QString() : label + QLatin1Char('\x1f');
    for (const StepRecord& r : records.steps) addStep(r, prefix);
    for (const EvalRecord& r : records.evals) addEval(r, prefix);
}

void ChartsPanel::markAllDirty()
{
    m_smoothingValue->setText(QString::number(smoothing(), 'f', 2));
    for (Trace& t : m_traces) t.dirty = true;
    m_dirty = true;
}

void ChartsPanel::redrawTrace(Trace& t)
{
    const bool epoch = xIsEpoch();
    const auto x = [epoch](const auto& r) { return epoch ? r.epoch : static_cast<double>(r.step); };
    const double w = smoothing();
    QList<QPointF> loss, ema, val, fwd, bwd, opt, mem, peak, est, tps;
    double avg = 0.0;
    int n = 0;
    for (const StepRecord& r : t.steps) {
        const double px = x(r);
        loss.append({px, r.loss});
        // Debiased EMA (as TensorBoard draws it): early points are not pulled toward zero.
        if (std::isfinite(r.loss)) {
            avg = w * avg + (1 - w) * r.loss;
            ++n;
            ema.append({px, w > 0 ? avg / (1 - std::pow(w, n)) : r.loss});
        }
        fwd.append({px, r.forwardMs});
        bwd.append({px, r.backwardMs});
        opt.append({px, r.optimizerMs});
        mem.append({px, r.memoryBytes / kMiB});
        peak.append({px, r.peakMemoryBytes / kMiB});
        if (r.estimate.total() > 0) est.append({px, r.estimate.total() / kMiB});
        tps.append({px, r.tokensPerSecond});
    }
    for (const EvalRecord& e : t.evals) val.append({x(e), e.loss});
    const QString& k = t.key;
    m_loss->setPoints(k + "/loss", thinned(loss));
    m_loss->setPoints(k + "/ema", thinned(ema));
    m_loss->setPoints(k + "/val", val);
    m_time->setPoints(k + "/fwd", thinned(fwd));
    m_time->setPoints(k + "/bwd", thinned(bwd));
    m_time->setPoints(k + "/opt", thinned(opt));
    m_memory->setPoints(k + "/mem", thinned(mem));
    m_memory->setPoints(k + "/peak", thinned(peak));
    m_memory->setPoints(k + "/est", thinned(est));
    m_throughput->setPoints(k + "/tps", thinned(tps));
    t.dirty = false;
}

void ChartsPanel::flush()
{
    if (!m_dirty) return;
    for (Trace& t : m_traces)
        if (t.dirty) redrawTrace(t);
    for (MetricChart* c : charts()) c->rescale();
    updateLastLine();
    m_dirty = false;
}

void ChartsPanel::updateLastLine()
{
    QStringList parts;
    for (const Trace& t : m_traces) {
        if (t.steps.empty()) continue;
        const StepRecord& r = t.steps.back();
        parts << tr("%1: step %2/%3 · loss %4 · %5 tok/s")
                     .arg(t.label)
                     .arg(r.step)
                     .arg(r.totalSteps)
                     .arg(r.loss, 0, 'f', 4)
                     .arg(r.tokensPerSecond, 0, 'f', 0);
    }
    m_last->setText(parts.join(QStringLiteral("   ")));
}

void ChartsPanel::resetZoom()
{
    for (MetricChart* c : charts()) c->resetZoom();
}

int ChartsPanel::stepPointCount() const
{
    int n = 0;
    for (const Trace& t : m_traces) n += m_loss->pointCount(t.key + "/loss");
    return n;
}

int ChartsPanel::evalPointCount() const
{
    int n = 0;
    for (const Trace& t : m_traces) n += m_loss->pointCount(t.key + "/val");
    return n;
}

bool ChartsPanel::exportAll(const QString& folder, QString* error)
{
    flush();
    QDir dir(folder);
    const QStringList names = {QStringLiteral("loss"), QStringLiteral("time"), QStringLiteral("memory"),
                               QStringLiteral("throughput")};
    const QList<MetricChart*> all = charts();
    for (int i = 0; i < all.size(); ++i) {
        const QString png = dir.filePath(names[i] + QStringLiteral(".png"));
        const QString csv = dir.filePath(names[i] + QStringLiteral(".csv"));
        if (!all[i]->exportPng(png) || !all[i]->exportCsv(csv)) {
            if (error) *error = tr("Could not write %1 or %2.").arg(png, csv);
            return false;
        }
    }
    return true;
}

} // namespace loralab::ui
