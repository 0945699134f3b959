// The training data: an embedded dataset or a file, its format (with what
// the preview detected), the validation split, and how examples are cut to
// max_len tokens.
#pragma once

#include "ui/config/config_section.h"

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

    QComboBox* m_source;
    QLineEdit* m_file;
    QWidget* m_fileRow;
    QComboBox* m_format;
    QLabel* m_detected;
    QLineEdit* m_validation;
    QDoubleSpinBox* m_validationFraction;
    QSpinBox* m_maxLen;
    QComboBox* m_textMode;
    QCheckBox* m_trainOnPrompt;
    QComboBox* m_assistantTurns;
    QCheckBox* m_appendEos;
};

} // namespace loralab::ui
