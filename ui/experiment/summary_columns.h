// What the Summary tab and the experiment report say about each run: the
// columns of the per-run table (title, tooltip, the text shown and the number
// it sorts by) and the headline in words. One table, so the report and the
// window never disagree on a number or its rounding.
#pragma once

#include "ui/metatypes.h"

#include <QString>

#include <functional>
#include <optional>
#include <vector>

namespace loralab::ui {

struct SummaryColumn {
    QString title;
    QString tip;
    std::function<QString(const ExperimentRun&)> text;
    std::function<double(const ExperimentRun&)> value; // NaN: nothing to sort by (text is)
};

// Run, the options that differ between runs (`varying`), then outcome,
// best validation loss, memory, time per step, parameters and the rest, in
// the order people compare them.
std::vector<SummaryColumn> summaryColumns(const std::vector<std::string>& varying);

// A loss as the Summary tab and the report print it (4 decimals), "–" when absent.
QString lossText(const std::optional<double>& loss);

// A run's summary, or for one without (going on, interrupted, not started) what is known of it.
RunSummary summaryOf(const ExperimentRun& run);

// The experiment in a sentence or two: LoRA against full fine-tuning in
// ratios, the best of a sweep by loss, memory and speed, and the runs that
// did not finish. Bold and colour as `markup` writes them.
enum class Markup { Html, Markdown };
QString summaryHeadline(const Experiment& experiment, Markup markup);

} // namespace loralab::ui
