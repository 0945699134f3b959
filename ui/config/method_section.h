// How to fine-tune: LoRA, full, both side by side, or DPO on preference
// data; the LoRA shape and targets with a live count of what trains; the DPO
// settings.
#pragma once

#include "ui/config/config_section.h"

#include "engine/commands/workbench.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace loralab::ui {

class TargetModuleList;

class MethodSection : public ConfigSection {
    Q_OBJECT
public:
    enum Method { kLora = 0, kFull = 1, kCompare = 2, kDpo = 3 };

    explicit MethodSection(FieldMessages& messages, QWidget* parent = nullptr);
    void store(RunConfig& config) const override;

    bool comparison() const;
    void setComparison(bool on);

    void setModelOverview(const ModelOverview& overview);
    void setTrainable(const TrainableCount& count);
    void setTrainableError(const QString& message);

protected:
    void loadFields(const RunConfig& config) override;

private:
    void updateVisibility();

    QComboBox* m_method;
    QSpinBox* m_rank;
    QDoubleSpinBox* m_alpha;
    QDoubleSpinBox* m_dropout;
    QCheckBox* m_rsLora;
    QComboBox* m_init;
    QComboBox* m_baseQuantization;
    QCheckBox* m_doubleQuant;
    TargetModuleList* m_targets;
    QWidget* m_targetsField;
    QLineEdit* m_adapter;
    QWidget* m_adapterRow;
    QLabel* m_trainable;
    QDoubleSpinBox* m_dpoBeta;
    QComboBox* m_dpoLoss;
    QComboBox* m_dpoReference;
    QComboBox* m_stopMetric;
    QLabel* m_scaling;
};

} // namespace loralab::ui
