#include "ui/config/data_section.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

namespace loralab::ui {

namespace {
const QStringList kEmbedded = {QStringLiteral("default:dialogues"), QStringLiteral("default:wikitext")};
constexpr int kFileSource = 2;
const QString kDataFilter = QStringLiteral("Datasets (*.jsonl *.jsonl.gz *.json *.txt *.raw *.gz);;All files (*)");
} // namespace

DataSection::DataSection(FieldMessages& messages, QWidget* parent) : ConfigSection(tr("Data"), messages, parent)
{
    m_source = combo({tr("Embedded dialogues (instruction answers)"), tr("Embedded WikiText (plain text)"),
                      tr("File…")});
    m_source->setObjectName(QStringLiteral("datasetSource"));
    addField(tr("Dataset"), m_source, QStringLiteral("dataset"));

    m_file = lineEdit(tr("JSONL, JSONL.gz or text file"));
    m_file->setObjectName(QStringLiteral("datasetFile"));
    m_fileRow = pathRow(m_file, false, tr("Choose a dataset file"), kDataFilter);
    form()->addRow(tr("File"), m_fileRow);

    m_format = choiceCombo("dataset_format");
    m_format->setObjectName(QStringLiteral("datasetFormat"));
    addField(tr("Format"), m_format, QStringLiteral("dataset_format"));

    m_detected = new QLabel(tr("Detecting…"));
    m_detected->setObjectName(QStringLiteral("datasetDetected"));
    m_detected->setWordWrap(true);
    form()->addRow(tr("Detected"), m_detected);

    m_validation = lineEdit(tr("none: hold out a share of the training data"));
    addField(tr("Validation file"), pathRow(m_validation, false, tr("Choose a validation file"), kDataFilter),
             QStringLiteral("validation"));
    m_validationFraction = doubleSpin(0.0, 0.95, 3, 0.01);
    addField(tr("Held out"), m_validationFraction, QStringLiteral("validation_fraction"));

    m_maxLen = intSpin(8, 1 << 16, tr("token"), tr("tokens"));
    m_maxLen->setObjectName(QStringLiteral("maxLen"));
    addField(tr("Max length"), m_maxLen, QStringLiteral("max_len"));
    m_textMode = choiceCombo("text_mode");
    addField(tr("Text mode"), m_textMode, QStringLiteral("text_mode"));
    m_trainOnPrompt = check(tr("Count the prompt in the loss"));
    addField(QString(), m_trainOnPrompt, QStringLiteral("train_on_prompt"));
    m_assistantTurns = choiceCombo("assistant_turns");
    addField(tr("Assistant turns"), m_assistantTurns, QStringLiteral("assistant_turns"));
    m_appendEos = check(tr("End answers with end-of-text"));
    addField(QString(), m_appendEos, QStringLiteral("append_eos"));

    connect(m_source, &QComboBox::currentIndexChanged, this, &DataSection::updateVisibility);
    connect(m_validation, &QLineEdit::textChanged, this, &DataSection::updateVisibility);
    updateVisibility();
}

void DataSection::loadFields(const RunConfig& c)
{
    const QString dataset = QString::fromStdString(c.dataset);
    const int embedded = kEmbedded.indexOf(dataset);
    if (embedded >= 0) {
        m_source->setCurrentIndex(embedded);
    } else {
        m_source->setCurrentIndex(kFileSource);
        m_file->setText(dataset);
    }
    loadChoice(m_format, c, "dataset_format");
    m_validation->setText(QString::fromStdString(c.validation));
    m_validationFraction->setValue(c.validationFraction);
    m_maxLen->setValue(static_cast<int>(c.maxLen));
    loadChoice(m_textMode, c, "text_mode");
    m_trainOnPrompt->setChecked(c.trainOnPrompt);
    loadChoice(m_assistantTurns, c, "assistant_turns");
    m_appendEos->setChecked(c.appendEos);
    updateVisibility();
}

void DataSection::store(RunConfig& c) const
{
    c.dataset = m_source->currentIndex() == kFileSource ? m_file->text().trimmed().toStdString()
                                                         : kEmbedded.value(m_source->currentIndex()).toStdString();
    storeChoice(m_format, c, "dataset_format");
    c.validation = m_validation->text().trimmed().toStdString();
    c.validationFraction = m_validationFraction->value();
    c.maxLen = m_maxLen->value();
    storeChoice(m_textMode, c, "text_mode");
    c.trainOnPrompt = m_trainOnPrompt->isChecked();
    storeChoice(m_assistantTurns, c, "assistant_turns");
    c.appendEos = m_appendEos->isChecked();
}

void DataSection::setDetected(const QString& text, bool problem)
{
    m_detected->setText(text);
    m_detected->setStyleSheet(problem ? QStringLiteral("color: #c62828;") : QString());
}

void DataSection::updateVisibility()
{
    form()->setRowVisible(m_fileRow, m_source->currentIndex() == kFileSource);
    // A held-out share only matters when there is no validation file.
    m_validationFraction->setEnabled(m_validation->text().trimmed().isEmpty());
}

} // namespace loralab::ui
