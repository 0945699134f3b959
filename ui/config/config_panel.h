// The configuration form: model, data, method, optimisation and runtime
// sections, checked against validateRunConfig() on every edit, with the
// model's overview and the live trainable-parameter count. The early
// stopping panel is created here (its fields are part of the config) but
// the window shows it in a dock of its own, since it also steers live runs.
#pragma once

#include "ui/config/config_widgets.h"

#include "engine/experiment/run_catalog.h"
#include "engine/config/run_config.h"

#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QWidget>

class QLabel;
class QSettings;

namespace loralab::ui {

class ConfigSection;
class DataSection;
class EarlyStoppingPanel;
class MethodSection;
class ModelSection;
class RuntimeSection;
class SweepSection;
class TrainingSection;

class ConfigPanel : public QWidget {
    Q_OBJECT
public:
    explicit ConfigPanel(QWidget* parent = nullptr);
    ~ConfigPanel() override;

    RunConfig config() const;
    // "Compare LoRA and full" is chosen as the method.
    bool comparison() const;
    // What varies between the runs: method (for a comparison), then the sweep's options.
    std::vector<SweepAxis> axes() const;
    // The experiment Start runs: one run, or every combination of the axes.
    // Throws loralab::Error when the sweep cannot be read.
    Experiment plan() const;
    // A method axis of exactly lora and full (first) selects the comparison;
    // the other axes fill the sweep.
    void setConfig(const RunConfig& config, const std::vector<SweepAxis>& axes = {});

    // Problems as "key: why"; empty when the run can start.
    QStringList problems() const { return m_problems; }

    void loadSettings(QSettings& settings);
    void saveSettings(QSettings& settings) const;

    // Fields are locked while a run goes on (early stopping stays live).
    void setRunning(bool running);
    void setDatasetDetected(const QString& text, bool problem);

    EarlyStoppingPanel* earlyStoppingPanel() const;

    // Validates and recounts now instead of after the typing pause.
    void refreshNow();

    // Where runs go when the user never chose: a folder in the user's data.
    static QString defaultRunsDir();

signals:
    // After the form settled on a new configuration (debounced).
    void configChanged();
    void problemsChanged(const QStringList& problems);

private:
    void scheduleRefresh();
    void refresh();
    // The memory row: whether the plan's largest run fits, and its levers.
    void updateMemoryFit(const Experiment& plan);

    FieldMessages m_messages;
    ModelSection* m_model;
    DataSection* m_data;
    MethodSection* m_method;
    TrainingSection* m_training;
    RuntimeSection* m_runtime;
    SweepSection* m_sweep;
    QPointer<EarlyStoppingPanel> m_earlyStopping;
    QList<ConfigSection*> m_sections;
    QLabel* m_general;
    QTimer m_refreshTimer;
    RunConfig m_base; // options without fields are kept from here
    QStringList m_problems;
    std::string m_describedModel;
    std::string m_describedDevice;
    QString m_deviceProblem; // the configured device cannot be used here
    bool m_modelOk = false;
};

} // namespace loralab::ui
