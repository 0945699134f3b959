// The Runs tab: a finished run reopened with its charts, summary and answers,
// runs overlaid and exported; titles, notes and the trash.
#include "ui_test_support.h"

#include "engine/experiment/experiment.h"
#include "engine/records/metrics.h"
#include "tests/engine/min_delta_probe.h"
#include "ui/charts/charts_panel.h"
#include "ui/charts/memory_breakdown_chart.h"
#include "ui/charts/metric_chart.h"
#include "ui/charts/run_legend.h"
#include "ui/config/config_panel.h"
#include "ui/controllers/run_controller.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/experiment/summary_panel.h"
#include "ui/generations/generation_panel.h"
#include "ui/main_window.h"
#include "ui/message_banner.h"
#include "ui/runs/runs_panel.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>
#include <QWheelEvent>
#include <nlohmann/json.hpp>

using namespace loralab;
using namespace loralab::ui;

namespace {
constexpr int kLoadTimeoutMs = 60000;

void showWindow(MainWindow& w, const QSize& size = {1500, 950})
{
    w.resize(size);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
}
} // namespace

class TestRunsTab : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void reopenRun();
    void runsPanelTitlesNotesTrash();
};

void TestRunsTab::initTestCase()
{
    test::useTestLocations();
}

void TestRunsTab::init() { QSettings().clear(); }

void TestRunsTab::reopenRun()
{
    const QString runs = test::runsDir(QStringLiteral("short"), false);
    const QString runDir = test::newestFinishedRun(runs);
    QVERIFY2(!runDir.isEmpty(), "the short_run fixture left no finished run");
    const RunRecords records = readRunRecords(runDir.toStdString());
    QVERIFY(!records.steps.empty());

    MainWindow w;
    showWindow(w);
    w.tabs()->setCurrentIndex(MainWindow::kRunsTab);
    RunsPanel* panel = w.runsPanel();
    QSignalSpy listed(panel, &RunsPanel::listed);
    QSignalSpy opened(panel, &RunsPanel::opened);
    panel->setRunsDir(runs);
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty() && listed.last().first().toInt() >= 1, kLoadTimeoutMs);
    test::saveScreenshot(&w, QStringLiteral("reopen_runs_list"));
    QVERIFY(panel->select(runDir));
    panel->openSelected();
    QVERIFY(opened.wait(kLoadTimeoutMs));

    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::kChartsTab));
    QCOMPARE(w.chartsPanel()->stepPointCount(), static_cast<int>(records.steps.size()));
    QCOMPARE(w.chartsPanel()->evalPointCount(), static_cast<int>(records.evals.size()));
    QCOMPARE(w.generationPanel()->table()->rowCount(), static_cast<int>(records.samples.size()));
    QCOMPARE(w.summaryPanel()->table()->rowCount(), 1);
    test::saveScreenshot(&w, QStringLiteral("reopen_run"));

    // Runs overlaid: here the same run three times, drawn as three traces
    // and summarised in three rows.
    Experiment one = readExperiment(runDir.toStdString(), /*withMetrics=*/true);
    Experiment overlay;
    for (int i = 0; i < 3; ++i) {
        ExperimentRun run = one.runs.front();
        run.label = "run " + std::to_string(i + 1);
        overlay.runs.push_back(run);
    }
    emit panel->opened(overlay);
    QCOMPARE(w.chartsPanel()->runCount(), 3);
    QCOMPARE(w.chartsPanel()->stepPointCount(), 3 * static_cast<int>(records.steps.size()));
    QCOMPARE(w.summaryPanel()->table()->rowCount(), 3);
    test::saveScreenshot(&w, QStringLiteral("reopen_overlay"));

    // Export merged model: a Hugging Face folder, whole; a second export into it is refused.
    w.tabs()->setCurrentIndex(MainWindow::kRunsTab);
    QVERIFY(panel->select(runDir));
    auto* exportButton = panel->findChild<QPushButton*>(QStringLiteral("exportRun"));
    QVERIFY(exportButton && exportButton->isEnabled());
    QVERIFY(exportButton->menu() && exportButton->menu()->actions().size() == 2); // merged folder, GGUF
    const QString out = test::runsDir(QStringLiteral("export"), true) + QStringLiteral("/merged");
    QSignalSpy exported(panel, &RunsPanel::exported);
    QSignalSpy failed(panel, &RunsPanel::failed);
    panel->exportMerged(runDir, out);
    QVERIFY(exported.wait(kLoadTimeoutMs));
    QCOMPARE(exported.first().first().toString(), out);
    for (const char* file : {"config.json", "model.safetensors", "tokenizer.model"})
        QVERIFY2(QFileInfo::exists(out + QLatin1Char('/') + QLatin1String(file)), file);
    QVERIFY(w.banner()->isVisibleTo(&w));
    test::saveScreenshot(&w, QStringLiteral("export_merged"));
    panel->exportMerged(runDir, out);
    QVERIFY(failed.wait(kLoadTimeoutMs));
    QVERIFY(failed.first().first().toString().contains(QStringLiteral("already exists")));

    // GGUF: one file that starts with the format's magic.
    const QString gguf = test::runsDir(QStringLiteral("export"), false) + QStringLiteral("/model-q8_0.gguf");
    panel->exportGguf(runDir, gguf, loralab::GgufType::Q8_0);
    QVERIFY(exported.wait(kLoadTimeoutMs));
    QCOMPARE(exported.last().first().toString(), gguf);
    QFile file(gguf);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.read(4), QByteArray("GGUF"));
}

void TestRunsTab::runsPanelTitlesNotesTrash()
{
    // Two runs made by the engine directly: the Runs tab is about listing them.
    const QString runsDir = test::runsDir(QStringLiteral("runs-panel"), true);
    RunConfig c = test::shortConfig(runsDir);
    c.maxSteps = 1;
    c.evalInterval = 0;
    c.evalAtStart = false;
    c.samples = 0;
    c.loraRank = 4;
    c.learningRate = 3e-3;
    RunControl control;
    const RunResult a = trainRun(c, control, {});
    c.name = "second";
    const RunResult b = trainRun(c, control, {});
    const QString dirA = QString::fromStdString(a.summary.runDir);
    const QString dirB = QString::fromStdString(b.summary.runDir);

    MainWindow w;
    showWindow(w);
    w.tabs()->setCurrentIndex(MainWindow::kRunsTab);
    RunsPanel* panel = w.runsPanel();
    QSignalSpy listed(panel, &RunsPanel::listed);
    w.configPanel()->setConfig(c); // the window's runs folder is the configuration's
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty() && listed.last().first().toInt() == 2, kLoadTimeoutMs);
    // Hyperparameter columns.
    QTreeWidget* tree = panel->tree();
    QCOMPARE(tree->headerItem()->text(2), QStringLiteral("LR"));
    QCOMPARE(tree->topLevelItem(0)->text(2), QStringLiteral("0.003"));
    QCOMPARE(tree->topLevelItem(0)->text(3), QStringLiteral("4"));

    // A title names the run in the list.
    listed.clear();
    QVERIFY(panel->rename(dirA, QStringLiteral("baseline r4")));
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty(), kLoadTimeoutMs);
    bool titled = false;
    for (int i = 0; i < tree->topLevelItemCount(); ++i) titled = titled || tree->topLevelItem(i)->text(0) == QStringLiteral("baseline r4");
    QVERIFY(titled);
    // Notes are kept with the run as they are typed.
    QVERIFY(panel->select(dirA));
    auto* notes = panel->findChild<QPlainTextEdit*>(QStringLiteral("runNotes"));
    QVERIFY(notes && notes->isEnabled());
    notes->setPlainText(QStringLiteral("lr 3e-3 looked unstable"));
    QCOMPARE(QString::fromStdString(readNotes(dirA.toStdString()).notes), QStringLiteral("lr 3e-3 looked unstable"));
    test::saveScreenshot(&w, QStringLiteral("runs_panel"));

    // New run from this configuration: the form takes it.
    tree->clearSelection();
    QVERIFY(panel->select(dirB));
    panel->newRunFromSelected();
    QCOMPARE(QString::fromStdString(w.configPanel()->config().name), QStringLiteral("second"));
    QCOMPARE(w.configPanel()->config().loraRank, 4);

    // Delete: to the trash (the XDG one CTest gives this test), gone from the list.
    if (qEnvironmentVariableIsEmpty("XDG_DATA_HOME")) QSKIP("needs XDG_DATA_HOME for a trash of its own (tests/ui/CMakeLists.txt sets it)");
    QStandardPaths::setTestModeEnabled(false);
    const QString data = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    QVERIFY(QDir().mkpath(data));
    listed.clear();
    QString error;
    const bool trashed = panel->moveToTrash({dirB}, &error);
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY2(trashed, qPrintable(error));
    QVERIFY(!QFileInfo::exists(dirB));
    QVERIFY(QDir(data + QStringLiteral("/Trash/files")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).contains(QFileInfo(dirB).fileName()));
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty() && listed.last().first().toInt() == 1, kLoadTimeoutMs);
}

QTEST_MAIN(TestRunsTab)
#include "test_runs_tab.moc"
