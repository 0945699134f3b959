// The LoRA Lab window: configuration on the left (with early stopping in a
// dock of its own, since it also steers a live run), Charts | Summary |
// Dataset | Generations | Runs in the middle, the event log at the bottom,
// progress and ETA in the status bar. It wires the panels to the run
// controller and owns nothing that blocks: training, generation, previews
// and run reading all happen on worker threads.
#pragma once

#include "ui/metatypes.h"
#include "ui/controllers/run_controller.h"

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QTabWidget;

namespace loralab::ui {

class ChartsPanel;
class ConfigPanel;
class DatasetPanel;
class EarlyStoppingPanel;
class ExperimentView;
class GenerationPanel;
class MessageBanner;
class RunsPanel;
class SummaryPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    RunController* controller() const { return m_controller; }
    ConfigPanel* configPanel() const { return m_config; }
    EarlyStoppingPanel* earlyStoppingPanel() const;
    ChartsPanel* chartsPanel() const { return m_charts; }
    SummaryPanel* summaryPanel() const { return m_summary; }
    DatasetPanel* datasetPanel() const { return m_dataset; }
    GenerationPanel* generationPanel() const { return m_generation; }
    RunsPanel* runsPanel() const { return m_runs; }
    MessageBanner* banner() const { return m_banner; }
    QTabWidget* tabs() const { return m_tabs; }
    QProgressBar* progressBar() const { return m_progress; }
    ExperimentView* view() const { return m_view; }

    QAction* startAction() const { return m_start; }
    QAction* pauseAction() const { return m_pause; }
    QAction* resumeAction() const { return m_resume; }
    QAction* cancelAction() const { return m_cancel; }
    QAction* exportReportAction() const { return m_exportReport; }

    enum Tab { kChartsTab, kSummaryTab, kDatasetTab, kGenerationsTab, kRunsTab };

public slots:
    // Starts what the configuration panel describes: one run, or every run of its comparison or sweep.
    void startRun();
    // Starts `plan`; `earlier` is what a continued experiment recorded before.
    // Starts an experiment; one continued from disk (read with its metrics)
    // carries on from what its runs recorded.
    bool startExperiment(const Experiment& plan);
    bool loadConfigFile(const QString& path);
    bool saveConfigFile(const QString& path);
    // Writes the report of the experiment shown (File > Export report) into
    // `folder`; the banner says where, or what went wrong.
    bool exportReport(const QString& folder);

protected:
    void closeEvent(QCloseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void buildActions();
    void buildLayout();
    void connectController();
    void connectPanels();
    void restoreSettings();
    void saveSettings() const;
    void updateActions();
    void configSettled();
    void showError(const QString& message); // a problem outside a run (reading runs, generation)
    void logEvent(const QString& message);
    void onStep(int run, const StepRecord& record);
    void onFinished(const Experiment& result);
    void onFailed(const QString& message);
    void showOpened(const Experiment& experiment);
    void continueExperiment(const Experiment& experiment);
    void showOptionReference();
    void fitToScreen();
    void arrangeDocks();

    RunController* m_controller;
    ExperimentView* m_view;
    QDockWidget* m_configDock;
    QDockWidget* m_stopDock;
    QDockWidget* m_eventsDock;
    bool m_docksTabbed = false;
    ConfigPanel* m_config;
    ChartsPanel* m_charts;
    SummaryPanel* m_summary;
    DatasetPanel* m_dataset;
    GenerationPanel* m_generation;
    RunsPanel* m_runs;
    MessageBanner* m_banner;
    QTabWidget* m_tabs;
    QPlainTextEdit* m_events;
    QProgressBar* m_progress;
    QLabel* m_stateLabel;
    QAction* m_start;
    QAction* m_pause;
    QAction* m_resume;
    QAction* m_cancel;
    QAction* m_stopKeepBest;
    QAction* m_loadConfig;
    QAction* m_saveConfig;
    QAction* m_resetConfig;
    QAction* m_exportReport;
    StepRecord m_lastStep; // for the progress bar while paused
    bool m_pauseBanner = false; // the banner says "Paused": a resume takes it away
};

} // namespace loralab::ui
