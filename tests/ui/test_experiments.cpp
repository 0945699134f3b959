// Window tests of experiments of N runs: LoRA against full fine-tuning with
// per-run memory, a 2x2 sweep (charts, summary, generations, screenshots at
// two window sizes), a cancelled comparison, best validation under
// min_delta, the Runs tab's titles, notes, trash and "new run from this",
// wheel events on unfocused fields, and the window on a small screen.
#include "ui_test_support.h"

#include "ui/charts/charts_panel.h"
#include "ui/config/config_panel.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/generations/generation_panel.h"
#include "ui/main_window.h"
#include "ui/charts/memory_breakdown_chart.h"
#include "ui/message_banner.h"
#include "ui/charts/metric_chart.h"
#include "ui/controllers/run_controller.h"
#include "ui/charts/run_legend.h"
#include "ui/runs/runs_panel.h"
#include "ui/experiment/summary_panel.h"

#include "tests/engine/min_delta_probe.h"
#include "engine/experiment/experiment.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QHeaderView>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QProcess>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>
#include <QWheelEvent>

#include <nlohmann/json.hpp>

using namespace loralab;
using namespace loralab::ui;

namespace {
constexpr int kLoadTimeoutMs = 60000;

constexpr int kRunTimeoutMs = 240000;
using test::runToEnd;
using test::showWindow;

QString cell(SummaryPanel* summary, int row, const QString& column)
{
    const int c = summary->column(column);
    return c >= 0 && summary->table()->item(row, c) ? summary->table()->item(row, c)->text() : QStringLiteral("(no column %1)").arg(column);
}

// The row of the summary table whose first cell is `label`.
int rowOf(SummaryPanel* summary, const QString& label)
{
    for (int r = 0; r < summary->table()->rowCount(); ++r)
        if (summary->table()->item(r, 0)->text() == label) return r;
    return -1;
}
} // namespace

class TestExperiments : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void loraVersusFullMemory();
    void sweepOfFour();
    void cancelledComparison();
    void bestValidationWithMinDelta();
    void wheelOnlyWithFocus();
    void smallScreen();
    void oneAndTwoProcesses();
};

void TestExperiments::initTestCase()
{
    test::useTestLocations();
}

void TestExperiments::init() { QSettings().clear(); }

void TestExperiments::loraVersusFullMemory()
{
    MainWindow w;
    showWindow(w);
    // The embedded model, one sequence of 32 tokens: weights and what full
    // fine-tuning adds for them dominate the peak, as for real models.
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("memory"), true));
    c.maxSteps = 2;
    c.batchSize = 1;
    c.maxLen = 32;
    c.evalInterval = 0;
    c.evalAtStart = false;
    c.samples = 1;
    c.sampleMaxNewTokens = 4;
    w.configPanel()->setConfig(c, {SweepAxis{"method", {"\"lora\"", "\"full\""}}});
    QVERIFY(w.configPanel()->comparison());
    const Experiment r = runToEnd(w);
    QCOMPARE(r.runs.size(), std::size_t{2});
    QVERIFY(r.runs[0].summary && r.runs[1].summary);
    const RunSummary& lora = *r.runs[0].summary;
    const RunSummary& full = *r.runs[1].summary;
    QCOMPARE(lora.method, Method::Lora);
    QCOMPARE(full.method, Method::Full);
    // The runs' memory differs as the estimate says: the peaks (this run's
    // tensors, counted at the allocator) differ by the estimated difference
    // within 10 %, and not by the process's resident memory.
    const double measured = double(full.peakMemoryBytes - lora.peakMemoryBytes);
    const double estimated = double(full.estimate.total() - lora.estimate.total());
    QVERIFY2(std::abs(measured / estimated - 1.0) <= 0.10, qPrintable(QStringLiteral("%1 vs %2").arg(measured).arg(estimated)));
    QVERIFY(full.peakMemoryBytes > 2 * lora.peakMemoryBytes);
    QCOMPARE(full.measured.optimizerBytes, full.estimate.optimizerBytes);

    // One row per run; the memory columns show the two figures apart.
    SummaryPanel* summary = w.summaryPanel();
    QCOMPARE(summary->table()->rowCount(), 2);
    QCOMPARE(cell(summary, 0, QStringLiteral("Peak memory")), formatBytes(lora.peakMemoryBytes));
    QCOMPARE(cell(summary, 1, QStringLiteral("Peak memory")), formatBytes(full.peakMemoryBytes));
    QVERIFY(cell(summary, 0, QStringLiteral("RSS")) != QStringLiteral("–"));
    QVERIFY2(summary->headline().contains(QStringLiteral("<b>LoRA</b> trains")), qPrintable(summary->headline()));
    QCOMPARE(summary->memoryChart()->barCount(), 4); // measured and estimated, each run
    // The memory chart has the run's tensors, the estimate and the process, per run.
    MetricChart* memory = w.chartsPanel()->memoryChart();
    for (int run = 0; run < 2; ++run)
        for (const char* q : {"peak", "est", "rss"}) QCOMPARE(memory->pointCount(ChartsPanel::seriesId(run, QLatin1String(q))), 2);
    QVERIFY(w.banner()->text().startsWith(QStringLiteral("Comparison finished")));
    test::saveScreenshot(&w, QStringLiteral("compare_memory_charts"));
    w.tabs()->setCurrentIndex(MainWindow::kSummaryTab);
    test::saveScreenshot(&w, QStringLiteral("compare_memory_summary"));
}

void TestExperiments::sweepOfFour()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("sweep"), true));
    c.name = "sweep";
    c.maxSteps = 4;
    c.evalInterval = 2;
    c.evalBatches = 1;
    c.batchSize = 2;
    c.maxLen = 48;
    c.samples = 2;
    c.sampleMaxNewTokens = 6;
    w.configPanel()->setConfig(c, {parseSweepAxis("lora_r=2,8"), parseSweepAxis("learning_rate=0.001,0.004")});
    w.configPanel()->refreshNow();
    QCOMPARE(w.configPanel()->plan().runs.size(), std::size_t{4});
    QVERIFY(w.startAction()->isEnabled());
    QSignalSpy runFinished(w.controller(), &RunController::runFinished);
    const Experiment r = runToEnd(w);
    QCOMPARE(r.runs.size(), std::size_t{4});
    QCOMPARE(runFinished.count(), 4);
    for (const ExperimentRun& run : r.runs) QCOMPARE(run.state, RunState::Completed);

    // Four traces, one colour each, with a switch per run.
    ChartsPanel* charts = w.chartsPanel();
    charts->flush();
    QCOMPARE(charts->runCount(), 4);
    QCOMPARE(charts->stepPointCount(), 16);
    QCOMPARE(charts->evalPointCount(), 4 * 3); // steps 0, 2, 4
    QCOMPARE(charts->legend()->count(), 4);
    for (int run = 0; run < 4; ++run) QCOMPARE(charts->lossChart()->pointCount(ChartsPanel::seriesId(run, QStringLiteral("ema"))), 4);
    // Tooltips name a real point: a whole step, and validation points too.
    MetricChart* loss = charts->lossChart();
    charts->setSmoothing(0.0);
    charts->flush();
    const RunRecords first = readRunRecords(r.runs[0].dir);
    const QPointF stepPoint(3, first.steps[2].loss);
    const QString tip = loss->tooltipAt(loss->viewPosition(stepPoint) + QPointF(2, 1));
    QVERIFY2(tip.contains(QStringLiteral("step 3:")), qPrintable(tip));
    const QPointF valPoint(2, first.evals[1].loss);
    const QString valTip = loss->tooltipAt(loss->viewPosition(valPoint) + QPointF(1, -1));
    QVERIFY2(valTip.contains(QStringLiteral("validation")) && valTip.contains(QStringLiteral("step 2:")), qPrintable(valTip));
    charts->setSmoothing(0.6);
    // Hiding a run hides its series on every chart.
    auto* box = charts->legend()->findChild<QCheckBox*>(QStringLiteral("runVisible1"));
    QVERIFY(box);
    box->setChecked(false);
    QVERIFY(!charts->timeChart()->isSeriesVisible(ChartsPanel::seriesId(1, QStringLiteral("fwd"))));
    QVERIFY(charts->timeChart()->isSeriesVisible(ChartsPanel::seriesId(0, QStringLiteral("fwd"))));
    box->setChecked(true);
    // The x axis by tokens seen and by wall time.
    charts->setXAxis(ChartsPanel::XAxis::Tokens);
    charts->flush();
    qint64 tokens = 0;
    for (const StepRecord& s : first.steps) tokens += s.tokens;
    QVERIFY(loss->tooltipAt(loss->viewPosition(QPointF(double(tokens), first.steps.back().loss))).contains(QStringLiteral("tokens")));
    charts->setXAxis(ChartsPanel::XAxis::Step);
    // Export: PNG, SVG and CSV of every chart.
    const QString exportDir = test::runsDir(QStringLiteral("sweep-export"), true);
    QVERIFY(charts->exportAll(exportDir));
    QVERIFY(QFileInfo(exportDir + QStringLiteral("/train-loss.svg")).size() > 1000);
    QFile csv(exportDir + QStringLiteral("/learning-rate.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(csv.readAll()).count(QLatin1Char('\n')), 1 + 16);

    // The summary: a row per run, the swept options as columns, sortable.
    SummaryPanel* summary = w.summaryPanel();
    QCOMPARE(summary->table()->rowCount(), 4);
    QVERIFY(summary->column(QStringLiteral("lora_r")) > 0 && summary->column(QStringLiteral("learning_rate")) > 0);
    const int best = summary->column(QStringLiteral("Best val loss"));
    summary->table()->sortItems(best, Qt::AscendingOrder);
    const auto lossAt = [&](int row) { return summary->table()->item(row, best)->text().section(QLatin1Char(' '), 0, 0).toDouble(); };
    for (int row = 1; row < 4; ++row) QVERIFY(lossAt(row - 1) <= lossAt(row));
    summary->table()->sortItems(summary->column(QStringLiteral("Steps")), Qt::AscendingOrder);

    // Generations: the base answer and every run's, side by side.
    QTableWidget* generations = w.generationPanel()->table();
    QCOMPARE(generations->columnCount(), GenerationPanel::kTuned + 4);
    QCOMPARE(generations->rowCount(), 2);
    for (int run = 0; run < 4; ++run)
        QVERIFY(generations->item(0, GenerationPanel::kTuned + run) && !generations->item(0, GenerationPanel::kTuned + run)->text().isEmpty());

    // Reopened from the Runs tab, the experiment comes back whole.
    RunsPanel* runs = w.runsPanel();
    QSignalSpy listed(runs, &RunsPanel::listed);
    QSignalSpy opened(runs, &RunsPanel::opened);
    runs->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty(), kLoadTimeoutMs);
    QCOMPARE(runs->tree()->topLevelItemCount(), 1);
    QCOMPARE(runs->tree()->topLevelItem(0)->childCount(), 4);
    // loralab-cli runs lists the same experiment with the same states.
    QProcess cli;
    cli.start(qEnvironmentVariable("LORALAB_CLI"), {QStringLiteral("runs"), QString::fromStdString(c.runsDir), QStringLiteral("--json")});
    QVERIFY(cli.waitForFinished(kLoadTimeoutMs));
    QCOMPARE(cli.exitCode(), 0);
    const auto listing = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
    QCOMPARE(listing.size(), std::size_t{1});
    QCOMPARE(listing[0]["kind"].get<std::string>(), std::string("experiment"));
    QCOMPARE(listing[0]["runs"].size(), std::size_t{4});
    QTreeWidgetItem* experimentRow = runs->tree()->topLevelItem(0);
    for (int i = 0; i < 4; ++i) {
        const auto& run = listing[0]["runs"][static_cast<std::size_t>(i)];
        QCOMPARE(experimentRow->child(i)->text(0), QString::fromStdString(run["label"].get<std::string>()));
        QCOMPARE(RunsPanel::stateOf(experimentRow->child(i)), QString::fromStdString(run["state"].get<std::string>()));
        QCOMPARE(RunsPanel::stateOf(experimentRow->child(i)), QStringLiteral("completed"));
    }
    charts->clear();
    QVERIFY(runs->select(QString::fromStdString(r.dir)));
    runs->openSelected();
    QVERIFY(opened.wait(kLoadTimeoutMs));
    QCOMPARE(charts->runCount(), 4);
    QCOMPARE(charts->stepPointCount(), 16);
    QCOMPARE(summary->table()->rowCount(), 4);
    QCOMPARE(generations->columnCount(), GenerationPanel::kTuned + 4);

    // Screenshots for a person to look at, at two window sizes.
    for (const QSize size : {QSize(1600, 1000), QSize(1280, 720)}) {
        w.resize(size);
        QTest::qWait(200);
        const QString suffix = QStringLiteral("_%1x%2").arg(size.width()).arg(size.height());
        w.tabs()->setCurrentIndex(MainWindow::kChartsTab);
        test::saveScreenshot(&w, QStringLiteral("sweep_charts") + suffix);
        w.tabs()->setCurrentIndex(MainWindow::kSummaryTab);
        test::saveScreenshot(&w, QStringLiteral("sweep_summary") + suffix);
        w.tabs()->setCurrentIndex(MainWindow::kGenerationsTab);
        test::saveScreenshot(&w, QStringLiteral("sweep_generations") + suffix);
        w.tabs()->setCurrentIndex(MainWindow::kRunsTab);
        test::saveScreenshot(&w, QStringLiteral("sweep_runs") + suffix);
    }
}

void TestExperiments::cancelledComparison()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("cancel"), true));
    c.maxSteps = 200;
    c.evalInterval = 0;
    c.samples = 0;
    w.configPanel()->setConfig(c, {SweepAxis{"method", {"\"lora\"", "\"full\""}}});
    QSignalSpy steps(w.controller(), &RunController::stepRecorded);
    QSignalSpy finished(w.controller(), &RunController::finished);
    w.startAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 2, kRunTimeoutMs);
    w.cancelAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
    const auto r = finished.first().first().value<Experiment>();
    QCOMPARE(r.runs[0].state, RunState::Cancelled);
    QCOMPARE(r.runs[1].state, RunState::NotStarted);

    // Shown as what happened: LoRA cancelled with its steps, full not started,
    // no numbers for it, nothing called completed.
    SummaryPanel* summary = w.summaryPanel();
    QCOMPARE(summary->table()->rowCount(), 2);
    const int lora = rowOf(summary, QStringLiteral("lora"));
    const int full = rowOf(summary, QStringLiteral("full"));
    QVERIFY(lora >= 0 && full >= 0);
    QVERIFY2(cell(summary, lora, QStringLiteral("Outcome")).startsWith(QStringLiteral("cancelled after")),
             qPrintable(cell(summary, lora, QStringLiteral("Outcome"))));
    QVERIFY(cell(summary, lora, QStringLiteral("Fwd ms")) != QStringLiteral("–"));
    QCOMPARE(cell(summary, full, QStringLiteral("Outcome")), QStringLiteral("not started"));
    for (const char* column : {"Fwd ms", "Peak memory", "Best val loss", "Wall time"})
        QCOMPARE(cell(summary, full, QLatin1String(column)), QStringLiteral("–"));
    QVERIFY(!summary->headline().contains(QStringLiteral("× the time")));
    QVERIFY(summary->headline().contains(QStringLiteral("1 not started")));
    QVERIFY2(w.banner()->text().contains(QStringLiteral("lora cancelled after")) &&
                 w.banner()->text().contains(QStringLiteral("full not started")) &&
                 !w.banner()->text().contains(QStringLiteral("completed")),
             qPrintable(w.banner()->text()));
    QCOMPARE(w.banner()->level(), MessageBanner::Level::Warning);
    w.tabs()->setCurrentIndex(MainWindow::kSummaryTab);
    test::saveScreenshot(&w, QStringLiteral("cancelled_comparison_summary"));

    // Reopened, it reads the same; the Runs tab lists the run never begun.
    RunsPanel* runs = w.runsPanel();
    QSignalSpy listed(runs, &RunsPanel::listed);
    QSignalSpy opened(runs, &RunsPanel::opened);
    runs->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty(), kLoadTimeoutMs);
    QTreeWidgetItem* experiment = runs->tree()->topLevelItem(0);
    QCOMPARE(experiment->childCount(), 2);
    QCOMPARE(experiment->child(1)->text(10), QStringLiteral("not started"));
    summary->clear();
    QVERIFY(runs->select(QString::fromStdString(r.dir)));
    runs->openSelected();
    QVERIFY(opened.wait(kLoadTimeoutMs));
    QCOMPARE(cell(summary, rowOf(summary, QStringLiteral("full")), QStringLiteral("Outcome")), QStringLiteral("not started"));
    QVERIFY(cell(summary, rowOf(summary, QStringLiteral("lora")), QStringLiteral("Outcome")).startsWith(QStringLiteral("cancelled")));
}

void TestExperiments::bestValidationWithMinDelta()
{
    // Validation losses of the run without min_delta; training does not depend
    // on min_delta, so a second run sees them again.
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("min-delta"), true));
    c.maxSteps = 10;
    c.evalInterval = 1;
    c.evalAtStart = false;
    c.evalBatches = 1;
    c.batchSize = 2;
    c.maxLen = 48;
    c.earlyStopping = false;
    c.samples = 0;
    const std::vector<double> losses = probe::validationLosses(c);
    QCOMPARE(losses.size(), std::size_t{10});
    // A min_delta for which the best step (kept, restored) is not the lowest loss.
    const double minDelta = probe::separatingMinDelta(losses);
    if (minDelta < 0) QSKIP("the losses of this run leave no min_delta that separates the best from the lowest");

    MainWindow w;
    showWindow(w);
    c.minDelta = minDelta;
    w.configPanel()->setConfig(c);
    const Experiment r = runToEnd(w);
    QCOMPARE(r.runs.size(), std::size_t{1});
    QVERIFY(r.runs.front().summary && r.runs.front().summary->bestValLoss);
    const RunSummary& s = *r.runs.front().summary;
    // Evaluations at steps 1, 2, ...: losses[k] is step k + 1's.
    QVERIFY(s.bestStep >= 1 && s.bestStep <= static_cast<std::int64_t>(losses.size()));
    const double atBest = losses[static_cast<std::size_t>(s.bestStep - 1)];
    const double lowest = *std::min_element(losses.begin(), losses.end());
    QCOMPARE(*s.bestValLoss, atBest);
    QVERIFY(*s.bestValLoss > lowest);
    SummaryPanel* summary = w.summaryPanel();
    QCOMPARE(cell(summary, 0, QStringLiteral("Best val loss")), QStringLiteral("%1 (step %2)").arg(QString::number(atBest, 'f', 4)).arg(s.bestStep));
    QVERIFY(summary->headline().contains(QStringLiteral("%1 (step %2)").arg(QString::number(atBest, 'f', 4)).arg(s.bestStep)));
}

void TestExperiments::wheelOnlyWithFocus()
{
    MainWindow w;
    showWindow(w, {1280, 720});
    auto* maxLen = w.configPanel()->findChild<QSpinBox*>(QStringLiteral("maxLen"));
    QVERIFY(maxLen);
    const int before = maxLen->value();
    const auto wheel = [&](QWidget* target) {
        const QPointF at(target->width() / 2.0, target->height() / 2.0);
        QWheelEvent event(at, target->mapToGlobal(at), QPoint(0, 0), QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QApplication::sendEvent(target, &event);
    };
    // Scrolling the form over an unfocused field changes nothing in it.
    w.activateWindow();
    w.tabs()->setFocus();
    QVERIFY(!maxLen->hasFocus());
    wheel(maxLen);
    QCOMPARE(maxLen->value(), before);
    auto* method = w.configPanel()->findChild<QComboBox*>(QStringLiteral("method"));
    const int methodBefore = method->currentIndex();
    wheel(method);
    QCOMPARE(method->currentIndex(), methodBefore);
    // A field the user clicked into takes the wheel.
    maxLen->setFocus();
    QTRY_VERIFY(maxLen->hasFocus());
    wheel(maxLen);
    QVERIFY(maxLen->value() != before);
}

void TestExperiments::smallScreen()
{
    // A new window fits the screen it opens on, whatever it is.
    {
        MainWindow w;
        const QRect available = w.screen()->availableGeometry();
        QVERIFY2(w.width() <= available.width() && w.height() <= available.height(),
                 qPrintable(QStringLiteral("%1x%2 on %3x%4").arg(w.width()).arg(w.height()).arg(available.width()).arg(available.height())));
    }
    // At 1280 x 720 the configuration dock keeps room for the form.
    MainWindow w;
    showWindow(w, {1280, 720});
    QTest::qWait(100);
    auto* scroll = qobject_cast<QScrollArea*>(w.configPanel()->parentWidget()->parentWidget());
    QVERIFY(scroll);
    QVERIFY2(scroll->viewport()->height() >= 300, qPrintable(QString::number(scroll->viewport()->height())));
    // ... and the form fits its width (nothing cut off at the right).
    QVERIFY2(w.configPanel()->minimumSizeHint().width() <= scroll->viewport()->width(),
             qPrintable(QStringLiteral("%1 > %2").arg(w.configPanel()->minimumSizeHint().width()).arg(scroll->viewport()->width())));
    QCOMPARE(w.size(), QSize(1280, 720)); // nothing holds the window wider or taller
    test::saveScreenshot(&w, QStringLiteral("window_1280x720"));
}

// The same run in one process and in two (data-parallel, the window training
// as rank 0 beside a loralab-cli rank), overlaid: the two-process run pauses
// for longer than its group's timeout and goes on.
void TestExperiments::oneAndTwoProcesses()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("processes"), true));
    c.name = "processes";
    c.maxSteps = 8;
    c.evalInterval = 4;
    c.batchSize = 4;
    c.maxLen = 48;
    c.loraDropout = 0.0; // each process would draw its own masks
    c.samples = 0;
    c.threads = 1;
    c.distTimeout = 3;
    // The setting is a field of the form.
    auto* processes = w.findChild<QSpinBox*>(QStringLiteral("processes"));
    QVERIFY(processes);
    w.configPanel()->setConfig(c);
    processes->setValue(2);
    QCOMPARE(w.configPanel()->config().processes, 2);
    w.configPanel()->setConfig(c, {parseSweepAxis("processes=1,2")});
    w.configPanel()->refreshNow();
    QCOMPARE(w.configPanel()->plan().runs.size(), std::size_t{2});

    RunController* controller = w.controller();
    QSignalSpy steps(controller, &RunController::stepRecorded);
    QSignalSpy events(controller, &RunController::eventLogged);
    QSignalSpy finished(controller, &RunController::finished);
    QSignalSpy failed(controller, &RunController::failed);
    w.startAction()->trigger();
    const auto stepsOf = [&](int run) {
        int n = 0;
        for (const auto& s : steps) n += s.first().toInt() == run;
        return n;
    };
    QTRY_VERIFY_WITH_TIMEOUT(stepsOf(1) >= 2 || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.isEmpty() ? QString() : failed.first().first().toString()));
    w.pauseAction()->trigger();
    const auto logged = [&](const QString& text) {
        for (const auto& e : events)
            if (e.first().toString().contains(text)) return true;
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(logged(QStringLiteral("paused at step")), kRunTimeoutMs);
    const int stepsAtPause = stepsOf(1);
    QTest::qWait(static_cast<int>(c.distTimeout) * 1000 + 2000);
    QCOMPARE(stepsOf(1), stepsAtPause);
    w.resumeAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.isEmpty() ? QString() : failed.first().first().toString()));
    const auto result = finished.first().first().value<Experiment>();
    QCOMPARE(result.runs.size(), std::size_t{2});
    for (const ExperimentRun& run : result.runs) QCOMPARE(run.state, RunState::Completed);

    // Rank 0 wrote the metrics once; its steps say the group's size; the
    // losses are the one-process run's within fp32 summation-order noise.
    const RunRecords one = readRunRecords(result.runs[0].dir);
    const RunRecords two = readRunRecords(result.runs[1].dir);
    QCOMPARE(one.steps.size(), std::size_t{8});
    QCOMPARE(two.steps.size(), std::size_t{8});
    for (std::size_t i = 0; i < 8; ++i) {
        QCOMPARE(one.steps[i].worldSize, 1);
        QCOMPARE(two.steps[i].worldSize, 2);
        QCOMPARE(two.steps[i].step, static_cast<std::int64_t>(i + 1));
        QVERIFY2(std::abs(two.steps[i].loss - one.steps[i].loss) <= 1e-4 * std::abs(one.steps[i].loss),
                 qPrintable(QStringLiteral("step %1: %2 vs %3").arg(i + 1).arg(two.steps[i].loss).arg(one.steps[i].loss)));
    }
    QVERIFY(logged(QStringLiteral("2 processes")));

    // Both loss curves in the charts, one trace each.
    ChartsPanel* charts = w.chartsPanel();
    charts->flush();
    QCOMPARE(charts->runCount(), 2);
    for (int run = 0; run < 2; ++run) QCOMPARE(charts->lossChart()->pointCount(ChartsPanel::seriesId(run, QStringLiteral("ema"))), 8);
    w.tabs()->setCurrentIndex(MainWindow::kChartsTab);
    test::saveScreenshot(&w, QStringLiteral("processes_1_and_2_charts"));
}

QTEST_MAIN(TestExperiments)
#include "test_experiments.moc"
