#include "ui/runs/runs_panel.h"

#include "ui/config/config_widgets.h"
#include "ui/controllers/task_runner.h"

#include "engine/commands/tools.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
enum Col { kName, kMethod, kLr, kRank, kAlpha, kTargets, kBatch, kMaxLen, kSteps, kBest, kOutcome, kStarted, kModel, kDataset, kColumns };
constexpr int kDirRole = Qt::UserRole;
constexpr int kExperimentRole = Qt::UserRole + 1;
constexpr int kResumableRole = Qt::UserRole + 2;
constexpr int kOrderRole = Qt::UserRole + 3;
constexpr int kStateRole = Qt::UserRole + 4;
constexpr int kEventLines = 200;

// Top-level entries sort by the column clicked; an experiment's runs keep
// the experiment's order whichever way the list is sorted.
class RunItem : public QTreeWidgetItem {
public:
    using QTreeWidgetItem::QTreeWidgetItem;
    bool operator<(const QTreeWidgetItem& other) const override
    {
        if (!parent() || !other.parent()) return QTreeWidgetItem::operator<(other);
        const bool ascending = !treeWidget() || treeWidget()->header()->sortIndicatorOrder() == Qt::AscendingOrder;
        const int a = data(kName, kOrderRole).toInt(), b = other.data(kName, kOrderRole).toInt();
        return ascending ? a < b : a > b;
    }
};

QString optionText(const RunConfig& c, const char* key)
{
    return qstr(runOptionJson(c, key)).remove(QLatin1Char('"')).remove(QLatin1Char('[')).remove(QLatin1Char(']'));
}

// The columns every row has: a run's hyperparameters, steps, best loss, outcome.
void fillRun(QTreeWidgetItem* item, const ExperimentRun& run)
{
    const RunConfig& c = run.config;
    item->setText(kMethod, qstr(runKindText(c.objective, c.method)));
    item->setText(kLr, optionText(c, "learning_rate"));
    item->setText(kBatch, optionText(c, "batch_size"));
    item->setText(kMaxLen, optionText(c, "max_len"));
    if (c.method == Method::Lora) {
        item->setText(kRank, optionText(c, "lora_r"));
        item->setText(kAlpha, optionText(c, "lora_alpha"));
        item->setText(kTargets, optionText(c, "lora_targets").replace(QLatin1Char(','), QLatin1Char('+')));
    }
    item->setText(kSteps, run.stepsDone > 0 ? QString::number(run.stepsDone) : QString());
    item->setText(kBest, run.summary && run.summary->bestValLoss ? QString::number(*run.summary->bestValLoss, 'f', 4) : QString());
    item->setText(kOutcome, qstr(outcomeText(run)));
    item->setData(kOutcome, kStateRole, qstr(choiceName(run.state)));
    item->setText(kModel, qstr(c.model));
    item->setText(kDataset, qstr(c.dataset));
}
} // namespace

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent)
{
    m_runner = new TaskRunner(QStringLiteral("loralab-runs"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Runs folder")));
    m_dir = new QLineEdit;
    m_dir->setObjectName(QStringLiteral("runsFolder"));
    top->addWidget(m_dir, 1);
    auto* browse = new QPushButton(tr("Browse…"));
    auto* refreshButton = new QPushButton(tr("Refresh"));
    refreshButton->setObjectName(QStringLiteral("refreshRuns"));
    auto* addFolder = new QPushButton(tr("Add folder…"));
    addFolder->setObjectName(QStringLiteral("addRunsFolder"));
    addFolder->setToolTip(tr("List the runs of another folder too (kept for the next start)"));
    top->addWidget(browse);
    top->addWidget(addFolder);
    top->addWidget(refreshButton);
    layout->addLayout(top);
    m_also = new QLabel;
    m_also->setObjectName(QStringLiteral("alsoListed"));
    m_also->setWordWrap(true);
    m_also->setStyleSheet(QStringLiteral("color: #616161;"));
    m_also->hide();
    layout->addWidget(m_also);
    connect(addFolder, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("List the runs of this folder too"), m_dir->text());
        if (dir.isEmpty() || m_extraFolders.contains(dir)) return;
        m_extraFolders << dir;
        refresh();
    });

    auto* split = new QSplitter(Qt::Vertical);
    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("runsTree"));
    m_tree->setColumnCount(kColumns);
    m_tree->setHeaderLabels({tr("Run"), tr("Method"), tr("LR"), tr("r"), tr("alpha"), tr("Targets"), tr("Batch"), tr("Max len"),
                             tr("Steps"), tr("Best val loss"), tr("Outcome"), tr("Started"), tr("Model"), tr("Dataset")});
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setAlternatingRowColors(true);
    m_tree->setRootIsDecorated(true);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(kStarted, Qt::DescendingOrder);
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_tree->header()->setStretchLastSection(true);
    split->addWidget(m_tree);
    m_detailTabs = new QTabWidget;
    m_events = new QPlainTextEdit;
    m_events->setObjectName(QStringLiteral("runDetails"));
    m_events->setReadOnly(true);
    m_events->setPlaceholderText(tr("The selected run's event log."));
    m_events->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_detailTabs->addTab(m_events, tr("Events"));
    m_notes = new QPlainTextEdit;
    m_notes->setObjectName(QStringLiteral("runNotes"));
    m_notes->setPlaceholderText(tr("Notes on the selected run or experiment, kept in its folder (notes.json)."));
    m_detailTabs->addTab(m_notes, tr("Notes"));
    split->addWidget(m_detailTabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    auto* actions = new QHBoxLayout;
    const auto button = [&](const QString& text, const char* name, const QString& tip) {
        auto* b = new QPushButton(text);
        b->setObjectName(QLatin1String(name));
        b->setToolTip(tip);
        actions->addWidget(b);
        return b;
    };
    m_open = button(tr("Open"), "openRun", tr("Show the run or the whole experiment: charts, summary and generations"));
    m_overlay = button(tr("Overlay"), "overlayRuns", tr("Draw the selected runs together, as one experiment"));
    m_continue = button(tr("Continue"), "continueRun",
                        tr("Resume an interrupted run from its last checkpoint; an experiment also starts the runs it never began"));
    m_newRun = button(tr("New run from this…"), "newRunFromConfig",
                      tr("Load the run's configuration (an experiment's, with its sweep) into the form"));
    m_rename = button(tr("Rename…"), "renameRun", tr("Give the run or experiment a title (kept in notes.json; the folder keeps its name)"));
    m_delete = button(tr("Delete…"), "deleteRun", tr("Move the selected folders to the trash"));
    m_export = button(tr("Export merged model…"), "exportMerged",
                      tr("Write the run's best checkpoint as a Hugging Face model folder, the adapter folded "
                         "into the base weights (transformers loads it with AutoModelForCausalLM)"));
    m_exportGguf = button(tr("Export GGUF…"), "exportGguf",
                          tr("Write the run's best checkpoint as one GGUF file, the adapter folded in, for llama.cpp and Ollama"));
    auto* showFolder = button(tr("Show folder"), "showFolder", tr("Open the folder in the file manager"));
    actions->addStretch(1);
    m_status = new QLabel;
    actions->addWidget(m_status);
    layout->addLayout(actions);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose the runs folder"), m_dir->text());
        if (!dir.isEmpty()) setRunsDir(dir);
    });
    connect(refreshButton, &QPushButton::clicked, this, &RunsPanel::refresh);
    connect(m_dir, &QLineEdit::editingFinished, this, &RunsPanel::refresh);
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &RunsPanel::showDetails);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, &RunsPanel::openSelected);
    connect(m_open, &QPushButton::clicked, this, &RunsPanel::openSelected);
    connect(m_overlay, &QPushButton::clicked, this, &RunsPanel::overlaySelected);
    connect(m_continue, &QPushButton::clicked, this, &RunsPanel::continueSelected);
    connect(m_newRun, &QPushButton::clicked, this, &RunsPanel::newRunFromSelected);
    connect(m_rename, &QPushButton::clicked, this, &RunsPanel::renameSelected);
    connect(m_delete, &QPushButton::clicked, this, &RunsPanel::deleteSelected);
    connect(m_notes, &QPlainTextEdit::textChanged, this, &RunsPanel::saveNotes);
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedDirs();
        if (dirs.size() != 1) return;
        const QString suggested = QFileInfo(dirs.first()).absoluteFilePath() + QStringLiteral("-merged");
        const QString out = QFileDialog::getSaveFileName(this, tr("Export the merged model to a new folder"), suggested,
                                                         QString(), nullptr, QFileDialog::ShowDirsOnly);
        if (!out.isEmpty()) exportMerged(dirs.first(), out);
    });
    connect(m_exportGguf, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedDirs();
        if (dirs.size() != 1) return;
        const QString suggested = QFileInfo(dirs.first()).absoluteFilePath() + QStringLiteral(".gguf");
        const QString out = QFileDialog::getSaveFileName(this, tr("Export the model as a GGUF file"), suggested,
                                                         tr("GGUF (*.gguf)"));
        if (out.isEmpty()) return;
        bool ok = false;
        const QString type = QInputDialog::getItem(this, tr("GGUF type"), tr("Tensor type (q8_0: about half the size of f16)"),
                                                   {QStringLiteral("f16"), QStringLiteral("q8_0")}, 0, false, &ok);
        if (ok) exportGguf(dirs.first(), out, parseChoice<GgufType>(sstr(type)));
    });
    connect(showFolder, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedDirs();
        QDesktopServices::openUrl(QUrl::fromLocalFile(dirs.isEmpty() ? m_dir->text() : dirs.first()));
    });
    showDetails();
}

QString RunsPanel::stateOf(const QTreeWidgetItem* item) { return item->data(kOutcome, kStateRole).toString(); }
QString RunsPanel::dirOf(const QTreeWidgetItem* item) { return item->data(kName, kDirRole).toString(); }

void RunsPanel::setRunsDir(const QString& dir)
{
    if (dir == m_dir->text()) return;
    m_dir->setText(dir);
    refresh();
}

QString RunsPanel::runsDir() const { return m_dir->text().trimmed(); }

QStringList RunsPanel::listedFolders() const
{
    QStringList out{runsDir()};
    for (const std::string& legacy : legacyRunsDirs())
        if (QFileInfo(qstr(legacy)).isDir()) out << qstr(legacy);
    out << m_extraFolders;
    out.removeDuplicates();
    return out;
}

void RunsPanel::setExtraFolders(const QStringList& folders)
{
    m_extraFolders = folders;
    refresh();
}

void RunsPanel::refresh()
{
    const QStringList folders = listedFolders();
    const quint64 request = ++m_scanRequest;
    m_status->setText(tr("Reading…"));
    m_also->setText(folders.size() > 1 ? tr("Also listing: %1").arg(QStringList(folders.mid(1)).join(QStringLiteral("; "))) : QString());
    m_also->setVisible(folders.size() > 1);
    m_runner->post<std::vector<CatalogEntry>>(
        [folders] {
            std::vector<CatalogEntry> all;
            for (const QString& folder : folders)
                for (CatalogEntry& e : listRuns(sstr(folder))) all.push_back(std::move(e));
            return all;
        },
        this,
        [this, request](std::vector<CatalogEntry> entries) {
            if (request == m_scanRequest) show(entries);
        },
        [this](const QString& message) { m_status->setText(message); });
}

void RunsPanel::addItem(const CatalogEntry& entry)
{
    auto* item = new RunItem(m_tree);
    item->setText(kName, qstr(entry.shownName()));
    item->setData(kName, kDirRole, qstr(entry.dir));
    item->setData(kName, kExperimentRole, entry.experiment);
    item->setData(kName, kResumableRole, entry.continuable);
    item->setToolTip(kName, QDir::toNativeSeparators(qstr(entry.dir)));
    item->setText(kStarted, QDateTime::fromSecsSinceEpoch(entry.modified).toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")));
    if (!entry.experiment) {
        fillRun(item, entry.contents.runs.front());
    } else {
        QStringList methods;
        for (const ExperimentRun& run : entry.contents.runs)
            if (!methods.contains(qstr(runKindText(run.config.objective, run.config.method))))
                methods << qstr(runKindText(run.config.objective, run.config.method));
        item->setText(kMethod, methods.join(QStringLiteral(" vs ")));
        item->setText(kOutcome, qstr(entryOutcomeText(entry)));
        std::optional<double> best;
        for (const ExperimentRun& run : entry.contents.runs)
            if (run.summary && run.summary->bestValLoss && (!best || *run.summary->bestValLoss < *best)) best = run.summary->bestValLoss;
        if (best) item->setText(kBest, QString::number(*best, 'f', 4));
        item->setText(kModel, qstr(entry.contents.base.model));
        item->setText(kDataset, qstr(entry.contents.base.dataset));
        for (const ExperimentRun& run : entry.contents.runs) {
            auto* child = new RunItem(item);
            child->setData(kName, kOrderRole, item->childCount() - 1);
            const std::string title = run.dir.empty() ? std::string() : readNotes(run.dir).title;
            child->setText(kName, qstr(title.empty() ? run.label : title));
            child->setData(kName, kDirRole, qstr(run.dir));
            child->setData(kName, kResumableRole, continuationOf(run) != RunAction::Keep);
            child->setToolTip(kName, QDir::toNativeSeparators(qstr(run.dir)));
            fillRun(child, run);
            if (run.dir.empty()) child->setFlags(child->flags() & ~Qt::ItemIsSelectable); // a run never begun
        }
    }
    for (QTreeWidgetItem* row = item;; row = row->child(0)) {
        for (int c : {kLr, kRank, kAlpha, kBatch, kMaxLen, kSteps, kBest})
            row->setData(c, Qt::TextAlignmentRole, int(Qt::AlignRight | Qt::AlignVCenter));
        if (row->childCount() == 0) break;
    }
}

void RunsPanel::show(const std::vector<CatalogEntry>& entries)
{
    const QStringList previouslySelected = selectedDirs();
    m_tree->setSortingEnabled(false);
    m_tree->clear();
    for (const CatalogEntry& e : entries) addItem(e);
    m_tree->setSortingEnabled(true);
    m_tree->expandAll();
    for (const QString& dir : previouslySelected) select(dir);
    m_status->setText(entries.empty() ? tr("No runs in this folder yet.")
                                      : countText(static_cast<qint64>(entries.size()), tr("entry"), tr("entries")));
    emit listed(static_cast<int>(entries.size()));
}

bool RunsPanel::select(const QString& dir)
{
    const QString wanted = QDir::cleanPath(dir);
    for (QTreeWidgetItemIterator it(m_tree); *it; ++it) {
        if (!(*it)->data(kName, kDirRole).toString().isEmpty() && QDir::cleanPath((*it)->data(kName, kDirRole).toString()) == wanted) {
            m_tree->setCurrentItem(*it);
            (*it)->setSelected(true);
            return true;
        }
    }
    return false;
}

QStringList RunsPanel::selectedDirs() const
{
    QStringList dirs;
    for (QTreeWidgetItem* item : m_tree->selectedItems())
        if (!item->data(kName, kDirRole).toString().isEmpty()) dirs << item->data(kName, kDirRole).toString();
    return dirs;
}

void RunsPanel::showDetails()
{
    const QList<QTreeWidgetItem*> items = m_tree->selectedItems();
    const bool one = items.size() == 1;
    const bool experiment = one && items.first()->data(kName, kExperimentRole).toBool();
    m_open->setEnabled(one);
    m_overlay->setEnabled(items.size() >= 2);
    m_continue->setEnabled(one && items.first()->data(kName, kResumableRole).toBool());
    m_newRun->setEnabled(one);
    m_rename->setEnabled(one);
    m_delete->setEnabled(!items.isEmpty());
    m_export->setEnabled(one && !experiment);
    m_exportGguf->setEnabled(one && !experiment);
    m_notesDir.clear();
    const QSignalBlocker block(m_notes);
    if (!one) {
        m_events->clear();
        m_notes->clear();
        m_notes->setEnabled(false);
        return;
    }
    const QString dir = items.first()->data(kName, kDirRole).toString();
    m_notes->setPlainText(qstr(readNotes(sstr(dir)).notes));
    m_notes->setEnabled(true);
    m_notesDir = dir;
    // The tail of events.log: what the run said about itself.
    QFile log(QDir(dir).filePath(QStringLiteral("events.log")));
    if (!log.open(QIODevice::ReadOnly | QIODevice::Text)) {
        m_events->setPlainText(experiment ? tr("(an experiment: select one of its runs for its event log)") : tr("(no event log)"));
        return;
    }
    QStringList lines = QString::fromUtf8(log.readAll()).split(QLatin1Char('\n'));
    if (lines.size() > kEventLines) lines = lines.mid(lines.size() - kEventLines);
    m_events->setPlainText(lines.join(QLatin1Char('\n')));
}

void RunsPanel::saveNotes()
{
    if (m_notesDir.isEmpty()) return;
    RunNotes notes = readNotes(sstr(m_notesDir));
    notes.notes = sstr(m_notes->toPlainText());
    try {
        writeNotes(sstr(m_notesDir), notes);
    } catch (const Error& e) {
        m_status->setText(QString::fromUtf8(e.what()));
    }
}

} // namespace loralab::ui
