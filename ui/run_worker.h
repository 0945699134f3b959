// Runs one experiment at a time on the training thread. It lives in the
// thread RunController starts, is driven by a queued signal, and reports
// through signals; the engine's callbacks are called on this thread, so they
// only emit.
#pragma once

#include "ui/metatypes.h"

#include "engine/runner/runner.h"

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
    void stepRecorded(const loralab::StepRecord& record);
    void evalRecorded(const loralab::EvalRecord& record);
    void sampleRecorded(const loralab::SampleRecord& record);
    void eventLogged(const QString& message);
    void runDirCreated(const QString& dir);
    void pauseTookEffect(const QString& checkpointDir);
    void finished(const loralab::ui::RunOutcome& outcome);
    void failed(const QString& message);

private:
    RunControl& m_control;
};

} // namespace loralab::ui
