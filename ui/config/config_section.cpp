#include "ui/config/config_section.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace loralab::ui {

ConfigSection::ConfigSection(const QString& title, FieldMessages& messages, QWidget* parent)
    : QGroupBox(title, parent), m_messages(messages), m_form(new QFormLayout(this))
{
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    // A field too wide beside its label goes under it: the dock stays usable narrow.
    m_form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    m_form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
}

void ConfigSection::load(const RunConfig& config)
{
    m_loading = true;
    loadFields(config);
    m_loading = false;
}

void ConfigSection::addField(const QString& label, QWidget* field, const QString& key)
{
    auto* l = new QLabel(label);
    l->setToolTip(optionTooltip(key));
    m_form->addRow(l, m_messages.wrap(field, key));
}

QSpinBox* ConfigSection::intSpin(int min, int max, const QString& unit, const QString& units)
{
    auto* s = new QSpinBox;
    s->setRange(min, max);
    if (!unit.isEmpty()) setPluralSuffix(s, unit, units.isEmpty() ? unit : units);
    s->setKeyboardTracking(false);
    s->setAccelerated(true);
    connect(s, &QSpinBox::valueChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    return s;
}

QDoubleSpinBox* ConfigSection::doubleSpin(double min, double max, int decimals, double step)
{
    auto* s = new QDoubleSpinBox;
    s->setRange(min, max);
    s->setDecimals(decimals);
    s->setSingleStep(step);
    s->setKeyboardTracking(false);
    connect(s, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    return s;
}

ScientificSpinBox* ConfigSection::sciSpin(double min, double max)
{
    auto* s = new ScientificSpinBox;
    s->setRange(min, max);
    connect(s, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    return s;
}

QCheckBox* ConfigSection::check(const QString& text)
{
    auto* c = new QCheckBox(text);
    connect(c, &QCheckBox::toggled, this, [this] {
        if (!m_loading) emit changed();
    });
    return c;
}

QComboBox* ConfigSection::combo(const QStringList& items)
{
    auto* c = new QComboBox;
    c->addItems(items);
    // Long entries must not set the form's width: the dock stays narrow on small screens.
    c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    c->setMinimumContentsLength(8);
    connect(c, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    return c;
}

QLineEdit* ConfigSection::lineEdit(const QString& placeholder)
{
    auto* e = new QLineEdit;
    e->setPlaceholderText(placeholder);
    e->setClearButtonEnabled(true);
    connect(e, &QLineEdit::textChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    return e;
}

QWidget* ConfigSection::pathRow(QLineEdit* edit, bool folder, const QString& caption, const QString& filter)
{
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(tr("Browse…"));
    browse->setObjectName(edit->objectName() + QStringLiteral("Browse"));
    layout->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this, edit, folder, caption, filter] {
        const QString start = edit->text();
        const QString chosen = folder ? QFileDialog::getExistingDirectory(this, caption, start)
                                      : QFileDialog::getOpenFileName(this, caption, start, filter);
        if (!chosen.isEmpty()) edit->setText(chosen);
    });
    return row;
}

QComboBox* ConfigSection::choiceCombo(const char* key)
{
    QStringList names;
    for (const auto& name : runOptionChoices(key)) names << QString::fromStdString(name);
    return combo(names);
}

void ConfigSection::loadChoice(QComboBox* combo, const RunConfig& config, const char* key)
{
    combo->setCurrentText(QString::fromStdString(runOptionJson(config, key)).remove(QLatin1Char('"')));
}

void ConfigSection::storeChoice(const QComboBox* combo, RunConfig& config, const char* key)
{
    setRunOption(config, key, combo->currentText().toStdString());
}

void ConfigSection::setCombo(QComboBox* combo, const QString& value)
{
    int i = combo->findText(value);
    if (i < 0) {
        combo->addItem(value);
        i = combo->count() - 1;
    }
    combo->setCurrentIndex(i);
}

} // namespace loralab::ui
