// One group of the configuration form. Each section reads its fields from a
// RunConfig and writes them back, so that options the window has no field
// for (set in a loaded JSON file) survive a round trip untouched.
#pragma once

#include "ui/config/config_widgets.h"

#include "engine/config/run_config.h"

#include <QGroupBox>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLineEdit;
class QSpinBox;

namespace loralab::ui {

class ConfigSection : public QGroupBox {
    Q_OBJECT
public:
    ConfigSection(const QString& title, FieldMessages& messages, QWidget* parent = nullptr);

    void load(const RunConfig& config);
    virtual void store(RunConfig& config) const = 0;

signals:
    void changed();

protected:
    virtual void loadFields(const RunConfig& config) = 0;

    // A form row whose field shows the problems of option `key` under it.
    void addField(const QString& label, QWidget* field, const QString& key);
    QFormLayout* form() const { return m_form; }

    // Widgets wired to changed(); ranges are the engine's limits or sane UI bounds.
    // `unit` and `units` make the suffix ("1 step", "8 steps").
    QSpinBox* intSpin(int min, int max, const QString& unit = {}, const QString& units = {});
    QDoubleSpinBox* doubleSpin(double min, double max, int decimals, double step);
    ScientificSpinBox* sciSpin(double min, double max);
    QCheckBox* check(const QString& text);
    QComboBox* combo(const QStringList& items);
    QLineEdit* lineEdit(const QString& placeholder = {});
    // A line edit with a "Browse…" button that opens a file or folder picker.
    QWidget* pathRow(QLineEdit* edit, bool folder, const QString& caption, const QString& filter = {});

    static void setCombo(QComboBox* combo, const QString& value); // adds unknown values
    // A combo box offering the names of choice option `key` (schedule,
    // text_mode, dtype, ...), as the engine lists them; and its value in and
    // out of a configuration.
    QComboBox* choiceCombo(const char* key);
    static void loadChoice(QComboBox* combo, const RunConfig& config, const char* key);
    static void storeChoice(const QComboBox* combo, RunConfig& config, const char* key);

    FieldMessages& m_messages;
    bool m_loading = false; // no changed() while fields are being filled

private:
    QFormLayout* m_form;
};

} // namespace loralab::ui
