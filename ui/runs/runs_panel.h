// The Runs tab: the runs and experiments under the runs directory, newest
// first, an experiment's runs under it, with their hyperparameters. Opening a
// run or an experiment shows all of it (charts, summary, generations);
// any number of runs can be overlaid as one experiment; an interrupted run
// or experiment continues where it stopped; a run's configuration starts a
// new run; runs get a title and notes (notes.json), are exported as a model
// transformers loads, or moved to the trash. Folders are read on a worker
// thread.
#pragma once

#include "ui/metatypes.h"

#include "engine/commands/tools.h"

#include <QList>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace loralab::ui {

class TaskRunner;

class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(QWidget* parent = nullptr);

    void setRunsDir(const QString& dir);
    QString runsDir() const;
    // Folders listed beside the runs folder (the user's, kept in the window's
    // settings); where earlier versions kept runs is listed too.
    void setExtraFolders(const QStringList& folders);
    QStringList extraFolders() const { return m_extraFolders; }
    QStringList listedFolders() const;
    void refresh();

    QTreeWidget* tree() const { return m_tree; }
    // The engine's name of the state of the run an item shows ("completed",
    // "interrupted", ...; see RunState), empty for an experiment's own row.
    static QString stateOf(const QTreeWidgetItem* item);
    // The folder an item stands for (empty for a run never begun).
    static QString dirOf(const QTreeWidgetItem* item);
    // Selects the run or experiment in `dir` (after a refresh); false when it is not listed.
    bool select(const QString& dir);
    QStringList selectedDirs() const;
    void openSelected();
    // Reads any run or experiment folder (not only those listed) and reports it as opened.
    void openDirectory(const QString& dir);
    // The selected runs (two or more, from anywhere) as one experiment.
    void overlaySelected();
    void continueSelected();
    void newRunFromSelected();
    // Sets the title the list, charts and summary show for the run in `dir`.
    bool rename(const QString& dir, const QString& title);
    // Moves the folders to the trash (QFile::moveToTrash); false if any stays.
    bool moveToTrash(const QStringList& dirs, QString* error = nullptr);
    // Writes the selected run (its best checkpoint, else its last) as a Hugging
    // Face model folder with the adapter merged in, on the worker thread.
    void exportMerged(const QString& runDir, const QString& outDir);
    // The same, as one GGUF file llama.cpp and Ollama load.
    void exportGguf(const QString& runDir, const QString& outFile, GgufType type);

signals:
    void listed(int entries);
    // An experiment (or a run, or an overlay) read with its metrics.
    void opened(const loralab::Experiment& experiment);
    // Continue: the experiment as it is on disk; each run's `next` says what
    // continuing does with it.
    void continueRequested(const loralab::Experiment& experiment);
    void newRunRequested(const loralab::RunConfig& config, const std::vector<loralab::SweepAxis>& axes);
    void renamed(const QString& dir, const QString& title);
    void exported(const QString& outDir, const QString& summary);
    void failed(const QString& message);

private:
    void show(const std::vector<CatalogEntry>& entries);
    void addItem(const CatalogEntry& entry);
    void showDetails();
    void saveNotes();
    void renameSelected();
    void deleteSelected();
    // Reads experiments on the worker thread, with the titles of their runs applied.
    void readExperiments(const QStringList& dirs, std::function<void(std::vector<Experiment>)> done);
    // Runs an export on the worker thread and reports it (exported / failed).
    void startExport(const QString& out, std::function<MergedExport()> work);

    TaskRunner* m_runner;
    QLineEdit* m_dir;
    QTreeWidget* m_tree;
    QTabWidget* m_detailTabs;
    QPlainTextEdit* m_events;
    QPlainTextEdit* m_notes;
    QString m_notesDir; // whose notes the editor holds
    QPushButton* m_open;
    QPushButton* m_overlay;
    QPushButton* m_continue;
    QPushButton* m_newRun;
    QPushButton* m_rename;
    QPushButton* m_delete;
    QPushButton* m_export;
    QPushButton* m_exportGguf;
    QLabel* m_status;
    QLabel* m_also; // the other folders listed
    QStringList m_extraFolders;
    quint64 m_scanRequest = 0;
};

} // namespace loralab::ui
