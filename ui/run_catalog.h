// What the Runs tab lists: the run folders and experiment folders under the
// runs directory, read from their config, summary and experiment files (not
// their metrics, which can be long), with the user's title and notes kept in
// notes.json beside them. Reading happens on a worker thread.
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

namespace loralab::ui {

struct RunEntry {
    QString dir;
    QString folder; // the folder's name
    QString title;  // the user's name for it (notes.json), else empty
    QString method;
    QString model;
    QString dataset;
    QString learningRate, rank, alpha, targets, batch, maxLen; // hyperparameters as config.json holds them
    qint64 steps = 0;
    double bestValLoss = -1.0;
    QString outcome;      // "completed", "cancelled", "not finished", "not started", ...
    bool resumable = false; // cancelled or killed with a checkpoint to continue from
    QDateTime started;
    bool experiment = false; // an experiment folder; its runs are the children
    QList<RunEntry> children;

    QString shownName() const { return title.isEmpty() ? folder : title; }
};

struct RunNotes {
    QString title;
    QString notes;
};
RunNotes readNotes(const QString& dir);
// Writes notes.json in `dir` atomically; false when it cannot.
bool writeNotes(const QString& dir, const RunNotes& notes);

// Every run and experiment directly under `runsDir`.
QList<RunEntry> scanRuns(const QString& runsDir);
// One folder (a run, or an experiment with its runs).
RunEntry readEntry(const QString& dir);

} // namespace loralab::ui
