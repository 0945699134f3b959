// Runs one experiment at a time on the training thread. It lives in the
// thread RunController starts, is driven by a queued signal, and reports
// through signals; the engine's callbacks are called on this thread, so they
// only emit. Every record carries the index of its run in the experiment.
#pragma once

#include "ui/metatypes.h"

#include "engine/run/runner.h"

#include <QObject>

namespace loralab::ui {

class RunWorker : public QObject {
    Q_OBJECT
public:
    // `control` belongs to the controller, which outlives this worker's thread.
    explicit RunWorker(RunControl& control, QObject* parent = nullptr);

public slots:
    void run(const loralab::ui::RunRequest& request);

signals:
    void experimentDirCreated(const QString& dir);
    void runStarted(int run);
    void runDirCreated(int run, const QString& dir);
    void stepRecorded(int run, const loralab::StepRecord& record);
    void evalRecorded(int run, const loralab::EvalRecord& record);
    void sampleRecorded(int run, const loralab::SampleRecord& record);
    void eventLogged(const QString& message);
    void pauseTookEffect(int run, const QString& checkpointDir);
    void runFinished(int run, const loralab::ExperimentRun& result);
    void finished(const loralab::Experiment& experiment);
    void failed(const QString& message);

private:
    RunControl& m_control;
};

} // namespace loralab::ui
