// What the window shows: an experiment of N runs, whatever it came from (a
// run going on, a finished sweep, a comparison, runs reopened or overlaid
// from the Runs tab). The charts, the summary and the generations all take
// this one shape; a comparison is an experiment of two runs.
#pragma once

#include "ui/metatypes.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace loralab::ui {

struct ShownRun {
    QString label;
    QString dir;
    RunConfig config;
    bool hasConfig = false;
    bool finished = false; // it has a summary; otherwise it is going on, was killed, or never began
    RunSummary summary;    // summary.stopReason is NotStarted for a run never begun
    std::vector<SampleRecord> samples;
};

struct ShownExperiment {
    QString dir;  // the experiment folder, or the run's for a lone run
    QString name;
    std::vector<ShownRun> runs;

    QStringList labels() const;
    // Run options whose values differ between the runs (the sweep's axes),
    // in the order of the options table; name and runs_dir never count.
    QStringList varyingKeys() const;
};

ShownExperiment shownFrom(const ExperimentRecords& records);
// The runs a plan will make, before any has started.
ShownExperiment shownFrom(const ExperimentPlan& plan);
// One run from its records, labelled with its config's name (else its folder).
ShownRun shownRun(const RunRecords& records, const QString& label = {});

// "completed", "cancelled after 12 steps", "not started", "failed: …".
QString outcomeText(const ShownRun& run);

} // namespace loralab::ui
