// Owns the training thread and the RunControl the engine polls between
// steps. The window talks only to this object: it starts runs, pauses,
// resumes and stops them, and relays the worker's progress as signals on the
// GUI thread.
#pragma once

#include "ui/metatypes.h"

#include "engine/runner/runner.h"

#include <QObject>
#include <QThread>

namespace loralab::ui {

class RunWorker;

class RunController : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Running, Paused, Stopping };
    Q_ENUM(State)

    explicit RunController(QObject* parent = nullptr);
    // Asks the run to stop, then joins the thread: closing the window mid-run
    // keeps the checkpoints the engine has written.
    ~RunController() override;

    State state() const { return m_state; }
    bool isBusy() const { return m_state != State::Idle; }
    bool isComparison() const { return m_comparison; }
    QString runDir() const { return m_runDir; }
    const RunConfig& config() const { return m_config; }

    // Returns false (and starts nothing) while a run is going on.
    bool start(const RunConfig& config, bool comparison, const QString& resumeDir = {});

public slots:
    void pause();
    void resume();
    void cancel();
    void stopKeepBest();
    void setPatience(qint64 patience);
    void setEvalInterval(qint64 steps);
    void setEarlyStopping(bool enabled);

signals:
    void stateChanged(loralab::ui::RunController::State state);
    void started();
    void stepRecorded(const loralab::StepRecord& record);
    void evalRecorded(const loralab::EvalRecord& record);
    void sampleRecorded(const loralab::SampleRecord& record);
    void eventLogged(const QString& message);
    void runDirCreated(const QString& dir);
    // The run holds between steps and saved the model as it is in checkpointDir.
    void pauseTookEffect(const QString& checkpointDir);
    void finished(const loralab::ui::RunOutcome& outcome);
    void failed(const QString& message);

    // To the worker (queued).
    void runRequested(const loralab::ui::RunRequest& request);

private:
    void setState(State state);
    void onWorkerDone();

    RunControl m_control;
    QThread m_thread;
    RunWorker* m_worker = nullptr; // lives in m_thread, deleted when it finishes
    State m_state = State::Idle;
    bool m_comparison = false;
    QString m_runDir;
    RunConfig m_config;
};

} // namespace loralab::ui
