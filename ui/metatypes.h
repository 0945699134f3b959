// The engine's plain structs as Qt meta-types, so that they can travel in
// queued signals from the worker threads to the window.
#pragma once

#include "engine/runner/metrics.h"
#include "engine/runner/run_config.h"
#include "engine/runner/workbench.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace loralab::ui {

// What a finished run hands back: one summary, or two for a comparison.
struct RunOutcome {
    bool comparison = false;
    RunSummary summary;        // single runs
    CompareSummary compare;    // comparisons
    std::vector<SampleRecord> samples;
    double baseExactMatch = -1.0;
    double tunedExactMatch = -1.0;
};

struct RunRequest {
    RunConfig config;
    bool comparison = false;
    QString resumeDir; // empty: a new run
};

void registerMetaTypes();

inline QString qstr(const std::string& s) { return QString::fromStdString(s); }
inline std::string sstr(const QString& s) { return s.toStdString(); }

} // namespace loralab::ui

Q_DECLARE_METATYPE(loralab::RunConfig)
Q_DECLARE_METATYPE(loralab::StepRecord)
Q_DECLARE_METATYPE(loralab::EvalRecord)
Q_DECLARE_METATYPE(loralab::SampleRecord)
Q_DECLARE_METATYPE(loralab::RunRecords)
Q_DECLARE_METATYPE(loralab::GenerationOutput)
Q_DECLARE_METATYPE(loralab::ui::RunOutcome)
Q_DECLARE_METATYPE(loralab::ui::RunRequest)
