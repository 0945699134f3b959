// The optimiser (AdamW) and its schedule, batch shape, how long to train,
// and the evaluation budget.
#pragma once

#include "ui/config/config_section.h"

class QButtonGroup;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QRadioButton;
class QSpinBox;

namespace loralab::ui {

class TrainingSection : public ConfigSection {
    Q_OBJECT
public:
    explicit TrainingSection(FieldMessages& messages, QWidget* parent = nullptr);
    void store(RunConfig& config) const override;

protected:
    void loadFields(const RunConfig& config) override;

private:
    void updateDerived();

    ScientificSpinBox* m_learningRate;
    QComboBox* m_schedule;
    QSpinBox* m_warmup;
    QDoubleSpinBox* m_weightDecay;
    QDoubleSpinBox* m_maxGradNorm;
    QDoubleSpinBox* m_beta1;
    QDoubleSpinBox* m_beta2;
    ScientificSpinBox* m_adamEps;
    QSpinBox* m_batchSize;
    QSpinBox* m_gradAccum;
    QLabel* m_effectiveBatch;
    QRadioButton* m_bySteps;
    QRadioButton* m_byEpochs;
    QSpinBox* m_maxSteps;
    QDoubleSpinBox* m_epochs;
    QSpinBox* m_evalBatches;
    QSpinBox* m_checkpointInterval;
    QSpinBox* m_activationCheckpointing;
};

// What is sampled after training, where the work runs, and where the run
// directory goes.
class RuntimeSection : public ConfigSection {
    Q_OBJECT
public:
    explicit RuntimeSection(FieldMessages& messages, QWidget* parent = nullptr);
    void store(RunConfig& config) const override;

protected:
    void loadFields(const RunConfig& config) override;

private:
    QSpinBox* m_samples;
    QSpinBox* m_sampleTokens;
    QDoubleSpinBox* m_sampleTemperature;
    QDoubleSpinBox* m_sampleTopP;
    QSpinBox* m_sampleTopK;
    QDoubleSpinBox* m_repetitionPenalty;
    QSpinBox* m_seed;
    QSpinBox* m_threads;
    QComboBox* m_device;
    QSpinBox* m_processes;
    QComboBox* m_dtype;
    QLineEdit* m_name;
    QLineEdit* m_runsDir;
};

} // namespace loralab::ui
