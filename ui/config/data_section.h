// The training data: an embedded dataset, a file or a dataset from the
// Hugging Face cache (with its configuration, folder and splits), its format
// (with what the preview detected), the columns that hold what, the
// validation split, how examples are cut to max_len tokens, and packing.
#pragma once

#include "ui/config/config_section.h"

#include "engine/data/hub_datasets.h"

#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace loralab::ui {

class DataSection : public ConfigSection {
    Q_OBJECT
public:
    explicit DataSection(FieldMessages& messages, QWidget* parent = nullptr);
    void store(RunConfig& config) const override;

    // What the dataset preview found: "hh-rlhf, 1,204 examples", or a problem.
    void setDetected(const QString& text, bool problem = false);

protected:
    void loadFields(const RunConfig& config) override;

private:
    void updateVisibility();
    // The cached datasets listed again, `select` (a repo id) chosen; one the
    // cache lacks stays as given, so the preview can say so.
    void refreshHub(const QString& select);
    // The chosen dataset's configurations, and that configuration's splits.
    void fillConfigs(const QString& select);
    void fillSplits(const QString& train, const QString& validation);
    const HubDataset* chosenHub() const;

    QComboBox* m_source;
    QLineEdit* m_file;
    QWidget* m_fileRow;
    QComboBox* m_format;
    QLabel* m_detected;
    QComboBox* m_hub;
    QWidget* m_hubRow;
    QComboBox* m_hubConfig;
    QComboBox* m_hubDataDir;
    QComboBox* m_hubSplit;
    QComboBox* m_hubValidationSplit;
    QWidget* m_hubPartsRow;
    std::vector<HubDataset> m_hubDatasets;
    std::vector<QLineEdit*> m_columns; // text, prompt, answer, messages, chosen, rejected
    QCheckBox* m_packing;
    QLineEdit* m_validation;
    QDoubleSpinBox* m_validationFraction;
    QSpinBox* m_maxLen;
    QComboBox* m_textMode;
    QCheckBox* m_trainOnPrompt;
    QComboBox* m_assistantTurns;
    QCheckBox* m_appendEos;
};

} // namespace loralab::ui
