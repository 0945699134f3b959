// The experiment report's pictures: every chart of the Charts tab drawn as
// the window draws it (the same widgets, offscreen), each as PNG, SVG and
// CSV, and the memory-by-kind bars of the Summary tab. Needs a
// QApplication; no window is shown.
#pragma once

#include "ui/metatypes.h"

#include <QSize>
#include <QString>

#include <vector>

namespace loralab::ui {

struct ReportChart {
    QString title;
    QString caption; // what it shows, in a sentence
    QString stem;    // relative to the report folder: "charts/train-loss" (+ .png, .svg, .csv); "memory-by-kind" has a PNG only
    bool svgAndCsv = true;
    QSize pixels;    // of the PNG
};

struct ReportChartOptions {
    QSize size{860, 500}; // each chart, in logical pixels
    double pixelRatio = 2.0; // PNGs at twice that for sharp text on high-density screens and in print
};

// Writes the pictures into `folder` (its charts/ subfolder and memory-by-kind.png).
// Throws loralab::Error naming a file that could not be written.
std::vector<ReportChart> writeReportCharts(const Experiment& experiment, const QString& folder, const ReportChartOptions& options = {});

} // namespace loralab::ui
