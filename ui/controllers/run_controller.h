// Owns the training thread and the RunControl the engine polls between
// steps. The window talks only to this object: it starts experiments (one
// run or several), pauses, resumes and stops them, and relays the worker's
// progress as signals on the GUI thread, each record with its run's index.
#pragma once

#include "ui/metatypes.h"

#include "engine/run/runner.h"

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
    const Experiment& plan() const { return m_plan; }
    int runCount() const { return static_cast<int>(m_plan.runs.size()); }
    // The run going on (or the last one), its directory and configuration.
    int currentRun() const { return m_current; }
    QString runDir() const { return m_runDir; }
    RunConfig config() const;

    // Returns false (and starts nothing) while an experiment is going on.
    bool start(const Experiment& plan);

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
    void experimentDirCreated(const QString& dir);
    void runStarted(int run);
    void runDirCreated(int run, const QString& dir);
    void stepRecorded(int run, const loralab::StepRecord& record);
    void evalRecorded(int run, const loralab::EvalRecord& record);
    void sampleRecorded(int run, const loralab::SampleRecord& record);
    void eventLogged(const QString& message);
    // The run holds between steps and saved the model as it is in checkpointDir.
    void pauseTookEffect(int run, const QString& checkpointDir);
    void runFinished(int run, const loralab::ExperimentRun& result);
    void finished(const loralab::Experiment& experiment);
    void failed(const QString& message);

    // To the worker (queued).
    void runRequested(const loralab::ui::RunRequest& request);

private:
    void setState(State state);

    RunControl m_control;
    QThread m_thread;
    RunWorker* m_worker = nullptr; // lives in m_thread, deleted when it finishes
    State m_state = State::Idle;
    Experiment m_plan;
    int m_current = 0;
    QString m_runDir;
};

} // namespace loralab::ui
