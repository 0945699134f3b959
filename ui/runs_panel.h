// The Runs tab: the run folders under the runs directory, newest first,
// with a comparison's two halves grouped under it. A run is reopened with
// its charts, summary and samples; two runs can be overlaid; an interrupted
// run can be continued from its last checkpoint, and a run exported as a model
// transformers loads. Folders are scanned and read on a worker thread.
#pragma once

#include "ui/metatypes.h"

#include <QDateTime>
#include <QList>
#include <QWidget>

#include <functional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace loralab::ui {

class TaskRunner;

struct RunEntry {
    QString dir;
    QString name;
    QString method;
    QString model;
    QString dataset;
    qint64 steps = 0;
    double bestValLoss = -1.0;
    QString stopReason; // empty: no summary (running, or killed)
    QDateTime started;
    QList<RunEntry> children; // the LoRA and full halves of a comparison
    bool isGroup() const { return !children.isEmpty(); }
};

class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(QWidget* parent = nullptr);

    void setRunsDir(const QString& dir);
    QString runsDir() const;
    void refresh();

    QTreeWidget* tree() const { return m_tree; }
    // Selects the run in `dir` (after a refresh); false when it is not listed.
    bool select(const QString& dir);
    void openSelected();
    // Reads any run folder (not only those listed) and reports it as runOpened.
    void openDirectory(const QString& dir);
    void overlaySelected();
    // Writes the selected run (its best checkpoint, else its last) as a Hugging
    // Face model folder with the adapter merged in, on the worker thread.
    void exportMerged(const QString& runDir, const QString& outDir);

    static QList<RunEntry> scan(const QString& runsDir);

signals:
    void listed(int runs);
    // A single run, or a comparison group with both halves.
    void runOpened(const loralab::RunRecords& records);
    void groupOpened(const loralab::RunRecords& lora, const loralab::RunRecords& full, const QString& groupDir);
    void overlayOpened(const loralab::RunRecords& a, const loralab::RunRecords& b);
    void continueRequested(const QString& dir, const loralab::RunConfig& config);
    void exported(const QString& outDir, const QString& summary);
    void failed(const QString& message);

private:
    void show(const QList<RunEntry>& runs);
    QTreeWidgetItem* addItem(const RunEntry& run, QTreeWidgetItem* parent);
    QStringList selectedDirs() const;
    void showDetails();
    void continueSelected();
    // Reads two run folders on the worker thread; `done` gets them in that order.
    void readTwo(const QString& a, const QString& b, std::function<void(const RunRecords&, const RunRecords&)> done);

    TaskRunner* m_runner;
    QLineEdit* m_dir;
    QTreeWidget* m_tree;
    QPlainTextEdit* m_details;
    QPushButton* m_open;
    QPushButton* m_overlay;
    QPushButton* m_continue;
    QPushButton* m_export;
    QLabel* m_status;
    quint64 m_scanRequest = 0;
};

} // namespace loralab::ui
