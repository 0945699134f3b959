// The main window's construction: its tabs, docks and actions, and the
// connections between the controller, the panels and the window; see main_window.h.
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
    m_exportReport = new QAction(tr("&Export report…"), this);
    m_exportReport->setToolTip(tr("Write the experiment shown as a report: Markdown, one HTML page, the charts as PNG, SVG "
                                  "and CSV, the summary, configuration and generations as CSV"));

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
    file->addAction(m_exportReport);
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
    connect(m_exportReport, &QAction::triggered, this, [this] {
        const Experiment& shown = m_view->shown();
        const QString suggested = shown.dir.empty() ? QDir(m_runs->runsDir()).filePath(QStringLiteral("report")) : defaultReportFolder(shown);
        const QString folder = QFileDialog::getSaveFileName(this, tr("Export report to a new folder"), suggested, {}, nullptr,
                                                            QFileDialog::DontConfirmOverwrite);
        if (!folder.isEmpty()) exportReport(folder);
    });
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

} // namespace loralab::ui
