// loralab-cli report: an experiment (or a lone run) written as a report
// folder: Markdown, one self-contained HTML page, the charts as the window
// draws them (PNG, SVG, CSV) and the tables as CSV. The charts are the
// window's own Qt widgets drawn offscreen, so this command exists in builds
// with the window (LORALAB_BUILD_UI); the others say how to get it.
#include "commands.h"

#include "engine/experiment/experiment.h"
#include "engine/util/error.h"

#include <iostream>

#ifdef LORALAB_WITH_REPORT
#include "ui/report/experiment_report.h"

#include <QApplication>
#include <QDir>

#include <cstdlib>
#endif

namespace loralab::cli {
namespace {

std::string reportHelp()
{
    return "EXPERIMENT is an experiment folder (a comparison or a sweep, as 'compare' and 'sweep' write them)\n"
           "or a run directory. The report folder (default EXPERIMENT/report) holds report.md, report.html\n"
           "(one page, charts embedded), summary.csv, config.csv, generations.csv, memory-by-kind.png and\n"
           "charts/ (every chart as PNG, SVG and CSV). An earlier report there is replaced once the new one\n"
           "is complete; a folder holding other files is refused.\n";
}

int runReport(const Args& args)
{
    if (args.positional().size() != 1) throw Error("report takes one experiment folder or run directory (see --help)");
    const Experiment experiment = readExperiment(args.positional().front(), true);
#ifdef LORALAB_WITH_REPORT
    // The charts are drawn offscreen: no display is needed or used, and what
    // Qt says about its platform (no runtime folder, no window manager) is no
    // news to someone writing a report; its errors still print.
    ::setenv("QT_QPA_PLATFORM", "offscreen", 0);
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
        if (type == QtCriticalMsg || type == QtFatalMsg) std::cerr << message.toStdString() << "\n";
    });
    static int argc = 1;
    static char name[] = "loralab-cli";
    static char* argv[] = {name, nullptr};
    QApplication app(argc, argv);
    const QString out = args.has("out") ? QString::fromStdString(args.get("out")) : ui::defaultReportFolder(experiment);
    const ui::ReportResult r = ui::writeExperimentReport(experiment, out);
    std::cout << "report of " << experiment.runs.size() << (experiment.runs.size() == 1 ? " run" : " runs") << " written to "
              << QDir::toNativeSeparators(r.folder).toStdString() << "\n"
              << "  " << QDir::toNativeSeparators(r.markdown).toStdString() << "\n"
              << "  " << QDir::toNativeSeparators(r.html).toStdString() << " (one page)\n"
              << "  " << r.charts << " charts, " << r.examples << " prompts with their answers\n";
    return 0;
#else
    (void)experiment; // read all the same, so that a bad folder is named first
    throw Error("this loralab-cli was built without the window (LORALAB_BUILD_UI=OFF), whose charts the report draws; "
                "build with the window to write reports");
#endif
}

} // namespace

std::vector<Command> reportCommands()
{
    return {{"report", "report EXPERIMENT [--out DIR]",
             "write an experiment's report: Markdown, one HTML page, charts (PNG, SVG, CSV) and CSV tables",
             {{"out", "DIR", "the report folder (default: EXPERIMENT/report)"}},
             runReport, reportHelp}};
}

} // namespace loralab::cli
