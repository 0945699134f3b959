#include "ui/main_window.h"

#include "ui/charts/charts_panel.h"
#include "ui/config/config_panel.h"
#include "ui/config/config_widgets.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/experiment/experiment_view.h"
#include "ui/generations/generation_panel.h"
#include "ui/message_banner.h"
#include "ui/runs/runs_panel.h"
#include "ui/experiment/summary_panel.h"
#include "ui/report/experiment_report.h"
#include "ui/ui_resources.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolBar>
#include <QUrl>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
constexpr int kEventLogLines = 5000;
const QString kConfigFilter = QStringLiteral("Run configuration (*.json);;All files (*)");

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    registerMetaTypes();
    setWindowTitle(tr("LoRA Lab"));
    setWindowIcon(appIcon());
    m_controller = new RunController(this);
    buildLayout();
    m_view = new ExperimentView(m_charts, m_summary, m_generation, m_config->earlyStoppingPanel(), this);
    buildActions();
    connectController();
    connectPanels();
    restoreSettings();
    updateActions();
}

MainWindow::~MainWindow() = default;

EarlyStoppingPanel* MainWindow::earlyStoppingPanel() const { return m_config->earlyStoppingPanel(); }

void MainWindow::configSettled()
{
    const RunConfig c = m_config->config();
    m_dataset->setConfig(c);
    m_generation->setCurrentConfig(c);
    m_runs->setRunsDir(QString::fromStdString(runsDirOf(c)));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    m_config->loadSettings(settings);
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_charts->setSmoothing(settings.value(QStringLiteral("charts/smoothing"), 0.6).toDouble());
    m_runs->setExtraFolders(settings.value(QStringLiteral("runs/extraFolders")).toStringList());
    if (!settings.contains(QStringLiteral("config/json"))) {
        m_banner->showMessage(MessageBanner::Level::Info,
                              tr("Welcome to LoRA Lab. <b>Start</b> fine-tunes the embedded model on the embedded "
                                 "dialogues with LoRA; the charts fill in as it trains."));
    }
    fitToScreen();
}

void MainWindow::resizeEvent(QResizeEvent* event)
{
    QMainWindow::resizeEvent(event);
    arrangeDocks();
}

void MainWindow::arrangeDocks()
{
    // Below this height the form and the early-stopping panel stacked leave
    // the form a few fields, and the event log under the tabs leaves the
    // charts little: all three become tabs of the left dock, each with the
    // window's whole height.
    constexpr int kStackedMinHeight = 860;
    const bool tab = height() < kStackedMinHeight;
    if (tab == m_docksTabbed || m_configDock->isFloating() || m_stopDock->isFloating() || m_eventsDock->isFloating() ||
        dockWidgetArea(m_configDock) != dockWidgetArea(m_stopDock))
        return;
    m_docksTabbed = tab;
    if (tab) {
        tabifyDockWidget(m_configDock, m_stopDock);
        tabifyDockWidget(m_stopDock, m_eventsDock);
        (m_controller->isBusy() ? m_stopDock : m_configDock)->raise();
    } else {
        splitDockWidget(m_configDock, m_stopDock, Qt::Vertical);
        addDockWidget(Qt::BottomDockWidgetArea, m_eventsDock);
        resizeDocks({m_configDock, m_stopDock}, {640, 300}, Qt::Vertical);
        resizeDocks({m_eventsDock}, {90}, Qt::Vertical);
    }
}

void MainWindow::fitToScreen()
{
    const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
    if (!screen) return;
    const QRect available = screen->availableGeometry();
    // A saved geometry from a larger screen, or none: fit the available area
    // (at most 1400 x 900), centred, so no part starts off-screen.
    const bool fits = available.contains(frameGeometry().adjusted(8, 8, -8, -8)) && width() >= 600;
    if (fits) return;
    const QSize size(std::min(1400, available.width() * 95 / 100), std::min(900, available.height() * 92 / 100));
    resize(size);
    move(available.center() - QPoint(size.width() / 2, size.height() / 2));
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    m_config->saveSettings(settings);
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("charts/smoothing"), m_charts->smoothing());
    settings.setValue(QStringLiteral("runs/extraFolders"), m_runs->extraFolders());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_controller->isBusy()) {
        const auto answer = QMessageBox::question(this, tr("A run is in progress"),
                                                  tr("Stop the run and quit? Its checkpoints are kept, and it can be "
                                                     "continued from the Runs tab."));
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    saveSettings();
    event->accept();
}

void MainWindow::updateActions()
{
    const auto state = m_controller->state();
    const bool idle = state == RunController::State::Idle;
    m_start->setEnabled(idle && m_config->problems().isEmpty());
    m_start->setToolTip(m_config->problems().isEmpty()
                            ? tr("Start a run with this configuration (Ctrl+Enter)")
                            : tr("Fix these first:\n%1").arg(m_config->problems().join(QLatin1Char('\n'))));
    m_pause->setEnabled(state == RunController::State::Running);
    m_resume->setEnabled(state == RunController::State::Paused);
    m_cancel->setEnabled(state == RunController::State::Running || state == RunController::State::Paused);
    m_stopKeepBest->setEnabled(state == RunController::State::Running || state == RunController::State::Paused);
    m_loadConfig->setEnabled(idle);
    m_resetConfig->setEnabled(idle);
    m_config->setRunning(!idle);
}

void MainWindow::startRun()
{
    m_config->refreshNow();
    if (!m_config->problems().isEmpty()) {
        m_banner->showMessage(MessageBanner::Level::Error,
                              tr("The run cannot start: %1").arg(m_config->problems().join(QStringLiteral("; ")).toHtmlEscaped()));
        return;
    }
    Experiment plan;
    try {
        plan = m_config->plan();
    } catch (const std::exception& e) {
        m_banner->showMessage(MessageBanner::Level::Error, tr("The sweep cannot start: %1").arg(QString::fromUtf8(e.what()).toHtmlEscaped()));
        return;
    }
    if (plan.runs.size() > kConfirmSweepRuns &&
        QMessageBox::question(this, tr("A large sweep"),
                              tr("This sweep trains %1 runs, one after another. Start them all?").arg(plan.runs.size())) !=
            QMessageBox::Yes)
        return;
    saveSettings();
    startExperiment(plan);
}

bool MainWindow::startExperiment(const Experiment& plan)
{
    if (m_controller->isBusy() || plan.runs.empty()) return false;
    const bool earlier = std::any_of(plan.runs.begin(), plan.runs.end(), [](const ExperimentRun& r) { return r.next == RunAction::Resume; });
    m_view->begin(plan);
    earlyStoppingPanel()->setMetric(plan.runs.front().config);
    m_banner->hide();
    m_pauseBanner = false;
    m_lastStep = StepRecord{};
    m_events->appendPlainText(QStringLiteral("———— %1 ————").arg(QDateTime::currentDateTime().toString(Qt::ISODate)));
    if (plan.runs.size() > 1) {
        QStringList labels;
        for (const ExperimentRun& r : plan.runs) labels << qstr(r.label);
        logEvent(tr("An experiment of %1 runs: %2").arg(plan.runs.size()).arg(labels.join(QStringLiteral("; "))));
    }
    if (!m_controller->start(plan)) return false;
    m_progress->setRange(0, 0); // busy until the first step says how many there are
    m_progress->setFormat(earlier ? tr("resuming…") : tr("preparing…"));
    if (m_docksTabbed) m_stopDock->raise(); // the form is locked; early stopping steers the run
    m_stateLabel->setText(tr("Loading the model and data…"));
    m_tabs->setCurrentIndex(kChartsTab);
    return true;
}

void MainWindow::onStep(int run, const StepRecord& r)
{
    m_view->step(run, r);
    m_lastStep = r;
    const int total = static_cast<int>(std::max<std::int64_t>(r.totalSteps, 1));
    m_progress->setRange(0, total);
    m_progress->setValue(static_cast<int>(std::min<std::int64_t>(r.step, total)));
    if (m_controller->state() == RunController::State::Paused) return; // the pause shows its own line
    const int runs = m_controller->runCount();
    const QString phase = runs > 1 ? tr("run %1 of %2 · ").arg(run + 1).arg(runs) : QString();
    m_progress->setFormat(tr("%1step %2 / %3 · %p% · ETA %4").arg(phase).arg(r.step).arg(r.totalSteps).arg(formatDuration(r.etaSeconds)));
    if (m_controller->state() == RunController::State::Running)
        m_stateLabel->setText(tr("Training: loss %1 · %2 tokens/s · %3 held by tensors (%4 process)")
                                  .arg(r.loss, 0, 'f', 4)
                                  .arg(r.tokensPerSecond, 0, 'f', 0)
                                  .arg(formatBytes(r.memoryBytes), formatBytes(r.processMemoryBytes)));
}

void MainWindow::onFinished(const Experiment& result)
{
    m_view->finished(result);
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    double seconds = 0;
    for (const ExperimentRun& r : result.runs)
        if (r.summary) seconds += r.summary->seconds;
    m_progress->setFormat(tr("done · %1").arg(formatDuration(seconds)));
    m_pauseBanner = false;
    int level = 0;
    const QString text = m_view->outcomeSentence(&level);
    if (level == 2) {
        m_banner->showMessage(MessageBanner::Level::Error, text.toHtmlEscaped() +
                              tr(" For a loss that is not finite, try a lower learning rate, gradient clipping, or fp32 base weights."),
                              tr("Show summary"), [this] { m_tabs->setCurrentIndex(kSummaryTab); });
    } else {
        m_banner->showMessage(level == 0 ? MessageBanner::Level::Success : MessageBanner::Level::Warning, text.toHtmlEscaped(),
                              tr("Show summary"), [this] { m_tabs->setCurrentIndex(kSummaryTab); });
    }
    m_stateLabel->setText(text);
    m_runs->refresh();
}

void MainWindow::onFailed(const QString& message)
{
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("failed"));
    m_stateLabel->setText(tr("Failed"));
    logEvent(tr("Error: %1").arg(message));
    m_banner->showMessage(MessageBanner::Level::Error, message.toHtmlEscaped());
}

bool MainWindow::exportReport(const QString& folder)
{
    QApplication::setOverrideCursor(Qt::WaitCursor);
    try {
        const ReportResult written = writeExperimentReport(m_view->shown(), folder);
        QApplication::restoreOverrideCursor();
        logEvent(tr("Report written to %1").arg(QDir::toNativeSeparators(written.folder)));
        const QString page = written.html;
        m_banner->showMessage(MessageBanner::Level::Success,
                              tr("Report written to %1").arg(QDir::toNativeSeparators(written.folder).toHtmlEscaped()), tr("Open"),
                              [page] { QDesktopServices::openUrl(QUrl::fromLocalFile(page)); });
        return true;
    } catch (const std::exception& e) {
        QApplication::restoreOverrideCursor();
        showError(tr("The report was not written: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
}

void MainWindow::showError(const QString& message)
{
    logEvent(tr("Error: %1").arg(message));
    m_banner->showMessage(MessageBanner::Level::Error, message.toHtmlEscaped());
}

void MainWindow::logEvent(const QString& message)
{
    m_events->appendPlainText(QStringLiteral("%1  %2").arg(QTime::currentTime().toString(QStringLiteral("hh:mm:ss")), message));
}

void MainWindow::showOpened(const Experiment& records)
{
    if (m_controller->isBusy()) {
        m_banner->showMessage(MessageBanner::Level::Info, tr("A run is going on; open other runs once it has ended."));
        return;
    }
    m_view->show(records);
    std::int64_t unreadable = 0;
    for (const ExperimentRun& r : records.runs) unreadable += r.records.unreadableLines;
    QString text = records.runs.size() == 1
                       ? tr("Showing %1: %2 steps, %3 evaluations, %4 samples.")
                             .arg(QFileInfo(QString::fromStdString(records.runs.front().records.dir)).fileName())
                             .arg(records.runs.front().records.steps.size())
                             .arg(records.runs.front().records.evals.size())
                             .arg(records.runs.front().records.samples.size())
                       : tr("Showing %1: %2.").arg(QString::fromStdString(records.name), countText(static_cast<qint64>(records.runs.size()), tr("run"), tr("runs")));
    if (unreadable > 0) text += QLatin1Char(' ') + tr("%1 could not be read.").arg(countText(unreadable, tr("line"), tr("lines")));
    m_stateLabel->setText(text);
    m_tabs->setCurrentIndex(kChartsTab);
}

void MainWindow::continueExperiment(const Experiment& experiment)
{
    if (m_controller->isBusy()) return;
    logEvent(tr("Continuing %1").arg(QDir::toNativeSeparators(QString::fromStdString(experiment.dir))));
    startExperiment(experiment);
}

bool MainWindow::loadConfigFile(const QString& path)
{
    try {
        m_config->setConfig(loadRunConfig(sstr(path)));
        m_stateLabel->setText(tr("Loaded %1").arg(QDir::toNativeSeparators(path)));
        return true;
    } catch (const std::exception& e) {
        m_banner->showMessage(MessageBanner::Level::Error, QString::fromUtf8(e.what()).toHtmlEscaped());
        return false;
    }
}

bool MainWindow::saveConfigFile(const QString& path)
{
    try {
        writeFileAtomic(sstr(path), runConfigToJson(m_config->config()));
        m_stateLabel->setText(tr("Saved %1").arg(QDir::toNativeSeparators(path)));
        return true;
    } catch (const std::exception& e) {
        m_banner->showMessage(MessageBanner::Level::Error, QString::fromUtf8(e.what()).toHtmlEscaped());
        return false;
    }
}

void MainWindow::showOptionReference()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Run options"));
    auto* layout = new QVBoxLayout(&dialog);
    layout->addWidget(new QLabel(tr("The options of a run configuration, as Save config writes them and "
                                    "<tt>loralab-cli run</tt> reads them.")));
    const auto docs = runOptionDocs();
    auto* table = new QTableWidget(static_cast<int>(docs.size()), 3);
    table->setHorizontalHeaderLabels({tr("Option"), tr("Default"), tr("Meaning")});
    for (int i = 0; i < static_cast<int>(docs.size()); ++i) {
        table->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(docs[i].key)));
        table->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(docs[i].defaultValue)));
        table->setItem(i, 2, new QTableWidgetItem(QString::fromStdString(docs[i].help)));
    }
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->horizontalHeader()->setStretchLastSection(true);
    table->resizeColumnsToContents();
    layout->addWidget(table);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog.resize(900, 600);
    dialog.exec();
}

} // namespace loralab::ui
