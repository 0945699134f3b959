#include "ui/config/data_section.h"

#include "ui/config/config_widgets.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QSignalBlocker>
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
constexpr int kHubSource = 3;
// The validation split's first item: the run's own choice.
const QString kAutoValidation = QStringLiteral("");
const QString kDataFilter = QStringLiteral("Datasets (*.jsonl *.jsonl.gz *.json *.txt *.raw *.gz);;All files (*)");
} // namespace

DataSection::DataSection(FieldMessages& messages, QWidget* parent) : ConfigSection(tr("Data"), messages, parent)
{
    m_source = combo({tr("Embedded dialogues (instruction answers)"), tr("Embedded WikiText (plain text)"),
                      tr("File…"), tr("Hugging Face cache")});
    m_source->setObjectName(QStringLiteral("datasetSource"));
    addField(tr("Dataset"), m_source, QStringLiteral("dataset"));

    m_file = lineEdit(tr("JSONL, JSONL.gz or text file"));
    m_file->setObjectName(QStringLiteral("datasetFile"));
    m_fileRow = pathRow(m_file, false, tr("Choose a dataset file"), kDataFilter);
    form()->addRow(tr("File"), m_fileRow);

    m_hub = combo({});
    m_hub->setObjectName(QStringLiteral("datasetHub"));
    m_hub->setEditable(true);
    m_hub->setInsertPolicy(QComboBox::NoInsert);
    m_hubRow = m_hub;
    form()->addRow(tr("Cached dataset"), m_hubRow);
    m_hubConfig = combo({});
    m_hubConfig->setObjectName(QStringLiteral("datasetConfig"));
    m_hubDataDir = combo({});
    m_hubDataDir->setObjectName(QStringLiteral("datasetDataDir"));
    m_hubSplit = combo({});
    m_hubSplit->setObjectName(QStringLiteral("datasetSplit"));
    m_hubValidationSplit = combo({});
    m_hubValidationSplit->setObjectName(QStringLiteral("validationSplit"));
    m_hubPartsRow = new QWidget;
    auto* parts = new QGridLayout(m_hubPartsRow);
    parts->setContentsMargins(0, 0, 0, 0);
    parts->addWidget(new QLabel(tr("Configuration")), 0, 0);
    parts->addWidget(m_hubConfig, 0, 1);
    parts->addWidget(new QLabel(tr("Folder")), 0, 2);
    parts->addWidget(m_hubDataDir, 0, 3);
    parts->addWidget(new QLabel(tr("Train split")), 1, 0);
    parts->addWidget(m_hubSplit, 1, 1);
    parts->addWidget(new QLabel(tr("Validation")), 1, 2);
    parts->addWidget(m_hubValidationSplit, 1, 3);
    parts->setColumnStretch(1, 1);
    parts->setColumnStretch(3, 1);
    form()->addRow(tr("Parts"), m_hubPartsRow);

    m_format = choiceCombo("dataset_format");
    m_format->setObjectName(QStringLiteral("datasetFormat"));
    addField(tr("Format"), m_format, QStringLiteral("dataset_format"));

    m_detected = new QLabel(tr("Detecting…"));
    m_detected->setObjectName(QStringLiteral("datasetDetected"));
    m_detected->setWordWrap(true);
    form()->addRow(tr("Detected"), m_detected);

    // Column mapping: empty fields read the usual names (shown greyed).
    auto* columns = new QWidget;
    columns->setObjectName(QStringLiteral("datasetColumns"));
    auto* grid = new QGridLayout(columns);
    grid->setContentsMargins(0, 0, 0, 0);
    const QStringList usual = {QStringLiteral("text"), QStringLiteral("prompt"), QStringLiteral("completion"),
                               QStringLiteral("messages"), QStringLiteral("chosen"), QStringLiteral("rejected")};
    const QStringList labels = {tr("Text"), tr("Prompt"), tr("Answer"), tr("Messages"), tr("Chosen"), tr("Rejected")};
    for (int i = 0; i < usual.size(); ++i) {
        QLineEdit* edit = lineEdit(usual[i]);
        edit->setObjectName(QStringLiteral("column_") + usual[i]);
        edit->setToolTip(tr("The column holding the %1; empty reads \"%2\"").arg(labels[i].toLower(), usual[i]));
        grid->addWidget(new QLabel(labels[i]), i / 2, 2 * (i % 2));
        grid->addWidget(edit, i / 2, 2 * (i % 2) + 1);
        m_columns.push_back(edit);
    }
    addField(tr("Columns"), columns, QStringLiteral("messages_column"));

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
    m_packing = check(tr("Pack examples into max-length sequences (SFT)"));
    m_packing->setObjectName(QStringLiteral("packing"));
    m_packing->setToolTip(tr("Several examples share one sequence, each attending only to itself: less padding, the same loss"));
    addField(QString(), m_packing, QStringLiteral("packing"));

    connect(m_source, &QComboBox::currentIndexChanged, this, [this] {
        if (m_source->currentIndex() == kHubSource && !m_loading) refreshHub(m_hub->currentText());
    });
    // An editable combo reports a typed or picked name as its text only.
    connect(m_hub, &QComboBox::currentTextChanged, this, [this] {
        if (m_loading) return;
        fillConfigs({});
        emit changed();
    });
    connect(m_hubConfig, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_loading) fillSplits(QStringLiteral("train"), kAutoValidation);
    });

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
    } else if (isCachedDatasetSpec(c.dataset) || !c.datasetConfig.empty() || !c.datasetDataDir.empty()) {
        m_source->setCurrentIndex(kHubSource);
        refreshHub(dataset);
        setCombo(m_hubDataDir, QString::fromStdString(c.datasetDataDir));
        fillConfigs(QString::fromStdString(c.datasetConfig));
        fillSplits(QString::fromStdString(c.datasetSplit), QString::fromStdString(c.validationSplit));
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
    m_packing->setChecked(c.packing);
    const ColumnMapping mapping = c.columnMapping();
    const std::string* values[] = {&mapping.text, &mapping.prompt, &mapping.answer, &mapping.messages, &mapping.chosen, &mapping.rejected};
    for (std::size_t i = 0; i < m_columns.size(); ++i) m_columns[i]->setText(QString::fromStdString(*values[i]));
    updateVisibility();
}

void DataSection::store(RunConfig& c) const
{
    const int source = m_source->currentIndex();
    c.dataset = source == kFileSource ? m_file->text().trimmed().toStdString()
              : source == kHubSource  ? m_hub->currentText().trimmed().toStdString()
                                      : kEmbedded.value(source).toStdString();
    const bool hub = source == kHubSource;
    c.datasetConfig = hub ? m_hubConfig->currentText().toStdString() : "";
    c.datasetDataDir = hub ? m_hubDataDir->currentText().trimmed().toStdString() : "";
    c.datasetSplit = hub && !m_hubSplit->currentText().isEmpty() ? m_hubSplit->currentText().toStdString() : "train";
    c.validationSplit = hub ? m_hubValidationSplit->currentData().toString().toStdString() : "";
    std::string* columns[] = {&c.textColumn, &c.promptColumn, &c.answerColumn, &c.messagesColumn, &c.chosenColumn, &c.rejectedColumn};
    for (std::size_t i = 0; i < m_columns.size(); ++i) *columns[i] = m_columns[i]->text().trimmed().toStdString();
    c.packing = m_packing->isChecked();
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

const HubDataset* DataSection::chosenHub() const
{
    const std::string id = m_hub->currentText().trimmed().toStdString();
    for (const auto& d : m_hubDatasets)
        if (d.repoId == id) return &d;
    return nullptr;
}

void DataSection::refreshHub(const QString& select)
{
    const QSignalBlocker blocker(m_hub);
    m_hubDatasets = listCachedDatasets();
    m_hub->clear();
    for (const HubDataset& d : m_hubDatasets) {
        m_hub->addItem(QString::fromStdString(d.repoId));
        m_hub->setItemData(m_hub->count() - 1,
                           tr("%1 · %2 · %3").arg(QString::fromStdString(d.root.string()), formatBytes(d.sizeBytes),
                                                  d.arrowCache ? tr("datasets Arrow cache") : tr("hub cache")),
                           Qt::ToolTipRole);
    }
    if (!select.isEmpty()) m_hub->setCurrentText(select);
    m_hub->setToolTip(tr("Datasets in the Hugging Face caches %1 and %2; an Org/Name[@revision] typed here is looked up there")
                          .arg(QString::fromStdString(hfCacheDir().string()), QString::fromStdString(hfDatasetsCacheDir().string())));
    fillConfigs({});
}

void DataSection::fillConfigs(const QString& select)
{
    const HubDataset* d = chosenHub();
    {
        const QSignalBlocker blocker(m_hubConfig);
        m_hubConfig->clear();
        if (d)
            for (const auto& c : d->configs) m_hubConfig->addItem(QString::fromStdString(c.name));
        int i = m_hubConfig->findText(select);
        if (i < 0 && !select.isEmpty()) {
            m_hubConfig->addItem(select);
            i = m_hubConfig->count() - 1;
        }
        if (i < 0 && d)
            for (std::size_t k = 0; k < d->configs.size(); ++k)
                if (d->configs[k].isDefault) i = static_cast<int>(k);
        m_hubConfig->setCurrentIndex(std::max(i, 0));
    }
    {
        const QString dataDir = m_hubDataDir->currentText();
        const QSignalBlocker blocker(m_hubDataDir);
        m_hubDataDir->clear();
        m_hubDataDir->addItem(QString());
        if (d)
            for (const auto& f : d->dataDirs) m_hubDataDir->addItem(QString::fromStdString(f));
        setCombo(m_hubDataDir, dataDir);
    }
    fillSplits(QStringLiteral("train"), kAutoValidation);
}

void DataSection::fillSplits(const QString& train, const QString& validation)
{
    const HubDataset* d = chosenHub();
    QStringList splits;
    if (d)
        for (const auto& c : d->configs)
            if (QString::fromStdString(c.name) == m_hubConfig->currentText())
                for (const auto& s : c.splits) splits << QString::fromStdString(s.name);
    const QSignalBlocker a(m_hubSplit);
    const QSignalBlocker b(m_hubValidationSplit);
    m_hubSplit->clear();
    m_hubSplit->addItems(splits);
    setCombo(m_hubSplit, train.isEmpty() ? QStringLiteral("train") : train);
    m_hubValidationSplit->clear();
    m_hubValidationSplit->addItem(tr("validation, or held out"), kAutoValidation);
    for (const QString& s : splits) m_hubValidationSplit->addItem(s, s);
    const int i = m_hubValidationSplit->findData(validation);
    if (i >= 0) m_hubValidationSplit->setCurrentIndex(i);
    else {
        m_hubValidationSplit->addItem(validation, validation);
        m_hubValidationSplit->setCurrentIndex(m_hubValidationSplit->count() - 1);
    }
}

void DataSection::updateVisibility()
{
    form()->setRowVisible(m_fileRow, m_source->currentIndex() == kFileSource);
    form()->setRowVisible(m_hubRow, m_source->currentIndex() == kHubSource);
    form()->setRowVisible(m_hubPartsRow, m_source->currentIndex() == kHubSource);
    // A held-out share only matters when there is no validation file.
    m_validationFraction->setEnabled(m_validation->text().trimmed().isEmpty());
}

} // namespace loralab::ui
