// The LoRA Lab window: configuration on the left (with early stopping in a
// dock of its own, since it also steers a live run), Charts | Summary |
// Dataset | Generations | Runs in the middle, the event log at the bottom,
// progress and ETA in the status bar. It wires the panels to the run
// controller and owns nothing that blocks: training, generation, previews
// and run reading all happen on worker threads.
#pragma once

#include "ui/metatypes.h"
#include "ui/run_controller.h"

#include <QMainWindow>

class QAction;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QTabWidget;

namespace loralab::ui {

class ChartsPanel;
class ConfigPanel;
class DatasetPanel;
class EarlyStoppingPanel;
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

    QAction* startAction() const { return m_start; }
    QAction* pauseAction() const { return m_pause; }
    QAction* resumeAction() const { return m_resume; }
    QAction* cancelAction() const { return m_cancel; }

    enum Tab { kChartsTab, kSummaryTab, kDatasetTab, kGenerationsTab, kRunsTab };

public slots:
    void startRun();
    bool loadConfigFile(const QString& path);
    bool saveConfigFile(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;

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
    void onStep(const StepRecord& record);
    void onFinished(const RunOutcome& outcome);
    void onFailed(const QString& message);
    void showReopenedRun(const RunRecords& records);
    void showReopenedGroup(const RunRecords& lora, const RunRecords& full, const QString& groupDir);
    void showOverlay(const RunRecords& a, const RunRecords& b);
    void continueRun(const QString& dir, const RunConfig& config);
    void showOptionReference();

    RunController* m_controller;
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
    QString m_lastPhase; // "lora" / "full" while a comparison runs
    std::vector<SampleRecord> m_comparisonSamples; // the LoRA half's, shown when a comparison ends
};

} // namespace loralab::ui
