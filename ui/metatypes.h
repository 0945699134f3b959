// The engine's plain structs as Qt meta-types, so that they can travel in
// queued signals from the worker threads to the window.
#pragma once

#include "engine/experiment/experiment.h"
#include "engine/experiment/run_catalog.h"
#include "engine/run/runner.h"
#include "engine/records/metrics.h"
#include "engine/config/run_config.h"
#include "engine/commands/workbench.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace loralab::ui {

// What the worker is asked to run: an experiment of one run or more (a
// single run, LoRA against full, a sweep, or the continuation of one).
struct RunRequest {
    Experiment experiment;
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
Q_DECLARE_METATYPE(loralab::ExperimentRun)
Q_DECLARE_METATYPE(loralab::Experiment)
Q_DECLARE_METATYPE(std::vector<loralab::CatalogEntry>)
Q_DECLARE_METATYPE(std::vector<loralab::SweepAxis>)
Q_DECLARE_METATYPE(loralab::ui::RunRequest)
