// The Charts tab's table of chart specifications: every chart, the
// quantities it draws for each run (id, legend name, look, where the values
// come from), and the drawing helpers (palette, pens, thinning, smoothing).
// ChartsPanel creates, styles, redraws and exports its charts from it.
#pragma once

#include "engine/records/metrics.h"

#include <QColor>
#include <QList>
#include <QPen>
#include <QPointF>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

namespace loralab::ui {

// One quantity a chart draws for every run.
struct SeriesSpec {
    enum class Look { Line, Faint, Scatter }; // Faint: the recorded values under a smoothed line
    const char* id;      // within the run's series ("loss", "fwd", ...)
    const char* name;    // in the legend
    Look look;
    Qt::PenStyle style;  // when several runs share the chart (each keeps its colour)
    double width;        // the pen's, or a scatter marker's size
    int singleColour;    // one run: index into the palette, -1 for the neutral grey
    bool smoothed;
    bool styleEntry;     // several runs: a grey entry in the chart's legend shows the style
    bool lighterShared;  // several runs: the run's colour lightened
    bool styledAlone;    // one run: drawn in its style too (otherwise solid)
    std::function<std::optional<double>(const StepRecord&)> fromStep; // null for evaluation points
    std::function<double(const EvalRecord&)> fromEval;
};

struct ChartSpec {
    const char* objectName;
    const char* title;
    const char* yTitle;
    const char* tooltip;
    const char* exportStem; // file name of its PNG, SVG and CSV
    const char* caption;    // what it shows, in a sentence (the report's caption)
    std::vector<SeriesSpec> series;
};

// The charts in the order the tab shows them (three to a row).
const std::vector<ChartSpec>& chartSpecs();

// Tableau's ten: distinct on white and for the common colour-vision
// deficiencies; a sweep of more runs reuses them.
QColor paletteColour(int index);
extern const QColor kValidationColour; // one run: validation points stand out in red
extern const QColor kNeutralColour;    // several runs: line styles in the legends

QPen chartPen(const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine);
QColor faded(const QColor& c);
// Every k-th point, always keeping the last, so long runs draw quickly.
QList<QPointF> thinned(const QList<QPointF>& points);
// Debiased exponential moving average (as TensorBoard draws it): early points
// are not pulled toward zero; non-finite values are skipped.
QList<QPointF> smoothed(const QList<QPointF>& raw, double weight);

} // namespace loralab::ui
