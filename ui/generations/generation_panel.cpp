#include "ui/generations/generation_panel.h"

#include "ui/generations/answer_delegate.h"
#include "ui/config/config_widgets.h"
#include "ui/dataset/example_table_model.h"
#include "ui/generations/generation_controller.h"
#include "ui/generations/text_diff.h"
#include "ui/config/wheel_guard.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
constexpr int kMaxListed = 500; // the example list shows this many matches

QString firstLine(const std::string& text, int limit = 120)
{
    QString s = QString::fromStdString(text).simplified();
    return s.size() > limit ? s.left(limit) + QStringLiteral("…") : s;
}
} // namespace

GenerationPanel::GenerationPanel(QWidget* parent) : QWidget(parent)
{
    registerMetaTypes();
    qRegisterMetaType<loralab::ui::GenerationJob>();
    qRegisterMetaType<std::vector<loralab::Example>>();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    // Where the models come from.
    auto* source = new QHBoxLayout;
    source->addWidget(new QLabel(tr("Run")));
    m_runDir = new QLineEdit;
    m_runDir->setObjectName(QStringLiteral("generationRunDir"));
    m_runDir->setPlaceholderText(tr("finish, pause or reopen a run, or browse to a run folder"));
    source->addWidget(m_runDir, 1);
    auto* browse = new QPushButton(tr("Browse…"));
    source->addWidget(browse);
    m_runPick = new QComboBox;
    m_runPick->setObjectName(QStringLiteral("generationRunPick"));
    m_runPick->setToolTip(tr("The run of the experiment whose checkpoint answers new prompts"));
    m_runPick->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_runPick->hide();
    source->addWidget(m_runPick);
    m_checkpoint = new QComboBox;
    m_checkpoint->addItems({tr("best checkpoint"), tr("last checkpoint")});
    source->addWidget(m_checkpoint);
    m_load = new QPushButton(tr("Load"));
    m_load->setObjectName(QStringLiteral("generationLoad"));
    source->addWidget(m_load);
    layout->addLayout(source);
    m_status = new QLabel(tr("No models loaded."));
    m_status->setObjectName(QStringLiteral("generationStatus"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    // Picking prompts and sampling settings, side by side.
    auto* controls = new QHBoxLayout;
    auto* pick = new QGroupBox(tr("Prompts"));
    auto* pickLayout = new QVBoxLayout(pick);
    auto* searchRow = new QHBoxLayout;
    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("generationSearch"));
    m_search->setPlaceholderText(tr("Search validation examples, or type an example number"));
    m_search->setClearButtonEnabled(true);
    searchRow->addWidget(m_search, 1);
    auto* addSelected = new QPushButton(tr("Add"));
    addSelected->setToolTip(tr("Add the selected validation examples"));
    auto* addRandom = new QPushButton(tr("Add random"));
    addRandom->setObjectName(QStringLiteral("addRandomExample"));
    searchRow->addWidget(addSelected);
    searchRow->addWidget(addRandom);
    pickLayout->addLayout(searchRow);
    m_exampleList = new QListWidget;
    m_exampleList->setObjectName(QStringLiteral("generationExamples"));
    m_exampleList->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_exampleList->setMaximumHeight(110);
    pickLayout->addWidget(m_exampleList);
    auto* promptRow = new QHBoxLayout;
    m_prompt = new QPlainTextEdit;
    m_prompt->setObjectName(QStringLiteral("generationPrompt"));
    m_prompt->setPlaceholderText(tr("Or type a prompt…"));
    m_prompt->setMaximumHeight(60);
    promptRow->addWidget(m_prompt, 1);
    auto* promptButtons = new QVBoxLayout;
    auto* addPromptButton = new QPushButton(tr("Add prompt"));
    promptButtons->addWidget(addPromptButton);
    m_wrapDialogue = new QCheckBox(tr("As a dialogue turn"));
    m_wrapDialogue->setChecked(true);
    m_wrapDialogue->setToolTip(tr("Wrap the text as \"\\n\\nHuman: …\\n\\nAssistant:\", the form dialogue data trains on"));
    promptButtons->addWidget(m_wrapDialogue);
    promptRow->addLayout(promptButtons);
    pickLayout->addLayout(promptRow);
    controls->addWidget(pick, 3);

    auto* sampling = new QGroupBox(tr("Sampling"));
    auto* form = new QFormLayout(sampling);
    m_temperature = new QDoubleSpinBox;
    m_temperature->setObjectName(QStringLiteral("temperature"));
    m_temperature->setRange(0.0, 5.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setSpecialValueText(tr("0 (greedy)"));
    form->addRow(tr("Temperature"), m_temperature);
    m_topP = new QDoubleSpinBox;
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(1.0);
    form->addRow(tr("Top-p"), m_topP);
    m_topK = new QSpinBox;
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("no limit"));
    form->addRow(tr("Top-k"), m_topK);
    m_maxTokens = new QSpinBox;
    m_maxTokens->setObjectName(QStringLiteral("maxTokens"));
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(48);
    setPluralSuffix(m_maxTokens, tr("token"), tr("tokens"));
    form->addRow(tr("Max new"), m_maxTokens);
    m_seed = new QSpinBox;
    m_seed->setRange(0, std::numeric_limits<int>::max());
    form->addRow(tr("Seed"), m_seed);
    m_stopAtEos = new QCheckBox(tr("Stop at end-of-text"));
    m_stopAtEos->setObjectName(QStringLiteral("stopAtEos"));
    m_stopAtEos->setChecked(true);
    form->addRow(m_stopAtEos);
    controls->addWidget(sampling, 1);
    layout->addLayout(controls);

    auto* actions = new QHBoxLayout;
    m_generateAll = new QPushButton(tr("Generate all"));
    m_generateAll->setObjectName(QStringLiteral("generateAll"));
    m_regenerate = new QPushButton(tr("Regenerate selected"));
    m_stop = new QPushButton(tr("Stop"));
    auto* remove = new QPushButton(tr("Remove selected"));
    auto* clear = new QPushButton(tr("Clear"));
    for (QPushButton* b : {m_generateAll, m_regenerate, m_stop, remove, clear}) actions->addWidget(b);
    actions->addStretch(1);
    layout->addLayout(actions);

    m_table = new QTableWidget(0, kTuned + 1);
    m_table->setObjectName(QStringLiteral("generationTable"));
    m_table->setHorizontalHeaderLabels({tr("INPUT"), tr("TARGET"), tr("BASE OUTPUT"), tr("FINE-TUNED OUTPUT")});
    m_table->setItemDelegate(new AnswerDelegate(m_table));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setWordWrap(true);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->setTextElideMode(Qt::ElideNone);
    layout->addWidget(m_table, 1);

    // Generation runs on the controller's thread.
    m_controller = new GenerationController(this);
    connect(m_controller, &GenerationController::opened, this, &GenerationPanel::onOpened);
    connect(m_controller, &GenerationController::openFailed, this, [this](const QString& message) {
        m_loaded = false;
        m_openedKey.clear();
        m_status->setText(tr("<span style='color:#c62828'>Cannot load the models: %1</span>").arg(message.toHtmlEscaped()));
        emit sessionFailed(message);
    });
    connect(m_controller, &GenerationController::progressed, this, &GenerationPanel::onProgress);
    connect(m_controller, &GenerationController::generated, this, &GenerationPanel::onGenerated);
    connect(m_controller, &GenerationController::jobFailed, this, &GenerationPanel::onJobFailed);
    connect(m_controller, &GenerationController::skipped, this, [this](qint64 id, bool tuned) {
        const int row = rowOf(id);
        if (row >= 0) setCell(row, tuned ? kTuned + m_sourceRun : kBase, tr("stopped"), true);
        jobEnded();
    });

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a run folder"), m_runDir->text());
        if (dir.isEmpty()) return;
        try {
            setSource(loadRunConfig(sstr(QDir(dir).filePath(QStringLiteral("config.json")))), dir, CheckpointPick::Best);
        } catch (const std::exception& e) {
            emit failed(QString::fromUtf8(e.what()));
        }
    });
    connect(m_checkpoint, &QComboBox::currentIndexChanged, this, [this] { m_loaded = false; });
    connect(m_runPick, &QComboBox::activated, this, [this](int index) {
        if (index < 0 || index >= static_cast<int>(m_runs.size())) return;
        const ExperimentRun& r = m_runs[static_cast<std::size_t>(index)];
        setSource(r.config, qstr(r.dir), CheckpointPick::Best, index);
    });
    connect(m_load, &QPushButton::clicked, this, &GenerationPanel::loadNow);
    connect(m_search, &QLineEdit::textChanged, this, &GenerationPanel::filterExamples);
    connect(addSelected, &QPushButton::clicked, this, [this] {
        for (QListWidgetItem* item : m_exampleList->selectedItems()) addExample(item->data(Qt::UserRole).toInt());
    });
    connect(m_exampleList, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem* item) { addExample(item->data(Qt::UserRole).toInt()); });
    connect(addRandom, &QPushButton::clicked, this, &GenerationPanel::addRandomExample);
    connect(addPromptButton, &QPushButton::clicked, this, [this] {
        QString text = m_prompt->toPlainText().trimmed();
        if (text.isEmpty()) return;
        if (m_wrapDialogue->isChecked() && !text.endsWith(QLatin1String("Assistant:")))
            text = QStringLiteral("\n\nHuman: %1\n\nAssistant:").arg(text);
        addPrompt(text);
        m_prompt->clear();
    });
    connect(m_generateAll, &QPushButton::clicked, this, &GenerationPanel::generateAll);
    connect(m_regenerate, &QPushButton::clicked, this, [this] {
        QList<int> rows;
        for (const QModelIndex& i : m_table->selectionModel()->selectedRows()) rows << i.row();
        for (int row : rows) generateRow(row);
    });
    connect(m_stop, &QPushButton::clicked, this, &GenerationPanel::stop);
    connect(remove, &QPushButton::clicked, this, [this] {
        QList<int> rows;
        for (const QModelIndex& i : m_table->selectionModel()->selectedRows()) rows << i.row();
        std::sort(rows.begin(), rows.end(), std::greater<int>());
        for (int row : rows) m_table->removeRow(row);
    });
    connect(clear, &QPushButton::clicked, this, &GenerationPanel::clearRows);
    guardWheel(sampling);
    updateButtons();
}

GenerationPanel::~GenerationPanel() = default; // the controller stops generation and joins its thread

QString GenerationPanel::checkpointPath() const
{
    const std::string run = sstr(m_runDir->text().trimmed());
    // A run stopped before its first evaluation has no best; its last is the
    // next best thing, and a run without a last has only its best.
    const auto found = m_checkpoint->currentIndex() == 0 ? findRunCheckpoint(run, CheckpointPick::BestElseLast)
                                                         : findRunCheckpoint(run, CheckpointPick::Last);
    if (found) return qstr(found->string());
    if (const auto best = findRunCheckpoint(run, CheckpointPick::Best)) return qstr(best->string());
    return {};
}

void GenerationPanel::setSource(const RunConfig& config, const QString& runDir, CheckpointPick checkpoint, int run)
{
    m_config = config;
    m_hasSource = true;
    m_sourceRun = std::clamp(run, 0, runColumnCount() - 1);
    if (m_runPick->count() > m_sourceRun) m_runPick->setCurrentIndex(m_sourceRun);
    m_runDir->setText(runDir);
    m_checkpoint->setCurrentIndex(checkpoint == CheckpointPick::Last ? 1 : 0);
    // Start from the run's own sampling settings, so regenerating a sample reproduces it.
    m_temperature->setValue(config.sampleTemperature);
    m_topP->setValue(config.sampleTopP);
    m_topK->setValue(static_cast<int>(config.sampleTopK));
    m_maxTokens->setValue(static_cast<int>(config.sampleMaxNewTokens));
    m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(config.seed, std::numeric_limits<int>::max())));
    m_loaded = false;
    m_openedKey.clear();
    m_status->setText(tr("Models load when you generate (or press Load)."));
    updateButtons();
}

void GenerationPanel::setCurrentConfig(const RunConfig& config)
{
    if (!m_hasSource) m_config = config;
}

void GenerationPanel::loadNow()
{
    m_openedKey.clear();
    ensureOpen();
}

void GenerationPanel::ensureOpen()
{
    const QString checkpoint = checkpointPath();
    const QString key = QString::fromStdString(runConfigToJson(m_config)) + QLatin1Char('\n') + checkpoint;
    if (key == m_openedKey) return;
    m_openedKey = key;
    m_loaded = false;
    const QString description = checkpoint.isEmpty() ? tr("base model only (no checkpoint in this run)")
                                                     : tr("base model and %1").arg(QDir::toNativeSeparators(checkpoint));
    m_status->setText(tr("Loading %1…").arg(description));
    m_controller->open(m_config, checkpoint, description);
}

void GenerationPanel::onOpened(const std::vector<Example>& examples, bool hasTuned, const QString& description)
{
    m_loaded = true;
    m_examples = examples;
    m_status->setText(hasTuned ? tr("Loaded %1. %2 validation examples to pick from.").arg(description).arg(examples.size())
                               : tr("Loaded %1; the fine-tuned column stays empty. %2 validation examples.")
                                     .arg(description)
                                     .arg(examples.size()));
    filterExamples(m_search->text());
    updateButtons();
    emit sessionOpened(static_cast<int>(examples.size()), hasTuned);
}

void GenerationPanel::filterExamples(const QString& text)
{
    m_exampleList->clear();
    for (int i = 0; i < static_cast<int>(m_examples.size()) && m_exampleList->count() < kMaxListed; ++i) {
        const Example& e = m_examples[i];
        if (!exampleMatches(e.prompt, e.target, i, text)) continue;
        auto* item = new QListWidgetItem(QStringLiteral("#%1  %2").arg(i).arg(firstLine(e.prompt.empty() ? e.target : e.prompt)),
                                         m_exampleList);
        item->setData(Qt::UserRole, i);
        item->setToolTip(QString::fromStdString(e.prompt).right(1500));
    }
}

int GenerationPanel::addPrompt(const QString& prompt, const QString& target)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto* input = new QTableWidgetItem(prompt.trimmed());
    input->setData(kIdRole, m_nextId++);
    input->setData(Qt::UserRole, prompt); // the exact text, spacing included
    input->setToolTip(prompt);
    m_table->setItem(row, kInput, input);
    m_table->setItem(row, kTarget, new QTableWidgetItem(target));
    for (int column = kBase; column < m_table->columnCount(); ++column) setCell(row, column, {});
    updateButtons();
    return row;
}

bool GenerationPanel::addExample(int index)
{
    if (index < 0 || index >= static_cast<int>(m_examples.size())) return false;
    const Example& e = m_examples[index];
    addPrompt(QString::fromStdString(e.prompt), QString::fromStdString(e.target));
    return true;
}

void GenerationPanel::addRandomExample()
{
    if (m_examples.empty()) {
        ensureOpen(); // the examples come with the models
        m_status->setText(m_status->text() + tr(" Pick again once loaded."));
        return;
    }
    addExample(static_cast<int>(QRandomGenerator::global()->bounded(static_cast<quint32>(m_examples.size()))));
}

int GenerationPanel::runColumnCount() const { return m_table->columnCount() - kTuned; }

void GenerationPanel::setRunLabels(const QStringList& labels)
{
    const int runs = std::max<int>(1, static_cast<int>(labels.size()));
    m_table->setColumnCount(kTuned + runs);
    for (int i = 0; i < runs; ++i) {
        // Several runs: their labels, one option a line, so narrow columns stay readable.
        const QString title = labels.size() <= 1 ? tr("FINE-TUNED OUTPUT") : QString(labels[i]).replace(QStringLiteral(", "), QStringLiteral("\n"));
        auto* header = new QTableWidgetItem(title);
        header->setToolTip(labels.size() <= 1 ? QString() : labels[i]);
        m_table->setHorizontalHeaderItem(kTuned + i, header);
    }
}

void GenerationPanel::showExperiment(const Experiment& e)
{
    clearRows();
    QStringList labels;
    for (const ExperimentRun& r : e.runs) labels << qstr(r.label);
    setRunLabels(labels);
    m_runs = e.runs;
    m_runPick->clear();
    m_runPick->addItems(labels);
    m_runPick->setVisible(e.runs.size() > 1);
    int source = -1;
    for (int i = 0; i < static_cast<int>(e.runs.size()); ++i) {
        const ExperimentRun& r = e.runs[static_cast<std::size_t>(i)];
        showSamples(r.records.samples, false, i);
        if (source < 0 && !r.dir.empty() && r.state != RunState::NotStarted) source = i;
    }
    if (source >= 0) {
        const ExperimentRun& r = e.runs[static_cast<std::size_t>(source)];
        setSource(r.config, qstr(r.dir), CheckpointPick::Best, source);
    }
}

} // namespace loralab::ui
