#include "ui/runs_panel.h"

#include "ui/config_widgets.h"
#include "ui/task_runner.h"

#include "engine/runner/tools.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

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

// Titles from notes.json name the runs wherever they are shown.
void applyTitles(ExperimentRecords& e)
{
    for (ExperimentRun& run : e.runs) {
        const QString title = run.started ? readNotes(qstr(run.records.dir)).title : QString();
        if (!title.isEmpty()) run.label = sstr(title);
    }
    const QString title = readNotes(qstr(e.dir)).title;
    if (!title.isEmpty()) e.name = sstr(title);
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
    top->addWidget(browse);
    top->addWidget(refreshButton);
    layout->addLayout(top);

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
    connect(showFolder, &QPushButton::clicked, this, [this] {
        const QStringList dirs = selectedDirs();
        QDesktopServices::openUrl(QUrl::fromLocalFile(dirs.isEmpty() ? m_dir->text() : dirs.first()));
    });
    showDetails();
}

void RunsPanel::setRunsDir(const QString& dir)
{
    if (dir == m_dir->text()) return;
    m_dir->setText(dir);
    refresh();
}

QString RunsPanel::runsDir() const { return m_dir->text().trimmed(); }

void RunsPanel::refresh()
{
    const QString dir = runsDir();
    const quint64 request = ++m_scanRequest;
    m_status->setText(tr("Reading…"));
    m_runner->post<QList<RunEntry>>(
        [dir] { return scanRuns(dir); }, this,
        [this, request](QList<RunEntry> entries) {
            if (request == m_scanRequest) show(entries);
        },
        [this](const QString& message) { m_status->setText(message); });
}

QTreeWidgetItem* RunsPanel::addItem(const RunEntry& r, QTreeWidgetItem* parent)
{
    auto* item = parent ? new RunItem(parent) : new RunItem(m_tree);
    if (parent) item->setData(kName, kOrderRole, parent->childCount() - 1);
    item->setText(kName, r.shownName());
    item->setData(kName, kDirRole, r.dir);
    item->setData(kName, kExperimentRole, r.experiment);
    item->setData(kName, kResumableRole, r.resumable);
    item->setToolTip(kName, QDir::toNativeSeparators(r.dir));
    item->setText(kMethod, r.method);
    item->setText(kLr, r.learningRate);
    item->setText(kRank, r.rank);
    item->setText(kAlpha, r.alpha);
    item->setText(kTargets, r.targets);
    item->setText(kBatch, r.batch);
    item->setText(kMaxLen, r.maxLen);
    item->setText(kSteps, r.steps > 0 ? QString::number(r.steps) : QString());
    for (int c : {kLr, kRank, kAlpha, kBatch, kMaxLen, kSteps, kBest})
        item->setData(c, Qt::TextAlignmentRole, int(Qt::AlignRight | Qt::AlignVCenter));
    item->setText(kBest, r.bestValLoss >= 0 ? QString::number(r.bestValLoss, 'f', 4) : QString());
    item->setText(kOutcome, r.outcome);
    item->setText(kStarted, r.started.isValid() ? r.started.toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")) : QString());
    item->setText(kModel, r.model);
    item->setText(kDataset, r.dataset);
    if (r.dir.isEmpty()) item->setFlags(item->flags() & ~Qt::ItemIsSelectable); // a run never begun
    for (const RunEntry& child : r.children) addItem(child, item);
    return item;
}

void RunsPanel::show(const QList<RunEntry>& entries)
{
    const QStringList previouslySelected = selectedDirs();
    m_tree->setSortingEnabled(false);
    m_tree->clear();
    for (const RunEntry& r : entries) addItem(r, nullptr);
    m_tree->setSortingEnabled(true);
    m_tree->expandAll();
    for (const QString& dir : previouslySelected) select(dir);
    m_status->setText(entries.isEmpty() ? tr("No runs in this folder yet.") : countText(entries.size(), tr("entry"), tr("entries")));
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
    m_notesDir.clear();
    const QSignalBlocker block(m_notes);
    if (!one) {
        m_events->clear();
        m_notes->clear();
        m_notes->setEnabled(false);
        return;
    }
    const QString dir = items.first()->data(kName, kDirRole).toString();
    m_notes->setPlainText(readNotes(dir).notes);
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
    RunNotes notes = readNotes(m_notesDir);
    notes.notes = m_notes->toPlainText();
    if (!writeNotes(m_notesDir, notes)) m_status->setText(tr("Could not save the notes."));
}

bool RunsPanel::rename(const QString& dir, const QString& title)
{
    RunNotes notes = readNotes(dir);
    notes.title = title.trimmed();
    if (!writeNotes(dir, notes)) {
        emit failed(tr("Could not write %1").arg(QDir::toNativeSeparators(QDir(dir).filePath(QStringLiteral("notes.json")))));
        return false;
    }
    emit renamed(dir, notes.title);
    refresh();
    return true;
}

void RunsPanel::renameSelected()
{
    const QList<QTreeWidgetItem*> items = m_tree->selectedItems();
    if (items.size() != 1) return;
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename"), tr("Title (empty: the folder's name)"), QLineEdit::Normal,
                                                readNotes(items.first()->data(kName, kDirRole).toString()).title, &ok);
    if (ok) rename(items.first()->data(kName, kDirRole).toString(), title);
}

bool RunsPanel::moveToTrash(const QStringList& dirs, QString* error)
{
    bool all = true;
    for (const QString& dir : dirs) {
        if (!QFile::moveToTrash(dir)) {
            all = false;
            if (error) *error = tr("Could not move %1 to the trash").arg(QDir::toNativeSeparators(dir));
        }
    }
    refresh();
    return all;
}

void RunsPanel::deleteSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.isEmpty()) return;
    const QString what = dirs.size() == 1 ? QDir::toNativeSeparators(dirs.first()) : tr("these %1 folders").arg(dirs.size());
    if (QMessageBox::question(this, tr("Move to the trash"),
                              tr("Move %1 to the trash? Its checkpoints, metrics and samples go with it.").arg(what)) != QMessageBox::Yes)
        return;
    QString error;
    if (!moveToTrash(dirs, &error)) emit failed(error);
}

void RunsPanel::readExperiments(const QStringList& dirs, std::function<void(std::vector<ExperimentRecords>)> done)
{
    m_runner->post<std::vector<ExperimentRecords>>(
        [dirs] {
            std::vector<ExperimentRecords> out;
            for (const QString& d : dirs) {
                out.push_back(readExperiment(sstr(d)));
                applyTitles(out.back());
            }
            return out;
        },
        this, std::move(done), [this](const QString& m) { emit failed(m); });
}

void RunsPanel::openSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() == 1) openDirectory(dirs.first());
}

void RunsPanel::openDirectory(const QString& dir)
{
    readExperiments({dir}, [this](std::vector<ExperimentRecords> e) { emit opened(e.front()); });
}

void RunsPanel::overlaySelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() < 2) return;
    readExperiments(dirs, [this](std::vector<ExperimentRecords> all) {
        // Every run of every selection, as one experiment.
        ExperimentRecords overlay;
        overlay.name = sstr(tr("overlay"));
        for (ExperimentRecords& e : all)
            for (ExperimentRun& run : e.runs)
                if (run.started) overlay.runs.push_back(std::move(run));
        emit opened(overlay);
    });
}

void RunsPanel::continueSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 1) return;
    const QString dir = dirs.first();
    readExperiments({dir}, [this, dir](std::vector<ExperimentRecords> e) {
        try {
            if (QFileInfo::exists(QDir(dir).filePath(QStringLiteral("experiment.json")))) {
                emit continueRequested(e.front(), planContinuation(sstr(dir)));
            } else {
                const RunConfig config = loadRunConfig(sstr(QDir(dir).filePath(QStringLiteral("config.json"))));
                emit continueRequested(e.front(), planRun(config, sstr(dir)));
            }
        } catch (const std::exception& ex) {
            emit failed(QString::fromUtf8(ex.what()));
        }
    });
}

void RunsPanel::newRunFromSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 1) return;
    try {
        const QDir dir(dirs.first());
        if (dir.exists(QStringLiteral("experiment.json"))) {
            const ExperimentPlan plan = planContinuation(sstr(dirs.first()));
            emit newRunRequested(plan.base, plan.axes);
        } else {
            emit newRunRequested(loadRunConfig(sstr(dir.filePath(QStringLiteral("config.json")))), {});
        }
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
    }
}

void RunsPanel::exportMerged(const QString& runDir, const QString& outDir)
{
    m_status->setText(tr("Exporting %1…").arg(QFileInfo(outDir).fileName()));
    m_export->setEnabled(false);
    m_runner->post<MergedExport>(
        [runDir, outDir] { return loralab::exportMerged(sstr(runDir), sstr(outDir), {}, {}); }, this,
        [this](MergedExport e) {
            const QString out = QString::fromStdString(e.outDir);
            const QString summary =
                e.method == "lora"
                    ? tr("%1 parameters, the adapter of %2 merged into %3")
                          .arg(formatCount(e.params), QString::fromStdString(e.checkpoint), QString::fromStdString(e.baseModel))
                    : tr("%1 parameters, the full fine-tuning checkpoint %2")
                          .arg(formatCount(e.params), QString::fromStdString(e.checkpoint));
            m_status->setText(tr("Exported %1").arg(QFileInfo(out).fileName()));
            showDetails();
            emit exported(out, summary);
        },
        [this](const QString& m) {
            m_status->clear();
            showDetails();
            emit failed(m);
        });
}

} // namespace loralab::ui
