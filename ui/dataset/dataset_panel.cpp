#include "ui/dataset/dataset_panel.h"

#include "ui/config/config_widgets.h"
#include "ui/dataset/example_table_model.h"
#include "ui/dataset/length_histogram.h"
#include "ui/controllers/task_runner.h"

#include <QCheckBox>
#include <QHeaderView>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
constexpr int kReloadDelayMs = 400;

// The fields a preview depends on, as one comparable string.
std::string previewKey(const RunConfig& c)
{
    return c.model + '\n' + c.dataset + '\n' + choiceName(c.datasetFormat) + '\n' + c.validation + '\n' + std::to_string(c.maxLen) +
           '\n' + choiceName(c.textMode) + '\n' + (c.trainOnPrompt ? "p" : "-") + (c.appendEos ? "e" : "-") + '\n' +
           runKindText(c.objective, c.method) + '\n' + c.tokenizer + '\n' + choiceName(c.assistantTurns) + '\n' + c.datasetConfig + '\n' +
           c.datasetDataDir + '\n' + c.datasetSplit + '\n' + c.textColumn + '\n' + c.promptColumn + '\n' + c.answerColumn + '\n' +
           c.messagesColumn + '\n' + c.chosenColumn + '\n' + c.rejectedColumn;
}

QString escaped(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }
} // namespace

DatasetPanel::DatasetPanel(QWidget* parent) : QWidget(parent)
{
    m_runner = new TaskRunner(QStringLiteral("loralab-preview"), this);
    m_model = new ExampleTableModel(this);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    m_summary = new QLabel(tr("No preview yet."));
    m_summary->setObjectName(QStringLiteral("datasetSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_summary, 1);
    auto* reloadButton = new QPushButton(tr("Reload"));
    reloadButton->setToolTip(tr("Read the dataset again (e.g. after editing the file)"));
    top->addWidget(reloadButton);
    layout->addLayout(top);
    m_warnings = new QLabel;
    m_warnings->setObjectName(QStringLiteral("datasetWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(QStringLiteral("background: #fff3e0; color: #6d4c00; border: 1px solid #ffcc80; "
                                             "border-radius: 3px; padding: 4px;"));
    m_warnings->hide();
    layout->addWidget(m_warnings);

    auto* split = new QSplitter(Qt::Horizontal);
    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto* searchRow = new QHBoxLayout;
    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("datasetSearch"));
    m_search->setPlaceholderText(tr("Search prompts and targets, or type an example number"));
    m_search->setClearButtonEnabled(true);
    searchRow->addWidget(m_search, 1);
    m_warningsOnly = new QCheckBox(tr("Only with warnings"));
    searchRow->addWidget(m_warningsOnly);
    leftLayout->addLayout(searchRow);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("datasetTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(ExampleTableModel::kPrompt, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(ExampleTableModel::kTarget, QHeaderView::Stretch);
    for (int c : {ExampleTableModel::kIndex, ExampleTableModel::kLine, ExampleTableModel::kTokens})
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(ExampleTableModel::kWarnings, QHeaderView::Interactive);
    m_table->setColumnWidth(ExampleTableModel::kWarnings, 120);
    auto* tableBox = new QWidget;
    auto* tableLayout = new QVBoxLayout(tableBox);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addWidget(m_table, 1);
    auto* pager = new QHBoxLayout;
    m_previous = new QPushButton(tr("◀ Previous"));
    m_next = new QPushButton(tr("Next ▶"));
    m_pageLabel = new QLabel;
    m_pageLabel->setObjectName(QStringLiteral("datasetPage"));
    pager->addWidget(m_previous);
    pager->addWidget(m_pageLabel, 1, Qt::AlignCenter);
    pager->addWidget(m_next);
    tableLayout->addLayout(pager);
    m_histogram = new LengthHistogram;
    m_histogram->setObjectName(QStringLiteral("lengthHistogram"));
    auto* leftSplit = new QSplitter(Qt::Vertical);
    leftSplit->addWidget(tableBox);
    leftSplit->addWidget(m_histogram);
    leftSplit->setStretchFactor(0, 3);
    leftSplit->setStretchFactor(1, 2);
    leftLayout->addWidget(leftSplit, 1);
    split->addWidget(left);

    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    m_counts = new QLabel(tr("Select an example."));
    m_counts->setObjectName(QStringLiteral("exampleCounts"));
    m_counts->setWordWrap(true);
    rightLayout->addWidget(m_counts);
    m_text = new QTextBrowser;
    m_text->setObjectName(QStringLiteral("exampleText"));
    rightLayout->addWidget(m_text, 1);
    auto* legend = new QLabel(tr("Tokens as the model sees them: <span style='background:#a5d6a7'>&nbsp;counted in the "
                                 "loss&nbsp;</span> <span style='background:#e0e0e0; color:#616161'>&nbsp;context "
                                 "only&nbsp;</span>"));
    legend->setTextFormat(Qt::RichText);
    rightLayout->addWidget(legend);
    m_tokens = new QTextBrowser;
    m_tokens->setObjectName(QStringLiteral("exampleTokens"));
    rightLayout->addWidget(m_tokens, 1);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({600, 380});
    layout->addWidget(split, 1);

    connect(reloadButton, &QPushButton::clicked, this, &DatasetPanel::reload);
    connect(m_search, &QLineEdit::textChanged, m_model, &ExampleTableModel::setFilter);
    connect(m_warningsOnly, &QCheckBox::toggled, m_model, &ExampleTableModel::setWarningsOnly);
    connect(m_previous, &QPushButton::clicked, this, [this] { m_model->setPage(m_model->page() - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { m_model->setPage(m_model->page() + 1); });
    connect(m_model, &ExampleTableModel::pageChanged, this, &DatasetPanel::updatePager);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) { showExample(m_model->exampleAt(current.row())); });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] { showExample(nullptr); });

    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(kReloadDelayMs);
    connect(&m_reloadTimer, &QTimer::timeout, this, &DatasetPanel::startLoad);
    updatePager(0, 0, 0);
}

DatasetPanel::~DatasetPanel() = default;

void DatasetPanel::setConfig(const RunConfig& config)
{
    m_config = config;
    if (previewKey(config) != m_loadedKey) m_reloadTimer.start();
}

void DatasetPanel::reload()
{
    m_reloadTimer.stop();
    startLoad();
}

void DatasetPanel::startLoad()
{
    m_loadedKey = previewKey(m_config);
    const quint64 request = ++m_previewRequest;
    const RunConfig config = m_config;
    ++m_pending;
    m_summary->setText(tr("Reading %1…").arg(QString::fromStdString(config.dataset)));
    m_runner->post<DatasetPreview>(
        [config] { return previewDataset(config, kPreviewExamples); }, this,
        [this, request](DatasetPreview preview) {
            --m_pending;
            if (request == m_previewRequest) showPreview(std::move(preview)); // a newer request supersedes this one
        },
        [this, request](const QString& message) {
            --m_pending;
            if (request != m_previewRequest) return;
            m_preview = {};
            m_model->setExamples({});
            m_histogram->setLengths({}, 0);
            m_summary->setText(tr("<span style='color:#c62828'>Cannot preview the dataset: %1</span>").arg(message.toHtmlEscaped()));
            m_warnings->hide();
            emit previewFailed(message);
        });
}

void DatasetPanel::showPreview(DatasetPreview preview)
{
    m_preview = std::move(preview);
    const qint64 shown = static_cast<qint64>(m_preview.examples.size());
    m_summary->setText(tr("<b>%1</b> · format <b>%2</b> · %3 examples%4")
                           .arg(escaped(m_preview.path), escaped(m_preview.format))
                           .arg(m_preview.totalExamples)
                           .arg(shown < m_preview.totalExamples ? tr(" (the first %1 previewed)").arg(shown) : QString()));
    QStringList warnings;
    if (m_preview.examplesWithWarnings > 0)
        warnings << tr("%1 of the previewed examples have warnings (highlighted; tick \"Only with warnings\" to list them).")
                        .arg(m_preview.examplesWithWarnings);
    if (m_preview.skippedLines > 0) warnings << escaped(m_preview.skippedSummary);
    m_warnings->setText(warnings.join(QStringLiteral("<br>")));
    m_warnings->setVisible(!warnings.isEmpty());
    m_histogram->setLengths(m_preview.lengths, m_config.maxLen);
    m_model->setExamples(m_preview.examples);
    if (m_model->rowCount() > 0) m_table->selectRow(0);
    emit previewLoaded(QString::fromStdString(m_preview.format), m_preview.totalExamples);
}

void DatasetPanel::updatePager(int page, int pages, int matches)
{
    m_pageLabel->setText(pages == 0 ? tr("no examples") : tr("page %1 of %2 · %3 matching").arg(page + 1).arg(pages).arg(matches));
    m_previous->setEnabled(page > 0);
    m_next->setEnabled(page + 1 < pages);
}

void DatasetPanel::showExample(const PreviewExample* e)
{
    ++m_tokenRequest;
    if (!e) {
        m_counts->setText(tr("Select an example."));
        m_text->clear();
        m_tokens->clear();
        return;
    }
    QString counts = tr("Example %1 (line %2): <b>%3</b> prompt tokens, <b>%4</b> answer tokens")
                         .arg(e->index)
                         .arg(e->line)
                         .arg(e->promptTokens)
                         .arg(e->answerTokens);
    if (e->droppedTurns > 0) counts += QStringLiteral(" · ") + countText(e->droppedTurns, tr("oldest turn dropped"), tr("oldest turns dropped"));
    if (e->promptCut) counts += tr(" · prompt cut");
    if (e->answerCut) counts += tr(" · <span style='color:#c62828'>answer cut by max_len</span>");
    for (const auto& w : e->warnings) counts += QStringLiteral("<br><span style='color:#b26a00'>⚠ %1</span>").arg(escaped(w));
    m_counts->setText(counts);

    QString html = QStringLiteral("<h4>Prompt</h4><pre style='white-space: pre-wrap'>%1</pre>"
                                  "<h4>Target</h4><pre style='white-space: pre-wrap'>%2</pre>")
                       .arg(escaped(e->prompt), escaped(e->target));
    if (!e->rejected.empty())
        html += QStringLiteral("<h4>Rejected</h4><pre style='white-space: pre-wrap'>%1</pre>").arg(escaped(e->rejected));
    m_text->setHtml(html);

    m_tokens->setPlainText(tr("Tokenizing…"));
    const quint64 request = m_tokenRequest;
    const RunConfig config = m_config;
    const PreviewExample example = *e;
    ++m_pending;
    m_runner->post<std::vector<PreviewToken>>(
        [config, example] { return previewTokens(config, example); }, this,
        [this, request](std::vector<PreviewToken> tokens) {
            --m_pending;
            if (request == m_tokenRequest) showTokens(tokens);
        },
        [this, request](const QString& message) {
            --m_pending;
            if (request == m_tokenRequest) m_tokens->setPlainText(tr("Cannot show tokens: %1").arg(message));
        });
}

void DatasetPanel::showTokens(const std::vector<PreviewToken>& tokens)
{
    // Alternating shades mark token boundaries; green means the token is a target.
    QString html = QStringLiteral("<div style='font-family: monospace; line-height: 150%'>");
    int inLoss = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const PreviewToken& t = tokens[i];
        const bool odd = i % 2;
        const char* bg = t.inLoss ? (odd ? "#c8e6c9" : "#a5d6a7") : (odd ? "#f0f0f0" : "#e0e0e0");
        const char* fg = t.inLoss ? "#1b5e20" : "#616161";
        QString text = QString::fromStdString(t.text).toHtmlEscaped();
        text.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        text.replace(QLatin1Char('\n'), QStringLiteral("↵<br>"));
        html += QStringLiteral("<span style='background:%1; color:%2'>%3</span>").arg(QLatin1String(bg), QLatin1String(fg), text);
        inLoss += t.inLoss ? 1 : 0;
    }
    html += QStringLiteral("</div><p style='color:#616161'>%1</p>")
                .arg(tr("%1 tokens, %2 counted in the loss").arg(tokens.size()).arg(inLoss));
    m_tokens->setHtml(html);
}

QString DatasetPanel::tokenHtml() const { return m_tokens->toHtml(); }

} // namespace loralab::ui
