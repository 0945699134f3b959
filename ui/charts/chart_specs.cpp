// The table of chart specifications; see chart_specs.h.
#include "ui/charts/chart_specs.h"

#include <QCoreApplication>

#include <cmath>
#include <iterator>

namespace loralab::ui {

namespace {

constexpr int kMaxPointsPerSeries = 4000; // beyond this, lines are thinned for drawing
constexpr double kMiB = 1024.0 * 1024.0;

const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                           QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                           QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
                           QColor(0x17, 0xbe, 0xcf)};

using Look = SeriesSpec::Look;
std::optional<double> mib(std::int64_t bytes) { return bytes > 0 ? std::optional<double>(bytes / kMiB) : std::nullopt; }

} // namespace

const std::vector<ChartSpec>& chartSpecs()
{
    // Short names keep a legend on one row of a narrow chart; the memory
    // chart's title and tooltip say what "tensors" means.
    static const std::vector<ChartSpec> specs = {
        {"lossChart", QT_TRANSLATE_NOOP("ChartsPanel", "Train loss"), QT_TRANSLATE_NOOP("ChartsPanel", "loss (nats/token)"), "",
         "train-loss",
         QT_TRANSLATE_NOOP("ChartsPanel", "The training loss of each step (the smoothed line over the recorded values) and the validation "
                                          "loss at each evaluation (dots)."),
         {{"loss", QT_TRANSLATE_NOOP("ChartsPanel", "train (recorded)"), Look::Faint, Qt::SolidLine, 1.0, 0, false, false, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.loss); }, {}},
          {"ema", QT_TRANSLATE_NOOP("ChartsPanel", "train"), Look::Line, Qt::SolidLine, 2.0, 0, true, true, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.loss); }, {}},
          {"val", QT_TRANSLATE_NOOP("ChartsPanel", "validation"), Look::Scatter, Qt::SolidLine, 9.0, 3, false, true, false, false, {},
           [](const EvalRecord& e) { return e.loss; }}}},
        {"timeChart", QT_TRANSLATE_NOOP("ChartsPanel", "Time per step"), QT_TRANSLATE_NOOP("ChartsPanel", "milliseconds"), "",
         "time-per-step",
         QT_TRANSLATE_NOOP("ChartsPanel", "Forward pass, backward pass and optimizer step (with clipping) of each step, in "
                                          "milliseconds."),
         {{"fwd", QT_TRANSLATE_NOOP("ChartsPanel", "forward"), Look::Line, Qt::SolidLine, 2.0, 0, true, true, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.forwardMs); }, {}},
          {"bwd", QT_TRANSLATE_NOOP("ChartsPanel", "backward"), Look::Line, Qt::DashLine, 2.0, 1, true, true, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.backwardMs); }, {}},
          {"opt", QT_TRANSLATE_NOOP("ChartsPanel", "optimizer"), Look::Line, Qt::DotLine, 2.0, 2, true, true, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.optimizerMs); }, {}}}},
        {"memoryChart", QT_TRANSLATE_NOOP("ChartsPanel", "Memory"), QT_TRANSLATE_NOOP("ChartsPanel", "MiB"),
         QT_TRANSLATE_NOOP("ChartsPanel", "tensors: the most this run's tensors held during the step; estimate: weights, gradients, "
                                          "optimizer state and activations from shapes; RSS: the whole process's resident memory"),
         "memory",
         QT_TRANSLATE_NOOP("ChartsPanel", "Tensors: the most this run's tensors held during the step; estimate: weights, gradients, "
                                          "optimizer state and activations from shapes; RSS: the whole process's resident memory."),
         {{"peak", QT_TRANSLATE_NOOP("ChartsPanel", "tensors"), Look::Line, Qt::SolidLine, 2.0, 0, true, true, false, false,
           [](const StepRecord& r) { return mib(r.peakMemoryBytes); }, {}},
          {"est", QT_TRANSLATE_NOOP("ChartsPanel", "estimate"), Look::Line, Qt::DashLine, 1.5, -1, false, true, false, true,
           [](const StepRecord& r) { return mib(r.estimate.total()); }, {}},
          {"rss", QT_TRANSLATE_NOOP("ChartsPanel", "RSS"), Look::Line, Qt::DotLine, 1.5, 4, true, true, true, true,
           [](const StepRecord& r) { return mib(r.processMemoryBytes); }, {}}}},
        {"throughputChart", QT_TRANSLATE_NOOP("ChartsPanel", "Throughput"), QT_TRANSLATE_NOOP("ChartsPanel", "tokens / second"), "",
         "throughput",
         QT_TRANSLATE_NOOP("ChartsPanel", "Tokens processed per second, step by step: every token the model read (padding not "
                                          "counted), and the useful ones, whose labels count in the loss (packing raises these)."),
         {{"tps", QT_TRANSLATE_NOOP("ChartsPanel", "tokens/s"), Look::Line, Qt::SolidLine, 2.0, 0, true, false, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.tokensPerSecond); }, {}},
          {"useful", QT_TRANSLATE_NOOP("ChartsPanel", "useful tokens/s"), Look::Line, Qt::DashLine, 1.5, -1, false, false, false, true,
           [](const StepRecord& r) {
               return r.usefulTokensPerSecond > 0 ? std::optional<double>(r.usefulTokensPerSecond) : std::nullopt;
           }, {}}}},
        {"learningRateChart", QT_TRANSLATE_NOOP("ChartsPanel", "Learning rate"), QT_TRANSLATE_NOOP("ChartsPanel", "learning rate"), "",
         "learning-rate",
         QT_TRANSLATE_NOOP("ChartsPanel", "The learning rate of each step, as the schedule and warmup set it."),
         {{"lr", QT_TRANSLATE_NOOP("ChartsPanel", "learning rate"), Look::Line, Qt::SolidLine, 2.0, 0, true, false, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.learningRate); }, {}}}},
        {"gradNormChart", QT_TRANSLATE_NOOP("ChartsPanel", "Gradient norm"), QT_TRANSLATE_NOOP("ChartsPanel", "L2 norm before clipping"),
         "", "gradient-norm",
         QT_TRANSLATE_NOOP("ChartsPanel", "The L2 norm of all trainable gradients before clipping (the smoothed line over the recorded "
                                          "values)."),
         {{"gnraw", QT_TRANSLATE_NOOP("ChartsPanel", "gradient norm (recorded)"), Look::Faint, Qt::SolidLine, 1.0, 0, false, false, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.gradNorm); }, {}},
          {"gn", QT_TRANSLATE_NOOP("ChartsPanel", "gradient norm"), Look::Line, Qt::SolidLine, 2.0, 0, true, false, false, false,
           [](const StepRecord& r) { return std::optional<double>(r.gradNorm); }, {}}}},
    };
    return specs;
}


QColor paletteColour(int index) { return kPalette[static_cast<std::size_t>(index) % std::size(kPalette)]; }
const QColor kValidationColour(0xd6, 0x27, 0x28);
const QColor kNeutralColour(0x61, 0x61, 0x61);

QPen chartPen(const QColor& color, qreal width, Qt::PenStyle style)
{
    QPen p(color, width, style);
    p.setCosmetic(true);
    return p;
}

QColor faded(const QColor& c) { return QColor(c.red(), c.green(), c.blue(), 70); }

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

} // namespace loralab::ui
