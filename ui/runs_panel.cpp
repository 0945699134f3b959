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
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTextStream>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
enum Col { kName, kMethod, kSteps, kBest, kStop, kStarted, kModel, kDataset, kColumns };
constexpr int kDirRole = Qt::UserRole;
constexpr int kGroupRole = Qt::UserRole + 1;
constexpr int kEventLines = 200;

bool isRunDir(const QDir& d) { return d.exists(QStringLiteral("config.json")) || d.exists(QStringLiteral("metrics.jsonl")); }

RunEntry readEntry(const QString& path)
{
    RunEntry e;
    e.dir = path;
    const QFileInfo info(path);
    e.name = info.fileName();
    e.started = info.birthTime().isValid() ? info.birthTime() : info.lastModified();
    const QDir d(path);
    try {
        if (d.exists(QStringLiteral("config.json"))) {
            const RunConfig c = loadRunConfig(sstr(d.filePath(QStringLiteral("config.json"))));
            e.method = qstr(c.method);
            e.model = qstr(c.model);
            e.dataset = qstr(c.dataset);
        }
        if (d.exists(QStringLiteral("summary.json"))) {
            const RunSummary s = runSummaryFromJson(readTextFile(sstr(d.filePath(QStringLiteral("summary.json")))));
            e.steps = s.steps;
            e.bestValLoss = s.bestValLoss;
            e.stopReason = qstr(s.stopReason);
            if (!s.method.empty()) e.method = qstr(s.method);
        }
    } catch (const std::exception&) {
        e.stopReason = QObject::tr("unreadable");
    }
    return e;
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
    m_tree->setHeaderLabels({tr("Run"), tr("Method"), tr("Steps"), tr("Best val loss"), tr("Outcome"), tr("Started"),
                             tr("Model"), tr("Dataset")});
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setAlternatingRowColors(true);
    m_tree->setRootIsDecorated(true);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(kStarted, Qt::DescendingOrder);
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_tree->header()->setStretchLastSection(true);
    split->addWidget(m_tree);
    m_details = new QPlainTextEdit;
    m_details->setObjectName(QStringLiteral("runDetails"));
    m_details->setReadOnly(true);
    m_details->setPlaceholderText(tr("The selected run's event log."));
    m_details->setLineWrapMode(QPlainTextEdit::NoWrap);
    split->addWidget(m_details);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    auto* actions = new QHBoxLayout;
    m_open = new QPushButton(tr("Open"));
    m_open->setObjectName(QStringLiteral("openRun"));
    m_open->setToolTip(tr("Show the run's charts, summary and samples"));
    m_overlay = new QPushButton(tr("Overlay two"));
    m_overlay->setObjectName(QStringLiteral("overlayRuns"));
    m_overlay->setToolTip(tr("Draw two selected runs on the same charts"));
    m_continue = new QPushButton(tr("Continue training"));
    m_continue->setToolTip(tr("Resume an interrupted run from its last checkpoint"));
    m_export = new QPushButton(tr("Export merged model…"));
    m_export->setObjectName(QStringLiteral("exportMerged"));
    m_export->setToolTip(tr("Write the run's best checkpoint as a Hugging Face model folder, the adapter folded "
                            "into the base weights (transformers loads it with AutoModelForCausalLM)"));
    auto* showFolder = new QPushButton(tr("Show folder"));
    for (QPushButton* b : {m_open, m_overlay, m_continue, m_export, showFolder}) actions->addWidget(b);
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

QList<RunEntry> RunsPanel::scan(const QString& runsDir)
{
    QList<RunEntry> out;
    const QDir root(runsDir);
    for (const QFileInfo& info : root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QDir d(info.filePath());
        QList<RunEntry> children;
        for (const QFileInfo& sub : d.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot))
            if (sub.fileName() != QLatin1String("checkpoints") && isRunDir(QDir(sub.filePath())))
                children << readEntry(sub.filePath());
        if (!children.isEmpty()) {
            // A comparison group: LoRA first, then full.
            std::sort(children.begin(), children.end(),
                      [](const RunEntry& a, const RunEntry& b) { return (a.method == "lora") > (b.method == "lora"); });
            RunEntry group = readEntry(info.filePath());
            group.method = QObject::tr("LoRA vs full");
            group.children = children;
            out << group;
        } else if (isRunDir(d)) {
            out << readEntry(info.filePath());
        }
    }
    return out;
}

void RunsPanel::refresh()
{
    const QString dir = runsDir();
    const quint64 request = ++m_scanRequest;
    m_status->setText(tr("Reading…"));
    m_runner->post<QList<RunEntry>>(
        [dir] { return scan(dir); }, this,
        [this, request](QList<RunEntry> runs) {
            if (request == m_scanRequest) show(runs);
        },
        [this](const QString& message) { m_status->setText(message); });
}

QTreeWidgetItem* RunsPanel::addItem(const RunEntry& r, QTreeWidgetItem* parent)
{
    auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
    item->setText(kName, r.name);
    item->setData(kName, kDirRole, r.dir);
    item->setData(kName, kGroupRole, r.isGroup());
    item->setToolTip(kName, QDir::toNativeSeparators(r.dir));
    item->setText(kMethod, r.method);
    item->setText(kSteps, r.steps > 0 ? QString::number(r.steps) : QString());
    item->setData(kSteps, Qt::TextAlignmentRole, int(Qt::AlignRight | Qt::AlignVCenter));
    item->setText(kBest, r.bestValLoss >= 0 ? QString::number(r.bestValLoss, 'f', 4) : QString());
    item->setText(kStop, r.stopReason.isEmpty() && !r.isGroup() ? tr("not finished") : QString(r.stopReason).replace('_', ' '));
    item->setText(kStarted, r.started.toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")));
    item->setText(kModel, r.model);
    item->setText(kDataset, r.dataset);
    for (const RunEntry& child : r.children) addItem(child, item);
    return item;
}

void RunsPanel::show(const QList<RunEntry>& runs)
{
    const QStringList previouslySelected = selectedDirs();
    m_tree->setSortingEnabled(false);
    m_tree->clear();
    for (const RunEntry& r : runs) addItem(r, nullptr);
    m_tree->setSortingEnabled(true);
    m_tree->expandAll();
    for (const QString& dir : previouslySelected) select(dir);
    m_status->setText(runs.isEmpty() ? tr("No runs in this folder yet.") : countText(runs.size(), tr("run"), tr("runs")));
    emit listed(runs.size());
}

bool RunsPanel::select(const QString& dir)
{
    const QString wanted = QDir::cleanPath(dir);
    for (QTreeWidgetItemIterator it(m_tree); *it; ++it) {
        if (QDir::cleanPath((*it)->data(kName, kDirRole).toString()) == wanted) {
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
    for (QTreeWidgetItem* item : m_tree->selectedItems()) dirs << item->data(kName, kDirRole).toString();
    return dirs;
}

void RunsPanel::showDetails()
{
    const QList<QTreeWidgetItem*> items = m_tree->selectedItems();
    m_open->setEnabled(items.size() == 1);
    m_overlay->setEnabled(items.size() == 2);
    const bool resumable = items.size() == 1 && !items.first()->data(kName, kGroupRole).toBool() &&
                           (items.first()->text(kStop) == tr("not finished") || items.first()->text(kStop) == QLatin1String("cancelled"));
    m_continue->setEnabled(resumable);
    m_export->setEnabled(items.size() == 1 && !items.first()->data(kName, kGroupRole).toBool());
    if (items.size() != 1) {
        m_details->clear();
        return;
    }
    // The tail of events.log: what the run said about itself.
    QFile log(QDir(items.first()->data(kName, kDirRole).toString()).filePath(QStringLiteral("events.log")));
    if (!log.open(QIODevice::ReadOnly | QIODevice::Text)) {
        m_details->setPlainText(tr("(no event log)"));
        return;
    }
    QStringList lines = QString::fromUtf8(log.readAll()).split(QLatin1Char('\n'));
    if (lines.size() > kEventLines) lines = lines.mid(lines.size() - kEventLines);
    m_details->setPlainText(lines.join(QLatin1Char('\n')));
}

void RunsPanel::readTwo(const QString& a, const QString& b,
                        std::function<void(const RunRecords&, const RunRecords&)> done)
{
    m_runner->post<std::pair<RunRecords, RunRecords>>(
        [a, b] { return std::make_pair(readRunDirectory(sstr(a)), readRunDirectory(sstr(b))); }, this,
        [done = std::move(done)](std::pair<RunRecords, RunRecords> r) { done(r.first, r.second); },
        [this](const QString& m) { emit failed(m); });
}

void RunsPanel::openSelected()
{
    const QList<QTreeWidgetItem*> items = m_tree->selectedItems();
    if (items.size() != 1) return;
    QTreeWidgetItem* item = items.first();
    const QString dir = item->data(kName, kDirRole).toString();
    if (item->data(kName, kGroupRole).toBool() && item->childCount() >= 2) {
        readTwo(item->child(0)->data(kName, kDirRole).toString(), item->child(1)->data(kName, kDirRole).toString(),
                [this, dir](const RunRecords& a, const RunRecords& b) {
                    // The tree may list the halves in either order; LoRA goes first.
                    const bool aIsFull = a.summary.method == "full" || (!a.steps.empty() && a.steps.front().run == "full");
                    if (aIsFull)
                        emit groupOpened(b, a, dir);
                    else
                        emit groupOpened(a, b, dir);
                });
        return;
    }
    openDirectory(dir);
}

void RunsPanel::openDirectory(const QString& dir)
{
    m_runner->post<RunRecords>([dir] { return readRunDirectory(sstr(dir)); }, this,
                               [this](RunRecords r) { emit runOpened(r); }, [this](const QString& m) { emit failed(m); });
}

void RunsPanel::overlaySelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 2) return;
    readTwo(dirs[0], dirs[1], [this](const RunRecords& a, const RunRecords& b) { emit overlayOpened(a, b); });
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

void RunsPanel::continueSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 1) return;
    try {
        const RunConfig config = loadRunConfig(sstr(QDir(dirs.first()).filePath(QStringLiteral("config.json"))));
        emit continueRequested(dirs.first(), config);
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
    }
}

} // namespace loralab::ui
