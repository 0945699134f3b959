#include "ui/report/experiment_report.h"

#include "ui/report/report_content.h"
#include "ui/report/report_document.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <QDateTime>
#include <QDir>

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace loralab::ui {

namespace fs = std::filesystem;

namespace {

const char* kMarker = "report.md";

std::string shown(const fs::path& p) { return p.string(); }

void writeText(const fs::path& path, const QString& text)
{
    const QByteArray bytes = text.toUtf8();
    writeFileAtomic(path, std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
}

// An existing folder may be replaced only when it is empty or an earlier report.
void checkTarget(const fs::path& target)
{
    std::error_code ec;
    const fs::file_status st = fs::status(target, ec);
    if (ec == std::errc::not_a_directory) {
        // A file where a folder of the path should be: name it.
        for (fs::path up = target.parent_path(); !up.empty() && up != up.root_path(); up = up.parent_path())
            if (fs::exists(up, ec) && !fs::is_directory(up, ec))
                throw Error(shown(target) + ": cannot write the report here: " + shown(up) + " is a file, not a folder");
    }
    if (ec && ec != std::errc::no_such_file_or_directory) throw Error(shown(target) + ": cannot write the report here: " + ec.message());
    if (!fs::exists(st)) return;
    if (!fs::is_directory(st)) throw Error(shown(target) + ": exists and is not a folder; choose a new folder for the report");
    if (fs::exists(target / kMarker)) return;
    if (!fs::is_empty(target, ec) || ec)
        throw Error(shown(target) + ": the folder holds other files and no report; choose a new or empty folder for the report");
}

void removeQuietly(const fs::path& p)
{
    std::error_code ec;
    fs::remove_all(p, ec);
}

} // namespace

QString defaultReportFolder(const Experiment& e) { return QDir(qstr(e.dir)).filePath(QStringLiteral("report")); }

ReportResult writeExperimentReport(const Experiment& e, const QString& folder, const ReportChartOptions& options)
{
    if (e.runs.empty()) throw Error("there is no experiment to report: run one, or open one from the Runs tab");
    bool started = false;
    for (const ExperimentRun& r : e.runs) started = started || r.state != RunState::NotStarted;
    if (!started)
        throw Error((e.dir.empty() ? e.name : e.dir) + ": no run of this experiment has started; there is nothing to report yet");

    const fs::path target = fs::absolute(sstr(folder)).lexically_normal();
    checkTarget(target);
    const fs::path parent = target.parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw Error(shown(parent) + ": cannot create the folder for the report: " + ec.message());
    const std::string tag = std::to_string(::getpid());
    const fs::path partial = parent / ("." + target.filename().string() + ".partial-" + tag);
    removeQuietly(partial);
    fs::create_directory(partial, ec);
    if (ec) throw Error(shown(target) + ": cannot write the report here: " + ec.message());

    ReportResult result;
    try {
        const QString dir = qstr(partial.string());
        const std::vector<ReportChart> charts = writeReportCharts(e, dir, options);
        const ReportContent content = reportContent(e);
        const ReportStamp stamp{QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")), QStringLiteral(LORALAB_VERSION)};
        writeText(partial / "summary.csv", summaryCsv(e));
        writeText(partial / "config.csv", configCsv(e));
        writeText(partial / "generations.csv", generationsCsv(content));
        writeText(partial / "report.html", reportHtml(content, charts, stamp, dir));
        writeText(partial / kMarker, reportMarkdown(content, charts, stamp));
        result.charts = static_cast<int>(charts.size());
        result.examples = static_cast<int>(content.examples.size());
    } catch (...) {
        removeQuietly(partial);
        throw;
    }

    // The new report takes the folder's place; an earlier one goes only after.
    const fs::path old = parent / ("." + target.filename().string() + ".old-" + tag);
    const bool replacing = fs::exists(target);
    if (replacing) {
        removeQuietly(old);
        fs::rename(target, old, ec);
        if (ec) {
            removeQuietly(partial);
            throw Error(shown(target) + ": cannot replace the earlier report: " + ec.message());
        }
    }
    fs::rename(partial, target, ec);
    if (ec) {
        std::error_code ignored;
        if (replacing) fs::rename(old, target, ignored);
        removeQuietly(partial);
        throw Error(shown(target) + ": cannot write the report here: " + ec.message());
    }
    if (replacing) removeQuietly(old);
    syncDirectory(parent);

    result.folder = qstr(target.string());
    result.markdown = qstr((target / kMarker).string());
    result.html = qstr((target / "report.html").string());
    return result;
}

} // namespace loralab::ui
