#include "ui/main_window.h"

#include "ui/charts_panel.h"
#include "ui/config_panel.h"
#include "ui/config_widgets.h"
#include "ui/dataset_panel.h"
#include "ui/early_stopping_panel.h"
#include "ui/experiment_view.h"
#include "ui/generation_panel.h"
#include "ui/message_banner.h"
#include "ui/runs_panel.h"
#include "ui/summary_panel.h"
#include "ui/ui_resources.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
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

void MainWindow::buildLayout()
{
    m_config = new ConfigPanel;
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_config);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Wide enough for the form's labels and fields, narrow enough that the
    // window fits 1280 pixels with three charts a row beside it.
    scroll->setMinimumWidth(std::min(m_config->sizeHint().width() + 24, 360));
    // The left docks run the window's full height; the event log sits under
    // the tabs only.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    auto* configDock = new QDockWidget(tr("Configuration"), this);
    m_configDock = configDock;
    configDock->setObjectName(QStringLiteral("configDock"));
    configDock->setWidget(scroll);
    configDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, configDock);

    auto* stopDock = new QDockWidget(tr("Early stopping"), this);
    m_stopDock = stopDock;
    stopDock->setObjectName(QStringLiteral("earlyStoppingDock"));
    stopDock->setWidget(m_config->earlyStoppingPanel());
    stopDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, stopDock);
    splitDockWidget(configDock, stopDock, Qt::Vertical);

    m_events = new QPlainTextEdit;
    m_events->setObjectName(QStringLiteral("eventLog"));
    m_events->setReadOnly(true);
    m_events->setMaximumBlockCount(kEventLogLines);
    m_events->setPlaceholderText(tr("What the engine reports while a run goes on."));
    auto* eventsDock = new QDockWidget(tr("Events"), this);
    m_eventsDock = eventsDock;
    eventsDock->setObjectName(QStringLiteral("eventsDock"));
    eventsDock->setWidget(m_events);
    addDockWidget(Qt::BottomDockWidgetArea, eventsDock);
    // The form needs the height; the early-stopping readout and the log need little.
    resizeDocks({configDock, stopDock}, {640, 300}, Qt::Vertical);
    resizeDocks({eventsDock}, {90}, Qt::Vertical);

    m_charts = new ChartsPanel;
    m_summary = new SummaryPanel;
    m_dataset = new DatasetPanel;
    m_generation = new GenerationPanel;
    m_runs = new RunsPanel;
    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    m_tabs->addTab(m_charts, tr("Charts"));
    m_tabs->addTab(m_summary, tr("Summary"));
    m_tabs->addTab(m_dataset, tr("Dataset"));
    m_tabs->addTab(m_generation, tr("Generations"));
    m_tabs->addTab(m_runs, tr("Runs"));
    m_banner = new MessageBanner;
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    m_stateLabel = new QLabel(tr("Ready"));
    m_stateLabel->setObjectName(QStringLiteral("stateLabel"));
    statusBar()->addWidget(m_stateLabel, 1);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->setMinimumWidth(360);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("idle"));
    statusBar()->addPermanentWidget(m_progress);
}

void MainWindow::buildActions()
{
    QStyle* s = style();
    m_start = new QAction(s->standardIcon(QStyle::SP_MediaPlay), tr("&Start"), this);
    m_start->setObjectName(QStringLiteral("startAction"));
    m_start->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_start->setToolTip(tr("Start a run with this configuration (Ctrl+Enter)"));
    m_pause = new QAction(s->standardIcon(QStyle::SP_MediaPause), tr("&Pause"), this);
    m_pause->setToolTip(tr("Hold between steps; the engine saves checkpoints/last, which the Generations tab can load"));
    m_resume = new QAction(s->standardIcon(QStyle::SP_MediaSeekForward), tr("&Resume"), this);
    m_cancel = new QAction(s->standardIcon(QStyle::SP_MediaStop), tr("&Cancel"), this);
    m_cancel->setToolTip(tr("Stop after the current step; checkpoints are kept and the run can be continued"));
    m_stopKeepBest = new QAction(s->standardIcon(QStyle::SP_DialogApplyButton), tr("Stop, keep &best"), this);
    m_stopKeepBest->setToolTip(tr("End the run now and finish with its best checkpoint"));
    m_loadConfig = new QAction(s->standardIcon(QStyle::SP_DialogOpenButton), tr("&Load config…"), this);
    m_loadConfig->setShortcut(QKeySequence::Open);
    m_saveConfig = new QAction(s->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save config as…"), this);
    m_saveConfig->setShortcut(QKeySequence::SaveAs);
    m_resetConfig = new QAction(tr("Reset to &defaults"), this);

    auto* toolbar = addToolBar(tr("Run"));
    toolbar->setObjectName(QStringLiteral("runToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setMovable(false);
    toolbar->addActions({m_start, m_pause, m_resume, m_cancel, m_stopKeepBest});
    toolbar->addSeparator();
    toolbar->addActions({m_loadConfig, m_saveConfig});

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addActions({m_loadConfig, m_saveConfig, m_resetConfig});
    file->addSeparator();
    file->addAction(tr("Open run folder…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a run folder"), m_runs->runsDir());
        if (!dir.isEmpty()) m_runs->openDirectory(dir);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addActions({m_start, m_pause, m_resume, m_cancel, m_stopKeepBest});
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
    view->addSeparator();
    view->addAction(tr("Reset chart zoom"), m_charts, &ChartsPanel::resetZoom);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("Run options…"), this, &MainWindow::showOptionReference);
    help->addAction(tr("About LoRA Lab"), this, [this] {
        QMessageBox::about(this, tr("About LoRA Lab"),
                           tr("<h3>LoRA Lab %1</h3><p>A workbench for LoRA and full fine-tuning experiments on causal "
                              "language models: configure a run, watch it, compare methods, and try the result.</p>")
                               .arg(QStringLiteral(LORALAB_VERSION)));
    });

    connect(m_start, &QAction::triggered, this, &MainWindow::startRun);
    connect(m_pause, &QAction::triggered, m_controller, &RunController::pause);
    connect(m_resume, &QAction::triggered, m_controller, &RunController::resume);
    connect(m_cancel, &QAction::triggered, m_controller, &RunController::cancel);
    connect(m_stopKeepBest, &QAction::triggered, m_controller, &RunController::stopKeepBest);
    connect(m_loadConfig, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Load a run configuration"), {}, kConfigFilter);
        if (!path.isEmpty()) loadConfigFile(path);
    });
    connect(m_saveConfig, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save the run configuration"),
                                                          QString::fromStdString(m_config->config().name) + ".json", kConfigFilter);
        if (!path.isEmpty()) saveConfigFile(path);
    });
    connect(m_resetConfig, &QAction::triggered, this, [this] {
        RunConfig defaults;
        defaults.runsDir = m_config->config().runsDir; // keep where runs go
        m_config->setConfig(defaults);
    });
}

void MainWindow::connectController()
{
    RunController* c = m_controller;
    connect(c, &RunController::stateChanged, this, [this](RunController::State state) {
        updateActions();
        if (state == RunController::State::Paused) {
            m_stateLabel->setText(tr("Pausing after the current step…"));
        } else if (state == RunController::State::Stopping) {
            m_stateLabel->setText(tr("Stopping after the current step…"));
        } else if (state == RunController::State::Running && m_pauseBanner) {
            // Resumed: the pause is over, and so is what the banner said about it.
            m_banner->hide();
            m_pauseBanner = false;
            m_stateLabel->setText(tr("Resumed."));
            if (m_lastStep.step > 0) onStep(m_controller->currentRun(), m_lastStep);
        }
    });
    connect(c, &RunController::pauseTookEffect, this, [this](int run, const QString&) {
        m_stateLabel->setText(tr("Paused; the model as it is now is saved in checkpoints/last."));
        m_progress->setFormat(tr("paused at step %1 / %2 · ETA %3 once resumed")
                                  .arg(m_lastStep.step)
                                  .arg(m_lastStep.totalSteps)
                                  .arg(formatDuration(m_lastStep.etaSeconds)));
        if (m_controller->runDir().isEmpty()) return;
        m_view->paused(run, m_controller->runDir(), m_controller->config());
        m_banner->showMessage(MessageBanner::Level::Info,
                              tr("Paused. The last checkpoint can be tried in the Generations tab while the run waits."),
                              tr("Open Generations"), [this] { m_tabs->setCurrentIndex(kGenerationsTab); });
        m_pauseBanner = true;
    });
    connect(c, &RunController::runStarted, m_view, &ExperimentView::runStarted);
    connect(c, &RunController::stepRecorded, this, &MainWindow::onStep);
    connect(c, &RunController::evalRecorded, m_view, &ExperimentView::eval);
    connect(c, &RunController::runFinished, m_view, &ExperimentView::runFinished);
    connect(c, &RunController::eventLogged, this, &MainWindow::logEvent);
    connect(c, &RunController::experimentDirCreated, this, [this](const QString& dir) {
        logEvent(tr("Experiment folder: %1").arg(QDir::toNativeSeparators(dir)));
        m_runs->refresh();
    });
    connect(c, &RunController::runDirCreated, this, [this](int run, const QString& dir) {
        m_view->runDirCreated(run, dir);
        logEvent(tr("Run folder: %1").arg(QDir::toNativeSeparators(dir)));
        m_runs->refresh();
    });
    connect(c, &RunController::finished, this, &MainWindow::onFinished);
    connect(c, &RunController::failed, this, &MainWindow::onFailed);
}

void MainWindow::connectPanels()
{
    EarlyStoppingPanel* stop = earlyStoppingPanel();
    connect(stop, &EarlyStoppingPanel::patienceEdited, m_controller, &RunController::setPatience);
    connect(stop, &EarlyStoppingPanel::evalIntervalEdited, m_controller, &RunController::setEvalInterval);
    connect(stop, &EarlyStoppingPanel::enabledEdited, m_controller, &RunController::setEarlyStopping);
    connect(stop, &EarlyStoppingPanel::stopKeepBestRequested, m_controller, &RunController::stopKeepBest);

    connect(m_config, &ConfigPanel::configChanged, this, &MainWindow::configSettled);
    connect(m_config, &ConfigPanel::problemsChanged, this, &MainWindow::updateActions);
    connect(m_dataset, &DatasetPanel::previewLoaded, this, [this](const QString& format, qint64 examples) {
        m_config->setDatasetDetected(tr("%1 · %2 examples").arg(format).arg(examples), false);
    });
    connect(m_dataset, &DatasetPanel::previewFailed, this,
            [this](const QString& message) { m_config->setDatasetDetected(message, true); });

    connect(m_generation, &GenerationPanel::failed, this, &MainWindow::showError);
    connect(m_generation, &GenerationPanel::sessionFailed, this, [this](const QString& message) {
        m_banner->showMessage(MessageBanner::Level::Error, tr("Generation: %1").arg(message.toHtmlEscaped()));
    });

    connect(m_runs, &RunsPanel::opened, this, &MainWindow::showOpened);
    connect(m_runs, &RunsPanel::continueRequested, this, &MainWindow::continueExperiment);
    connect(m_runs, &RunsPanel::renamed, m_view, &ExperimentView::retitle);
    connect(m_runs, &RunsPanel::newRunRequested, this, [this](const RunConfig& config, const std::vector<SweepAxis>& axes) {
        if (m_controller->isBusy()) return;
        RunConfig c = config;
        c.runsDir = m_config->config().runsDir; // new runs go where the window keeps them
        m_config->setConfig(c, axes);
        m_stateLabel->setText(tr("Loaded the configuration of %1; Start runs it again.").arg(QString::fromStdString(config.name)));
    });
    connect(m_runs, &RunsPanel::failed, this, &MainWindow::showError);
    connect(m_runs, &RunsPanel::exported, this, [this](const QString& out, const QString& summary) {
        logEvent(tr("Exported %1: %2").arg(out, summary));
        m_banner->showMessage(MessageBanner::Level::Info,
                              tr("Exported the merged model to <b>%1</b>; transformers loads it with "
                                 "<code>AutoModelForCausalLM.from_pretrained</code>. Details in Events.")
                                  .arg(out.toHtmlEscaped()));
    });

    // The first configuration settled before these connections existed.
    configSettled();
}

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
