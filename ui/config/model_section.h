// Which model to fine-tune: the embedded default, a Hugging Face model
// directory, a model in the Hugging Face cache (stored as "Org/Name"), or a
// shape preset with random weights; plus what the engine reads about it
// (architecture, size) for the rest of the form.
#pragma once

#include "ui/config/config_section.h"

namespace loralab {
struct MemoryFit;
}

#include "engine/commands/workbench.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QWidget;

namespace loralab::ui {

class ModelSection : public ConfigSection {
    Q_OBJECT
public:
    explicit ModelSection(FieldMessages& messages, QWidget* parent = nullptr);
    void store(RunConfig& config) const override;

    void setOverview(const ModelOverview& overview);
    void setOverviewError(const QString& message);
    // The device line under the overview: where the configured device trains.
    void setDevice(const DeviceOverview& device);
    // The memory line under it: whether a step of the configured run fits
    // the device's memory, and the levers (in its tooltip); or why it cannot
    // be estimated.
    void setMemoryFit(const MemoryFit& fit);
    void setMemoryFitError(const QString& message);
    // Why the chosen source names no model (the cache source with an empty
    // cache), or "" when it names one.
    QString sourceProblem() const;

protected:
    void loadFields(const RunConfig& config) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void updateVisibility();
    // Lists the cached models again and selects `select` (a model spec),
    // adding it when the cache lacks it only if `keepMissing`.
    void refreshCache(const QString& select, bool keepMissing);
    void showInfo();
    void fitInfoHeight();
    QString spec() const;

    QComboBox* m_source;
    QLineEdit* m_directory;
    QWidget* m_directoryRow;
    QComboBox* m_cached;
    QString m_cacheDir;
    QComboBox* m_preset;
    QLineEdit* m_tokenizer;
    QWidget* m_tokenizerRow;
    QLabel* m_info;
    QString m_modelText;
    QString m_deviceText;
    QString m_memoryText;
};

} // namespace loralab::ui
