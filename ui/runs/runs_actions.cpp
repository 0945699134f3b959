// The Runs tab's actions on the selected runs: rename, trash, open, overlay,
// continue, new run from a configuration, export; see runs_panel.h.
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

bool RunsPanel::rename(const QString& dir, const QString& title)
{
    RunNotes notes = readNotes(sstr(dir));
    notes.title = sstr(title.trimmed());
    try {
        writeNotes(sstr(dir), notes);
    } catch (const Error& e) {
        emit failed(QString::fromUtf8(e.what()));
        return false;
    }
    emit renamed(dir, qstr(notes.title));
    refresh();
    return true;
}

void RunsPanel::renameSelected()
{
    const QList<QTreeWidgetItem*> items = m_tree->selectedItems();
    if (items.size() != 1) return;
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename"), tr("Title (empty: the folder's name)"), QLineEdit::Normal,
                                                qstr(readNotes(sstr(dirOf(items.first()))).title), &ok);
    if (ok) rename(dirOf(items.first()), title);
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

void RunsPanel::readExperiments(const QStringList& dirs, std::function<void(std::vector<Experiment>)> done)
{
    m_runner->post<std::vector<Experiment>>(
        [dirs] {
            std::vector<Experiment> out;
            for (const QString& d : dirs) {
                out.push_back(readExperiment(sstr(d), /*withMetrics=*/true));
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
    readExperiments({dir}, [this](std::vector<Experiment> e) { emit opened(e.front()); });
}

void RunsPanel::overlaySelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() < 2) return;
    readExperiments(dirs, [this](std::vector<Experiment> all) {
        // Every run of every selection, as one experiment.
        Experiment overlay = overlayExperiments(all);
        overlay.name = sstr(tr("overlay"));
        emit opened(overlay);
    });
}

void RunsPanel::continueSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 1) return;
    const QString dir = dirs.first();
    readExperiments({dir}, [this](std::vector<Experiment> e) {
        // Each run does what continuing does with it (continuationOf): the
        // same rule as `loralab-cli sweep --resume` and the list's state.
        if (!canContinue(e.front())) {
            emit failed(tr("%1 has nothing to continue: every run finished.").arg(QDir::toNativeSeparators(qstr(e.front().dir))));
            return;
        }
        emit continueRequested(e.front());
    });
}

void RunsPanel::newRunFromSelected()
{
    const QStringList dirs = selectedDirs();
    if (dirs.size() != 1) return;
    try {
        const Experiment e = readExperiment(sstr(dirs.first()));
        emit newRunRequested(e.base, e.axes);
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
    }
}

void RunsPanel::exportMerged(const QString& runDir, const QString& outDir)
{
    startExport(outDir, [runDir, outDir] { return loralab::exportMerged(sstr(runDir), sstr(outDir), {}, {}); });
}

void RunsPanel::exportGguf(const QString& runDir, const QString& outFile, GgufType type)
{
    startExport(outFile, [runDir, outFile, type] { return loralab::exportGgufModel(sstr(runDir), sstr(outFile), {}, type); });
}

void RunsPanel::startExport(const QString& out, std::function<MergedExport()> work)
{
    m_status->setText(tr("Exporting %1…").arg(QFileInfo(out).fileName()));
    m_export->setEnabled(false);
    m_exportGguf->setEnabled(false);
    m_runner->post<MergedExport>(
        std::move(work), this,
        [this](MergedExport e) {
            const QString out = QString::fromStdString(e.outDir);
            const QString summary =
                e.method == Method::Lora
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
