// The experiment report: LoRA against full fine-tuning on the embedded model,
// exported from the window (File > Export report), written from the folder
// read back from disk, and by `loralab-cli report`; the three agree, every
// number equals the run's summary, the charts are real pictures, the HTML
// page needs nothing beside it, and the generations hold each run's answer to
// each prompt. Then the folder rules: an earlier report is replaced whole, a
// folder of other files is refused, an unwritable place and an experiment
// that never started are errors naming them.
#include "ui_test_support.h"

#include "ui/charts/chart_specs.h"
#include "ui/config/config_panel.h"
#include "ui/config/config_widgets.h"
#include "ui/experiment/summary_columns.h"
#include "ui/main_window.h"
#include "ui/message_banner.h"
#include "ui/report/experiment_report.h"

#include "engine/experiment/experiment.h"
#include "engine/run/runner.h"
#include "engine/util/error.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <map>

using namespace loralab;
using namespace loralab::ui;

namespace {

QString readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// RFC 4180: quoted fields may hold commas, doubled quotes and line breaks.
QList<QStringList> parseCsv(const QString& text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            row << field;
            field.clear();
        } else if (c == QLatin1Char('\n')) {
            row << field;
            rows << row;
            row.clear();
            field.clear();
        } else {
            field += c;
        }
    }
    return rows;
}

// Rows of a CSV with a header, as column name -> value.
std::vector<std::map<QString, QString>> csvRecords(const QString& path)
{
    const QList<QStringList> rows = parseCsv(readAll(path));
    std::vector<std::map<QString, QString>> out;
    for (int r = 1; r < rows.size(); ++r) {
        std::map<QString, QString> m;
        for (int c = 0; c < rows[0].size() && c < rows[r].size(); ++c) m[rows[0][c]] = rows[r][c];
        out.push_back(m);
    }
    return out;
}

// A picture with something drawn: a good share of its pixels are not the background.
bool drawn(const QImage& image)
{
    int ink = 0, total = 0;
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4)
        for (int x = 0; x < image.width(); x += 4) {
            const QRgb p = image.pixel(x, y);
            ++total;
            ink += qGray(p) < 235;
            colours.insert(p);
        }
    return total > 0 && ink > total / 100 && colours.size() > 20;
}

RunConfig reportConfig(const QString& runs)
{
    RunConfig c = test::shortConfig(runs);
    c.name = "report";
    c.maxSteps = 4;
    c.evalInterval = 2;
    c.evalBatches = 1;
    c.batchSize = 2;
    c.maxLen = 48;
    c.samples = 3;
    c.sampleMaxNewTokens = 6;
    return c;
}

const std::vector<SweepAxis> kLoraAgainstFull = {SweepAxis{"method", {"\"lora\"", "\"full\""}}};

QString errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

QStringList leftovers(const QString& parent)
{
    return QDir(parent).entryList({QStringLiteral(".*.partial-*"), QStringLiteral(".*.old-*")},
                                  QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void reportOfComparison();
    void reportFolderRules();
};

void TestReport::initTestCase() { test::useTestLocations(); }

void TestReport::reportOfComparison()
{
    MainWindow w;
    test::showWindow(w);
    const QString runs = test::runsDir(QStringLiteral("report"), true);
    w.configPanel()->setConfig(reportConfig(runs), kLoraAgainstFull);
    const Experiment live = test::runToEnd(w);
    QCOMPARE(live.runs.size(), std::size_t{2});
    QVERIFY(live.runs[0].summary && live.runs[1].summary);
    const RunSummary& lora = *live.runs[0].summary;
    const RunSummary& full = *live.runs[1].summary;

    // From the window.
    const QString fromWindow = QDir(runs).filePath(QStringLiteral("window-report"));
    QVERIFY(w.exportReportAction()->isEnabled());
    QVERIFY(w.exportReport(fromWindow));
    QVERIFY2(w.banner()->text().contains(QStringLiteral("Report written to")), qPrintable(w.banner()->text()));
    test::saveScreenshot(&w, QStringLiteral("report_exported"));
    const QDir report(fromWindow);
    for (const char* f : {"report.md", "report.html", "summary.csv", "config.csv", "generations.csv", "memory-by-kind.png"})
        QVERIFY2(report.exists(QLatin1String(f)), f);

    // Every chart the window draws, as PNG (at twice 860 x 500), SVG and CSV.
    for (const ChartSpec& spec : chartSpecs()) {
        const QString stem = report.filePath(QStringLiteral("charts/") + QLatin1String(spec.exportStem));
        const QImage png(stem + QStringLiteral(".png"));
        QCOMPARE(png.size(), QSize(1720, 1000));
        QVERIFY2(drawn(png), spec.exportStem);
        QVERIFY(readAll(stem + QStringLiteral(".svg")).startsWith(QStringLiteral("<?xml")));
        QVERIFY(parseCsv(readAll(stem + QStringLiteral(".csv"))).size() > 2);
    }
    QVERIFY(drawn(QImage(report.filePath(QStringLiteral("memory-by-kind.png")))));

    // summary.csv: the summaries' numbers exactly (the shortest text that reads back).
    const auto rows = csvRecords(report.filePath(QStringLiteral("summary.csv")));
    QCOMPARE(rows.size(), std::size_t{2});
    for (std::size_t i = 0; i < 2; ++i) {
        const RunSummary& s = *live.runs[i].summary;
        auto row = rows[i];
        QCOMPARE(row[QStringLiteral("run")], qstr(live.runs[i].label));
        QCOMPARE(row[QStringLiteral("state")], QStringLiteral("completed"));
        QCOMPARE(row[QStringLiteral("method")], i == 0 ? QStringLiteral("lora") : QStringLiteral("full"));
        QCOMPARE(row[QStringLiteral("steps")].toLongLong(), s.steps);
        QCOMPARE(row[QStringLiteral("trainable_params")].toLongLong(), s.trainableParams);
        QCOMPARE(row[QStringLiteral("avg_forward_ms")].toDouble(), s.avgForwardMs);
        QCOMPARE(row[QStringLiteral("avg_backward_ms")].toDouble(), s.avgBackwardMs);
        QCOMPARE(row[QStringLiteral("avg_optimizer_ms")].toDouble(), s.avgOptimizerMs);
        QCOMPARE(row[QStringLiteral("peak_memory_bytes")].toLongLong(), s.peakMemoryBytes);
        QCOMPARE(row[QStringLiteral("measured_optimizer_bytes")].toLongLong(), s.measured.optimizerBytes);
        QCOMPARE(row[QStringLiteral("estimate_gradient_bytes")].toLongLong(), s.estimate.gradientBytes);
        QVERIFY(s.bestValLoss);
        QCOMPARE(row[QStringLiteral("best_val_loss")].toDouble(), *s.bestValLoss);
        QCOMPARE(row[QStringLiteral("best_step")].toLongLong(), s.bestStep);
        QCOMPARE(row[QStringLiteral("final_train_loss")].toDouble(), s.finalTrainLoss);
    }
    QVERIFY(full.trainableParams > 10 * lora.trainableParams);

    // report.md: the Summary tab's headline, columns and cells; the charts beside it.
    const QString md = readAll(report.filePath(QStringLiteral("report.md")));
    QVERIFY2(md.contains(QStringLiteral("**LoRA** trains")), qPrintable(md.left(600)));
    for (const SummaryColumn& c : summaryColumns(varyingOptions(live))) {
        QVERIFY2(md.contains(c.title), qPrintable(c.title));
        QVERIFY2(md.contains(c.text(live.runs[1])), qPrintable(c.title + QStringLiteral(": ") + c.text(live.runs[1])));
    }
    QVERIFY(md.contains(formatBytes(full.measured.gradientBytes)));
    for (const ChartSpec& spec : chartSpecs())
        QVERIFY2(md.contains(QStringLiteral("](charts/%1.png)").arg(QLatin1String(spec.exportStem))), spec.exportStem);
    QVERIFY(md.contains(QStringLiteral("![Memory by kind](memory-by-kind.png)")));
    QVERIFY(md.contains(QStringLiteral("| method | lora | full |")));

    // report.html: one page; every picture inside it.
    const QString html = readAll(report.filePath(QStringLiteral("report.html")));
    const QRegularExpression src(QStringLiteral("src=\"([^\"]*)\""));
    int images = 0;
    for (auto it = src.globalMatch(html); it.hasNext();) {
        const QString uri = it.next().captured(1);
        QVERIFY2(uri.startsWith(QStringLiteral("data:image/png;base64,")), qPrintable(uri.left(80)));
        QVERIFY(drawn(QImage::fromData(QByteArray::fromBase64(uri.mid(22).toLatin1()), "PNG")));
        ++images;
    }
    QCOMPARE(images, static_cast<int>(chartSpecs().size()) + 1);
    QVERIFY(!html.contains(QStringLiteral("http://")) && !html.contains(QStringLiteral("https://")));
    QVERIFY(html.contains(QStringLiteral("<th>Base model</th><th>lora</th><th>full</th>")));

    // generations.csv: a row per prompt, each run's answer in its column.
    const auto gen = csvRecords(report.filePath(QStringLiteral("generations.csv")));
    QCOMPARE(gen.size(), live.runs[0].records.samples.size());
    QCOMPARE(gen.size(), std::size_t{3});
    for (std::size_t i = 0; i < 2; ++i)
        for (const SampleRecord& s : live.runs[i].records.samples) {
            const auto row = std::find_if(gen.begin(), gen.end(), [&](const auto& g) { return g.at(QStringLiteral("prompt")) == qstr(s.prompt); });
            QVERIFY(row != gen.end());
            QCOMPARE(row->at(qstr(live.runs[i].label)), qstr(s.tunedOutput));
            QCOMPARE(row->at(QStringLiteral("target")), qstr(s.target));
            QCOMPARE(row->at(QStringLiteral("base")), qstr(s.baseOutput));
            QVERIFY(html.contains(qstr(s.prompt).trimmed().toHtmlEscaped()));
        }

    // The same experiment read back from its folder gives the same tables.
    const Experiment disk = readExperiment(live.dir, true);
    const QString fromDisk = QDir(runs).filePath(QStringLiteral("disk-report"));
    const ReportResult written = writeExperimentReport(disk, fromDisk);
    QCOMPARE(written.charts, static_cast<int>(chartSpecs().size()) + 1);
    QCOMPARE(written.examples, 3);
    for (const char* f : {"summary.csv", "config.csv", "generations.csv"})
        QVERIFY2(readAll(report.filePath(QLatin1String(f))) == readAll(QDir(fromDisk).filePath(QLatin1String(f))), f);

    // And loralab-cli report, into the experiment's folder by default.
    QProcess cli;
    cli.start(qEnvironmentVariable("LORALAB_CLI"), {QStringLiteral("report"), qstr(live.dir)});
    QVERIFY(cli.waitForFinished(120000));
    const QString out = QString::fromUtf8(cli.readAllStandardOutput());
    QVERIFY2(cli.exitCode() == 0, qPrintable(out + QString::fromUtf8(cli.readAllStandardError())));
    QVERIFY2(out.startsWith(QStringLiteral("report of 2 runs written to")), qPrintable(out));
    const QDir byCli(qstr(live.dir) + QStringLiteral("/report"));
    QVERIFY(readAll(byCli.filePath(QStringLiteral("summary.csv"))) == readAll(report.filePath(QStringLiteral("summary.csv"))));
    QVERIFY(QImage(byCli.filePath(QStringLiteral("charts/") + QLatin1String(chartSpecs().front().exportStem) + QStringLiteral(".png"))).size() == QSize(1720, 1000));
    // The report inside the experiment's folder is not taken for a run.
    QCOMPARE(readExperiment(live.dir).runs.size(), std::size_t{2});
}

void TestReport::reportFolderRules()
{
    const QString runs = test::runsDir(QStringLiteral("report-rules"), true);
    RunConfig c = reportConfig(runs);
    c.maxSteps = 2;
    c.samples = 1;
    Experiment e = planExperiment(c, kLoraAgainstFull);

    // Nothing has run yet: nothing to report.
    const QString early = errorOf([&] { writeExperimentReport(e, QDir(runs).filePath(QStringLiteral("r"))); });
    QVERIFY2(early.contains(QStringLiteral("no run of this experiment has started")), qPrintable(early));
    QVERIFY(!QFileInfo::exists(QDir(runs).filePath(QStringLiteral("r"))));

    RunControl control;
    runExperiment(e, control, {});
    Experiment disk = readExperiment(e.dir, true);
    QCOMPARE(disk.runs.size(), std::size_t{2});

    // A run that never started has a row that says so and no numbers; a label
    // with Markdown's punctuation stays one table cell.
    ExperimentRun never = disk.runs[0];
    never.label = "never | started *";
    never.state = RunState::NotStarted;
    never.summary.reset();
    never.records = {};
    never.dir.clear();
    disk.runs.push_back(never);
    const QString target = QDir(runs).filePath(QStringLiteral("report"));
    writeExperimentReport(disk, target);
    const QString md = readAll(target + QStringLiteral("/report.md"));
    QVERIFY2(md.contains(QStringLiteral("| never \\| started \\* | lora | not started | – |")), qPrintable(md));
    const auto rows = csvRecords(target + QStringLiteral("/summary.csv"));
    QCOMPARE(rows.size(), std::size_t{3});
    QCOMPARE(rows[2].at(QStringLiteral("state")), QStringLiteral("not_started"));
    QCOMPARE(rows[2].at(QStringLiteral("peak_memory_bytes")), QString());
    QVERIFY(md.contains(QStringLiteral("1 not started")));

    // An earlier report is replaced whole, and nothing is left beside it.
    QFile stale(target + QStringLiteral("/stale.txt"));
    QVERIFY(stale.open(QIODevice::WriteOnly));
    stale.close();
    writeExperimentReport(disk, target);
    QVERIFY(!QFileInfo::exists(target + QStringLiteral("/stale.txt")));
    QVERIFY(QFileInfo::exists(target + QStringLiteral("/report.md")));
    QCOMPARE(leftovers(runs), QStringList());

    // A folder of other files is not a report: refused, untouched.
    const QString other = QDir(runs).filePath(QStringLiteral("notes"));
    QDir().mkpath(other);
    QFile keep(other + QStringLiteral("/keep.txt"));
    QVERIFY(keep.open(QIODevice::WriteOnly));
    keep.write("mine");
    keep.close();
    const QString refused = errorOf([&] { writeExperimentReport(disk, other); });
    QVERIFY2(refused.contains(other) && refused.contains(QStringLiteral("holds other files")), qPrintable(refused));
    QCOMPARE(readAll(other + QStringLiteral("/keep.txt")), QStringLiteral("mine"));
    QCOMPARE(QDir(other).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{QStringLiteral("keep.txt")});

    // A place that cannot hold a folder (under a regular file).
    const QString file = QDir(runs).filePath(QStringLiteral("a-file"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    const QString unwritable = errorOf([&] { writeExperimentReport(disk, file + QStringLiteral("/report")); });
    QVERIFY2(unwritable.contains(file) && unwritable.contains(QStringLiteral("cannot")), qPrintable(unwritable));
    QCOMPARE(leftovers(runs), QStringList());

    // The window says so in its banner and keeps running.
    MainWindow w;
    test::showWindow(w);
    QVERIFY(!w.exportReport(file + QStringLiteral("/report")));
    QCOMPARE(w.banner()->level(), MessageBanner::Level::Error);
    QVERIFY2(w.banner()->text().contains(QStringLiteral("The report was not written")), qPrintable(w.banner()->text()));

    // loralab-cli: a folder that is no experiment, named in the error.
    QProcess cli;
    cli.start(qEnvironmentVariable("LORALAB_CLI"), {QStringLiteral("report"), other});
    QVERIFY(cli.waitForFinished(60000));
    const QString err = QString::fromUtf8(cli.readAllStandardError());
    QCOMPARE(cli.exitCode(), 1);
    QVERIFY2(err.startsWith(QStringLiteral("loralab-cli report: error: ")) && err.contains(other), qPrintable(err));
}

QTEST_MAIN(TestReport)
#include "test_report.moc"
