// Window tests: each drives the real MainWindow offscreen, like a user would
// (fields, actions, buttons), and checks what the widgets show.
#include "ui_test_support.h"

#include "ui/charts/charts_panel.h"
#include "ui/config/config_panel.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/generations/generation_panel.h"
#include "ui/main_window.h"
#include "ui/message_banner.h"
#include "ui/charts/metric_chart.h"
#include "ui/controllers/run_controller.h"
#include "ui/runs/runs_panel.h"
#include "ui/experiment/summary_panel.h"

#include "engine/records/metrics.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QSpinBox>
#include <QSettings>
#include <QMenu>
#include <QPushButton>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>

using namespace loralab;
using namespace loralab::ui;

namespace {
constexpr int kRunTimeoutMs = 150000; // a short run on two busy cores, with slack
constexpr int kLoadTimeoutMs = 60000;

void showWindow(MainWindow& w)
{
    w.resize(1500, 950);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
}
} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void firstStart();
    void shortRun();
    void earlyStopping();
    void badDataset();
    void huggingFaceCache();
    void huggingFaceDatasets();
    void pauseAndGenerate();
    void generation();
};

void TestMainWindow::initTestCase()
{
    test::useTestLocations();
}

void TestMainWindow::init() { QSettings().clear(); }

void TestMainWindow::firstStart()
{
    MainWindow w;
    showWindow(w);
    QSignalSpy preview(w.datasetPanel(), &DatasetPanel::previewLoaded);

    // Out of the box: the embedded model and dialogues, LoRA, nothing to fix.
    const RunConfig c = w.configPanel()->config();
    QCOMPARE(QString::fromStdString(c.model), QStringLiteral("default"));
    QCOMPARE(QString::fromStdString(c.dataset), QStringLiteral("default:dialogues"));
    QCOMPARE(c.method, Method::Lora);
    QVERIFY2(w.configPanel()->problems().isEmpty(), qPrintable(w.configPanel()->problems().join('\n')));
    QVERIFY(w.startAction()->isEnabled());
    QVERIFY(!w.pauseAction()->isEnabled());
    QVERIFY(w.banner()->isVisible()); // the welcome line

    // The target checklist comes from the model, the count from the engine.
    auto* targets = w.findChild<QListWidget*>(QStringLiteral("targetModules"));
    QVERIFY(targets && targets->count() >= 2);
    auto* trainable = w.findChild<QLabel*>(QStringLiteral("trainableCount"));
    QVERIFY(trainable && trainable->text().contains(QLatin1Char('%')));
    auto* lr = w.findChild<QWidget*>(QStringLiteral("learningRate"));
    QVERIFY(lr && lr->toolTip().contains(QStringLiteral("learning_rate")));

    // A refused value shows its problem next to the field and disables Start.
    auto* batch = w.findChild<QSpinBox*>(QStringLiteral("batchSize"));
    QVERIFY(batch);
    RunConfig bad = c;
    bad.learningRate = 0.0;
    w.configPanel()->setConfig(bad);
    auto* message = w.findChild<QLabel*>(QStringLiteral("fieldMessage_learning_rate"));
    QVERIFY(message && message->isVisibleTo(&w) && !message->text().isEmpty());
    QVERIFY(!w.startAction()->isEnabled());
    w.configPanel()->setConfig(c);
    QVERIFY(w.startAction()->isEnabled());

    // The model section says whether a step fits, and what would make it fit.
    auto* info = w.findChild<QLabel*>(QStringLiteral("modelInfo"));
    QVERIFY(info);
    QTRY_VERIFY2_WITH_TIMEOUT(info->text().contains(QStringLiteral("Memory: about <b>")) && info->text().endsWith(QStringLiteral(": fits")),
                              qPrintable(info->text()), kLoadTimeoutMs);
    QVERIFY2(info->toolTip().contains(QStringLiteral("activation_checkpointing 1: about")), qPrintable(info->toolTip()));
    RunConfig tight = c;
    tight.memoryLimitGib = 0.1; // the embedded model's LoRA step needs about 260 MiB at 16 x 128
    w.configPanel()->setConfig(tight);
    QTRY_VERIFY2_WITH_TIMEOUT(info->text().contains(QStringLiteral("does not fit</b>; it fits with ")) &&
                                  info->text().contains(QStringLiteral("activation_checkpointing 1")),
                              qPrintable(info->text()), kLoadTimeoutMs);
    QVERIFY(w.startAction()->isEnabled()); // the engine refuses it with the same levers; the estimate may be cautious
    QTest::qWait(50); // the form lays the longer line out
    test::saveScreenshot(w.configPanel(), QStringLiteral("first_start_memory_does_not_fit"));
    w.configPanel()->setConfig(c);

    // The dataset preview arrives from its worker thread.
    QVERIFY(preview.wait(kLoadTimeoutMs) || preview.count() > 0);
    w.tabs()->setCurrentIndex(MainWindow::kDatasetTab);
    QTRY_VERIFY_WITH_TIMEOUT(w.datasetPanel()->table()->model()->rowCount() > 0, kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(w.datasetPanel()->tokenHtml().contains(QStringLiteral("#a5d6a7")), kLoadTimeoutMs);
    test::saveScreenshot(&w, QStringLiteral("first_start_dataset"));
    w.tabs()->setCurrentIndex(MainWindow::kChartsTab);
    test::saveScreenshot(&w, QStringLiteral("first_start"));
    test::saveScreenshot(w.configPanel(), QStringLiteral("first_start_config_form"));

    // Save config writes the JSON the CLI reads; Load reads it back.
    RunConfig edited = c;
    edited.loraRank = 4;
    edited.learningRate = 5e-4;
    edited.activationCheckpointing = 2;
    w.configPanel()->setConfig(edited);
    const QString path = test::runsDir(QStringLiteral("config"), true) + QStringLiteral("/run.json");
    QVERIFY(w.saveConfigFile(path));
    const RunConfig saved = loadRunConfig(path.toStdString());
    QCOMPARE(saved.loraRank, 4);
    QCOMPARE(saved.activationCheckpointing, std::int64_t{2}); // the form's Recompute activations field
    QCOMPARE(QString::fromStdString(runConfigToJson(saved)), QString::fromStdString(runConfigToJson(w.configPanel()->config())));
    w.configPanel()->setConfig(c);
    QVERIFY(w.loadConfigFile(path));
    QCOMPARE(w.configPanel()->config().loraRank, 4);
    QCOMPARE(w.configPanel()->config().activationCheckpointing, std::int64_t{2});

    // Settings persist: a new window starts where this one was closed.
    QVERIFY(w.close());
    MainWindow again;
    QCOMPARE(again.configPanel()->config().loraRank, 4);
    QCOMPARE(again.configPanel()->config().learningRate, 5e-4);
    QVERIFY(!again.banner()->isVisibleTo(&again)); // the welcome is for the first start only
}

void TestMainWindow::badDataset()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("bad"), true));
    c.dataset = test::runsDir(QStringLiteral("bad"), false).toStdString() + "/missing.jsonl";
    w.configPanel()->setConfig(c);
    QSignalSpy failed(w.controller(), &RunController::failed);
    QSignalSpy previewFailed(w.datasetPanel(), &DatasetPanel::previewFailed);
    w.startAction()->trigger();
    QVERIFY(failed.wait(kRunTimeoutMs));
    // The message names the file; the window stays usable.
    QVERIFY2(failed.first().first().toString().contains(QStringLiteral("missing.jsonl")),
             qPrintable(failed.first().first().toString()));
    QVERIFY(w.banner()->isVisible());
    QCOMPARE(w.banner()->level(), MessageBanner::Level::Error);
    QVERIFY(w.banner()->text().contains(QStringLiteral("missing.jsonl")));
    QVERIFY(!w.controller()->isBusy());
    QVERIFY(w.startAction()->isEnabled());
    // The preview reports the same problem next to the dataset field.
    QTRY_VERIFY_WITH_TIMEOUT(!previewFailed.isEmpty(), kLoadTimeoutMs);
    auto* detected = w.findChild<QLabel*>(QStringLiteral("datasetDetected"));
    QVERIFY(detected && detected->text().contains(QStringLiteral("missing.jsonl")));
    test::saveScreenshot(&w, QStringLiteral("bad_dataset"));
}

void TestMainWindow::huggingFaceCache()
{
    // CTest points HF_HUB_CACHE at the cache that hf_cache/cli_cache_layout lays out.
    const QByteArray cache = qgetenv("HF_HUB_CACHE");
    if (cache.isEmpty()) QSKIP("needs HF_HUB_CACHE set to the test cache (tests/ui/CMakeLists.txt sets it)");
    MainWindow w;
    showWindow(w);
    auto* source = w.findChild<QComboBox*>(QStringLiteral("modelSource"));
    auto* cached = w.findChild<QComboBox*>(QStringLiteral("modelCached"));
    auto* message = w.findChild<QLabel*>(QStringLiteral("fieldMessage_model"));
    auto* info = w.findChild<QLabel*>(QStringLiteral("modelInfo"));
    QVERIFY(source && cached && message && info);
    const int cacheSource = source->findText(QStringLiteral("Hugging Face cache"));
    QVERIFY(cacheSource >= 0);

    // Picking the source lists the cache; a pick stores Org/Name.
    source->setCurrentIndex(cacheSource);
    QVERIFY(cached->isVisibleTo(&w));
    const int neox = cached->findData(QStringLiteral("EleutherAI/tiny-gpt-neox"));
    QVERIFY(neox >= 0);
    QVERIFY2(cached->itemText(neox).startsWith(QStringLiteral("EleutherAI/tiny-gpt-neox · gpt_neox · ")) &&
                 cached->itemText(neox).endsWith(QStringLiteral(" KiB")),
             qPrintable(cached->itemText(neox)));
    cached->setCurrentIndex(neox);
    QCOMPARE(QString::fromStdString(w.configPanel()->config().model), QStringLiteral("EleutherAI/tiny-gpt-neox"));
    // The overview is read from the snapshot folder: the fixture's 165,632
    // parameters, not the embedded model's millions.
    QTRY_VERIFY_WITH_TIMEOUT(info->text().contains(QStringLiteral("gpt_neox</b> · 165.6 k parameters")), kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(w.startAction()->isEnabled(), kLoadTimeoutMs);
    test::saveScreenshot(w.configPanel(), QStringLiteral("hf_cache_config_form"));

    // A config naming Org/Name opens on the cache source, even one the cache lacks.
    RunConfig c = w.configPanel()->config();
    c.model = "Qwen/tiny-qwen2";
    w.configPanel()->setConfig(c);
    QCOMPARE(source->currentIndex(), cacheSource);
    QCOMPARE(cached->currentData().toString(), QStringLiteral("Qwen/tiny-qwen2"));
    c.model = "EleutherAI/pythia-70m";
    w.configPanel()->setConfig(c);
    QCOMPARE(cached->currentData().toString(), QStringLiteral("EleutherAI/pythia-70m"));
    QTRY_VERIFY_WITH_TIMEOUT(message->isVisibleTo(&w) && message->text().contains(QString::fromLocal8Bit(cache)), kLoadTimeoutMs);
    QVERIFY(!w.startAction()->isEnabled());

    // An empty cache says where it looked, and Start stays off rather than
    // train the embedded model instead.
    const QString absent = test::runsDir(QStringLiteral("hf-cache"), true) + QStringLiteral("/absent-hub");
    qputenv("HF_HUB_CACHE", absent.toLocal8Bit());
    source->setCurrentIndex(0);
    source->setCurrentIndex(cacheSource);
    qputenv("HF_HUB_CACHE", cache);
    QVERIFY(!cached->isVisibleTo(&w));
    QTRY_VERIFY_WITH_TIMEOUT(message->isVisibleTo(&w) && message->text().contains(QStringLiteral("No models in the Hugging Face cache ") + absent),
                             kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!w.startAction()->isEnabled(), kLoadTimeoutMs);
    test::saveScreenshot(w.configPanel(), QStringLiteral("hf_cache_empty"));
}

void TestMainWindow::huggingFaceDatasets()
{
    // CTest points HF_HUB_CACHE and HF_DATASETS_CACHE at tests/data/hub_datasets.
    if (qgetenv("HF_DATASETS_CACHE").isEmpty()) QSKIP("needs HF_HUB_CACHE and HF_DATASETS_CACHE set to tests/data/hub_datasets");
    MainWindow w;
    showWindow(w);
    auto* source = w.findChild<QComboBox*>(QStringLiteral("datasetSource"));
    auto* hub = w.findChild<QComboBox*>(QStringLiteral("datasetHub"));
    auto* config = w.findChild<QComboBox*>(QStringLiteral("datasetConfig"));
    auto* split = w.findChild<QComboBox*>(QStringLiteral("datasetSplit"));
    auto* validation = w.findChild<QComboBox*>(QStringLiteral("validationSplit"));
    auto* messages = w.findChild<QLineEdit*>(QStringLiteral("column_messages"));
    auto* packing = w.findChild<QCheckBox*>(QStringLiteral("packing"));
    auto* detected = w.findChild<QLabel*>(QStringLiteral("datasetDetected"));
    QVERIFY(source && hub && config && split && validation && messages && packing && detected);
    const int cacheSource = source->findText(QStringLiteral("Hugging Face cache"));
    QVERIFY(cacheSource >= 0);
    source->setCurrentIndex(cacheSource);
    QVERIFY(hub->isVisibleTo(&w));
    QVERIFY(hub->findText(QStringLiteral("Salesforce/wikitext")) >= 0);
    // WikiText: its two configurations, the splits of the one picked.
    hub->setCurrentText(QStringLiteral("Salesforce/wikitext"));
    QCOMPARE(config->count(), 2);
    config->setCurrentIndex(config->findText(QStringLiteral("wikitext-2-raw-v1")));
    QCOMPARE(split->count(), 3);
    RunConfig c = w.configPanel()->config();
    QCOMPARE(c.dataset, std::string("Salesforce/wikitext"));
    QCOMPARE(c.datasetConfig, std::string("wikitext-2-raw-v1"));
    QCOMPARE(c.datasetSplit, std::string("train"));
    QTRY_VERIFY_WITH_TIMEOUT(detected->text().contains(QStringLiteral("text · ")), kLoadTimeoutMs);

    // A chat dataset whose messages sit in "dialog": refused until the column is named.
    hub->setCurrentText(QStringLiteral("lab-fixtures/chat-sft"));
    QTRY_VERIFY2_WITH_TIMEOUT(detected->text().contains(QStringLiteral("messages_column")), qPrintable(detected->text()), kLoadTimeoutMs);
    messages->setText(QStringLiteral("dialog"));
    packing->setChecked(true);
    QTRY_VERIFY2_WITH_TIMEOUT(detected->text() == QStringLiteral("chat · 7 examples"), qPrintable(detected->text()), kLoadTimeoutMs);
    c = w.configPanel()->config();
    QCOMPARE(c.messagesColumn, std::string("dialog"));
    QVERIFY(c.packing);
    // The Dataset tab shows the dialogues as a chat template renders them, the
    // assistant's tokens marked (the chat fixture's tokenizer carries a ChatML template).
    const std::filesystem::path testData = std::filesystem::path(qgetenv("HF_HUB_CACHE").toStdString()).parent_path().parent_path();
    c.tokenizer = (testData / "chat" / "model").string();
    w.configPanel()->setConfig(c);
    w.tabs()->setCurrentIndex(MainWindow::kDatasetTab);
    QTRY_VERIFY_WITH_TIMEOUT(w.datasetPanel()->table()->model()->rowCount() == 7, kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(w.datasetPanel()->tokenHtml().contains(QStringLiteral("im_start")) &&
                                 w.datasetPanel()->tokenHtml().contains(QStringLiteral("#a5d6a7")),
                             kLoadTimeoutMs);
    test::saveScreenshot(&w, QStringLiteral("hub_dataset_chat_preview"));
    w.tabs()->setCurrentIndex(MainWindow::kChartsTab);
    validation->setCurrentIndex(validation->findData(QStringLiteral("test")));
    QCOMPARE(w.configPanel()->config().validationSplit, std::string("test"));

    // A saved config opens on the cache source with its parts.
    c.dataset = "Anthropic/hh-rlhf";
    c.datasetDataDir = "harmless-base";
    c.validationSplit = "test";
    c.messagesColumn.clear();
    w.configPanel()->setConfig(c);
    QCOMPARE(source->currentIndex(), cacheSource);
    QCOMPARE(hub->currentText(), QStringLiteral("Anthropic/hh-rlhf"));
    QCOMPARE(w.configPanel()->config().datasetDataDir, std::string("harmless-base"));
    QCOMPARE(w.configPanel()->config().validationSplit, std::string("test"));
    QTRY_VERIFY2_WITH_TIMEOUT(detected->text() == QStringLiteral("hh-rlhf · 6 examples"), qPrintable(detected->text()), kLoadTimeoutMs);
    test::saveScreenshot(w.configPanel(), QStringLiteral("hub_dataset_config_form"));
}

void TestMainWindow::shortRun()
{
    MainWindow w;
    showWindow(w);
    const QString runs = test::runsDir(QStringLiteral("short"), true);
    w.configPanel()->setConfig(test::shortConfig(runs));
    QVERIFY2(w.configPanel()->problems().isEmpty(), qPrintable(w.configPanel()->problems().join('\n')));

    RunController* controller = w.controller();
    QSignalSpy steps(controller, &RunController::stepRecorded);
    QSignalSpy evals(controller, &RunController::evalRecorded);
    QSignalSpy finished(controller, &RunController::finished);
    QSignalSpy failed(controller, &RunController::failed);
    w.startAction()->trigger();
    QVERIFY(controller->isBusy());
    QVERIFY(!w.startAction()->isEnabled());
    QVERIFY(w.pauseAction()->isEnabled());

    // Points reach the charts while the run goes on (by the refresh timer).
    QTRY_VERIFY_WITH_TIMEOUT(w.chartsPanel()->stepPointCount() > 0 || !finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));

    QCOMPARE(steps.count(), 6);
    QCOMPARE(evals.count(), 4);
    QTest::qWait(250); // one refresh tick
    ChartsPanel* charts = w.chartsPanel();
    QCOMPARE(charts->stepPointCount(), 6);
    QCOMPARE(charts->evalPointCount(), 4);
    QCOMPARE(charts->timeChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("fwd"))), 6);
    QCOMPARE(charts->memoryChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("peak"))), 6);
    QCOMPARE(charts->memoryChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("est"))), 6);
    QCOMPARE(charts->memoryChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("rss"))), 6);
    QCOMPARE(charts->throughputChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("tps"))), 6);
    // Learning rate and gradient norm are recorded every step, and drawn.
    QCOMPARE(charts->learningRateChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("lr"))), 6);
    QCOMPARE(charts->gradNormChart()->pointCount(ChartsPanel::seriesId(0, QStringLiteral("gn"))), 6);

    const auto result = finished.first().first().value<Experiment>();
    QCOMPARE(result.runs.size(), std::size_t{1});
    QVERIFY(result.runs.front().summary);
    const RunSummary& summary = *result.runs.front().summary;
    QCOMPARE(QString::fromLatin1(choiceName(summary.state)), QStringLiteral("completed"));
    QCOMPARE(summary.steps, 6);
    QVERIFY(!controller->isBusy());
    QVERIFY(w.startAction()->isEnabled());
    QCOMPARE(w.progressBar()->value(), w.progressBar()->maximum());

    // The summary (a row for the run) and the run's samples are shown.
    QCOMPARE(w.summaryPanel()->table()->rowCount(), 1);
    QVERIFY(w.summaryPanel()->table()->item(0, 0) && !w.summaryPanel()->table()->item(0, 0)->text().isEmpty());
    QTableWidget* generations = w.generationPanel()->table();
    QCOMPARE(generations->rowCount(), 2);
    QVERIFY(!generations->item(0, GenerationPanel::kInput)->text().isEmpty());
    test::saveScreenshot(&w, QStringLiteral("short_run_charts"));
    w.tabs()->setCurrentIndex(MainWindow::kSummaryTab);
    test::saveScreenshot(&w, QStringLiteral("short_run_summary"));
    w.tabs()->setCurrentIndex(MainWindow::kGenerationsTab);
    test::saveScreenshot(&w, QStringLiteral("short_run_samples"));
}

void TestMainWindow::earlyStopping()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("early"), true));
    // No evaluation after the first (the step-0 baseline) can improve by a
    // million: patience 1 ends the run at the next one, after step 1.
    c.maxSteps = 40;
    c.evalInterval = 1;
    c.earlyStopping = true;
    c.patience = 1;
    c.minDelta = 1e6;
    c.samples = 0;
    w.configPanel()->setConfig(c);

    QSignalSpy finished(w.controller(), &RunController::finished);
    QSignalSpy failed(w.controller(), &RunController::failed);
    QSignalSpy evals(w.controller(), &RunController::evalRecorded);
    w.startAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));

    const auto result = finished.first().first().value<Experiment>();
    QVERIFY(result.runs.front().summary);
    const RunSummary& summary = *result.runs.front().summary;
    QCOMPARE(QString::fromLatin1(choiceName(summary.state)), QStringLiteral("early_stopping"));
    QCOMPARE(summary.steps, 1);
    QCOMPARE(evals.count(), 2);
    const auto last = evals.last().at(1).value<EvalRecord>();
    QVERIFY(!last.improved);
    QCOMPARE(last.evalsLeft, 0);

    // The readout says so.
    EarlyStoppingPanel* panel = w.earlyStoppingPanel();
    QVERIFY2(panel->statusText().contains(QStringLiteral("early stopping")), qPrintable(panel->statusText()));
    auto* left = w.findChild<QLabel*>(QStringLiteral("evalsLeft"));
    QVERIFY(left && left->text().startsWith(QLatin1Char('0')));
    auto* since = w.findChild<QLabel*>(QStringLiteral("evalsSinceBest"));
    QVERIFY(since && since->text().startsWith(QLatin1Char('1')));
    QVERIFY(w.banner()->text().contains(QStringLiteral("stopped early")));
    test::saveScreenshot(&w, QStringLiteral("early_stopping"));
}

namespace {
int evalsSeen(MainWindow& w)
{
    w.chartsPanel()->flush();
    return w.chartsPanel()->evalPointCount();
}
} // namespace

void TestMainWindow::pauseAndGenerate()
{
    MainWindow w;
    showWindow(w);
    RunConfig c = test::shortConfig(test::runsDir(QStringLiteral("pause"), true));
    c.maxSteps = 500; // far more than the test lets it do
    c.evalInterval = 2;
    c.evalAtStart = false;
    c.checkpointInterval = 2;
    c.samples = 0;
    w.configPanel()->setConfig(c);
    RunController* controller = w.controller();
    QSignalSpy steps(controller, &RunController::stepRecorded);
    QSignalSpy events(controller, &RunController::eventLogged);
    QSignalSpy finished(controller, &RunController::finished);
    w.startAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 2, kRunTimeoutMs);

    // Pause: the engine holds between steps and leaves checkpoints/last.
    w.pauseAction()->trigger();
    QCOMPARE(controller->state(), RunController::State::Paused);
    QVERIFY(w.resumeAction()->isEnabled());
    const auto pausedEvent = [&] {
        for (const auto& e : events)
            if (e.first().toString().startsWith(QStringLiteral("paused at step"))) return true;
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(pausedEvent(), kRunTimeoutMs);
    QElapsedTimer pausedFor;
    pausedFor.start();
    const int stepsAtPause = steps.count();
    // The banner and the progress bar say the run is paused; no ETA runs on.
    QTRY_VERIFY_WITH_TIMEOUT(w.banner()->isVisible() && w.banner()->text().startsWith(QStringLiteral("Paused")), kLoadTimeoutMs);
    QVERIFY2(w.progressBar()->format().startsWith(QStringLiteral("paused at step")), qPrintable(w.progressBar()->format()));
    QTest::qWait(300);
    QCOMPARE(steps.count(), stepsAtPause);

    // The Generations tab now points at the paused run's last checkpoint.
    GenerationPanel* panel = w.generationPanel();
    w.tabs()->setCurrentIndex(MainWindow::kGenerationsTab);
    auto* runDir = panel->findChild<QLineEdit*>(QStringLiteral("generationRunDir"));
    QCOMPARE(runDir->text(), controller->runDir());
    SamplingOptions options = panel->samplingOptions();
    options.maxNewTokens = 8;
    options.stopAtEos = false;
    panel->setSamplingOptions(options);
    QSignalSpy opened(panel, &GenerationPanel::sessionOpened);
    QSignalSpy idle(panel, &GenerationPanel::idle);
    panel->addPrompt(QStringLiteral("\n\nHuman: Name a fruit.\n\nAssistant:"));
    panel->generateAll();
    QVERIFY(opened.wait(kLoadTimeoutMs));
    QVERIFY(opened.first().at(1).toBool());
    QTRY_VERIFY_WITH_TIMEOUT(!idle.isEmpty() && !panel->isBusy(), kRunTimeoutMs);
    QVERIFY(!panel->table()->item(0, GenerationPanel::kTuned)->text().startsWith(QLatin1Char('(')));
    test::saveScreenshot(&w, QStringLiteral("paused_generation"));

    // Patience and the evaluation interval change while the run goes on:
    // the engine applies them between steps and says so.
    auto* patience = w.findChild<QSpinBox*>(QStringLiteral("patience"));
    auto* interval = w.findChild<QSpinBox*>(QStringLiteral("evalInterval"));
    QVERIFY(patience && patience->isEnabled() && interval && interval->isEnabled());
    patience->setValue(7);
    interval->setValue(3);
    const auto logged = [&](const QString& start) {
        for (const auto& e : events)
            if (e.first().toString().startsWith(start)) return true;
        return false;
    };

    // Resume: the banner goes, and the ETA runs again; then cancel: the run
    // ends as cancelled, still in one piece, its wall time without the pause.
    const double pauseSeconds = pausedFor.elapsed() / 1000.0;
    w.resumeAction()->trigger();
    QCOMPARE(controller->state(), RunController::State::Running);
    QVERIFY(!w.banner()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() > stepsAtPause, kRunTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(w.progressBar()->format().contains(QStringLiteral("ETA")) &&
                                 !w.progressBar()->format().startsWith(QStringLiteral("paused")),
                             kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(logged(QStringLiteral("patience set to 7")), kRunTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(logged(QStringLiteral("evaluation interval set to 3")), kRunTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(evalsSeen(w) >= 2, kRunTimeoutMs); // something for early stopping to remember
    w.cancelAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
    const auto result = finished.first().first().value<Experiment>();
    QVERIFY(result.runs.front().summary);
    const RunSummary summary = *result.runs.front().summary;
    QCOMPARE(QString::fromLatin1(choiceName(summary.state)), QStringLiteral("cancelled"));
    QVERIFY(summary.steps < 500);
    QVERIFY2(summary.pausedSeconds >= pauseSeconds * 0.9, qPrintable(QString::number(summary.pausedSeconds)));
    QVERIFY(w.banner()->text().contains(QStringLiteral("cancelled")));
    QVERIFY(!w.banner()->text().contains(QStringLiteral("completed")));

    // Continue from the Runs tab: the charts start with every step taken so
    // far, and early stopping's readout with the last evaluation.
    const QString continuedDir = QString::fromStdString(summary.runDir);
    const RunRecords before = readRunRecords(summary.runDir);
    QVERIFY(!before.evals.empty());
    RunsPanel* runs = w.runsPanel();
    QSignalSpy listed(runs, &RunsPanel::listed);
    QSignalSpy continued(runs, &RunsPanel::continueRequested);
    runs->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty(), kLoadTimeoutMs);
    QVERIFY(runs->select(continuedDir));
    runs->continueSelected();
    QVERIFY(continued.wait(kLoadTimeoutMs));
    QVERIFY(controller->isBusy());
    QCOMPARE(w.chartsPanel()->stepPointCount(), static_cast<int>(before.steps.size()));
    QCOMPARE(w.chartsPanel()->evalPointCount(), static_cast<int>(before.evals.size()));
    QVERIFY2(w.earlyStoppingPanel()->statusText().contains(QStringLiteral("Step %1:").arg(before.evals.back().step)),
             qPrintable(w.earlyStoppingPanel()->statusText()));
    const int stepsBefore = steps.count();
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= stepsBefore + 2, kRunTimeoutMs);
    finished.clear();
    w.cancelAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
    // One point per step from the first, none twice: the steps the resume
    // repeated (after the last checkpoint) replaced their first drawing.
    w.chartsPanel()->flush();
    const RunRecords after = readRunRecords(summary.runDir);
    QCOMPARE(w.chartsPanel()->stepPointCount(), static_cast<int>(after.steps.size()));
    QCOMPARE(static_cast<std::int64_t>(after.steps.size()), after.steps.back().step);
    test::saveScreenshot(&w, QStringLiteral("continued_run_charts"));
}

void TestMainWindow::generation()
{
    const QString runDir = test::newestFinishedRun(test::runsDir(QStringLiteral("short"), false));
    QVERIFY2(!runDir.isEmpty(), "the short_run fixture left no finished run");
    MainWindow w;
    showWindow(w);
    w.tabs()->setCurrentIndex(MainWindow::kGenerationsTab);
    GenerationPanel* panel = w.generationPanel();
    const RunConfig config = loadRunConfig((runDir + QStringLiteral("/config.json")).toStdString());
    panel->setSource(config, runDir, CheckpointPick::Best);
    SamplingOptions options = panel->samplingOptions();
    options.maxNewTokens = 12;
    options.stopAtEos = false; // a tiny model may otherwise end at once, leaving nothing to compare
    panel->setSamplingOptions(options);

    QSignalSpy opened(panel, &GenerationPanel::sessionOpened);
    QSignalSpy generated(panel, &GenerationPanel::rowGenerated);
    QSignalSpy idle(panel, &GenerationPanel::idle);
    panel->loadNow();
    QVERIFY(opened.wait(kLoadTimeoutMs));
    QVERIFY(opened.first().at(1).toBool()); // the fine-tuned checkpoint loaded
    QVERIFY(panel->exampleCount() > 0);

    panel->addExample(0);
    panel->addPrompt(QStringLiteral("\n\nHuman: What is the capital of France?\n\nAssistant:"));
    panel->generateAll();
    QTRY_VERIFY_WITH_TIMEOUT(!idle.isEmpty() && !panel->isBusy(), kRunTimeoutMs);
    QCOMPARE(generated.count(), 4);

    QTableWidget* table = panel->table();
    QCOMPARE(table->rowCount(), 2);
    for (int row = 0; row < 2; ++row) {
        for (int column : {GenerationPanel::kBase, GenerationPanel::kTuned}) {
            const QString text = table->item(row, column)->text();
            // Filled with text, or with the note for an answer that stopped at once;
            // not pending and not an error.
            const bool error = text.startsWith(QLatin1Char('(')) && !text.startsWith(QStringLiteral("(no text"));
            QVERIFY2(!text.isEmpty() && !error && text != QStringLiteral("…"),
                     qPrintable(QStringLiteral("row %1 column %2: '%3'").arg(row).arg(column).arg(text)));
        }
    }
    QVERIFY(!table->item(0, GenerationPanel::kTarget)->text().isEmpty());
    test::saveScreenshot(&w, QStringLiteral("generation"));
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
