// The experiment report: one folder a user can send or publish, with
// report.md, report.html (self-contained), summary.csv, config.csv,
// generations.csv, memory-by-kind.png and charts/ (each chart as PNG, SVG and CSV).
// `loralab-cli report` and the window's File > Export report both write it.
// Needs a QApplication (the charts are the window's own widgets, drawn
// offscreen).
#pragma once

#include "ui/metatypes.h"
#include "ui/report/report_charts.h"

#include <QString>

namespace loralab::ui {

struct ReportResult {
    QString folder;
    QString markdown; // report.md
    QString html;     // report.html
    int charts = 0;
    int examples = 0; // prompts in the generations
};

// Writes the report of `experiment` (read with its metrics: readExperiment(dir,
// true), or as the window holds it) into `folder`. The folder is written
// whole or not at all: the files go to a folder beside it first, and an
// earlier report there is replaced only once the new one is complete. Throws
// loralab::Error for an experiment none of whose runs has started, a folder
// that exists and holds something other than a report, and one that cannot be
// written, each naming the folder.
ReportResult writeExperimentReport(const Experiment& experiment, const QString& folder, const ReportChartOptions& options = {});

// Where a report of the experiment goes unless told: report/ in its folder.
QString defaultReportFolder(const Experiment& experiment);

} // namespace loralab::ui
