#include "ui/controllers/run_controller.h"

#include "ui/controllers/run_worker.h"

namespace loralab::ui {

RunController::RunController(QObject* parent) : QObject(parent)
{
    registerMetaTypes();
    m_thread.setObjectName(QStringLiteral("loralab-training"));
    m_worker = new RunWorker(m_control);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &RunController::runRequested, m_worker, &RunWorker::run);

    connect(m_worker, &RunWorker::experimentDirCreated, this, &RunController::experimentDirCreated);
    connect(m_worker, &RunWorker::runStarted, this, [this](int run) {
        m_current = run;
        m_runDir.clear();
        // A pause asked for between two runs applies to the next one.
        if (m_state == State::Stopping && !m_control.cancel.load()) setState(State::Running);
        emit runStarted(run);
    });
    connect(m_worker, &RunWorker::stepRecorded, this, &RunController::stepRecorded);
    connect(m_worker, &RunWorker::evalRecorded, this, &RunController::evalRecorded);
    connect(m_worker, &RunWorker::sampleRecorded, this, &RunController::sampleRecorded);
    connect(m_worker, &RunWorker::eventLogged, this, &RunController::eventLogged);
    connect(m_worker, &RunWorker::pauseTookEffect, this, &RunController::pauseTookEffect);
    connect(m_worker, &RunWorker::runDirCreated, this, [this](int run, const QString& dir) {
        m_runDir = dir;
        emit runDirCreated(run, dir);
    });
    connect(m_worker, &RunWorker::runFinished, this, &RunController::runFinished);
    // State goes back to Idle before the outcome is announced, so that a
    // handler may start the next experiment at once.
    connect(m_worker, &RunWorker::finished, this, [this](const Experiment& experiment) {
        setState(State::Idle);
        emit finished(experiment);
    });
    connect(m_worker, &RunWorker::failed, this, [this](const QString& message) {
        setState(State::Idle);
        emit failed(message);
    });
    m_thread.start();
}

RunController::~RunController()
{
    m_control.cancel = true;
    m_control.paused = false; // a paused run would otherwise hold forever
    m_thread.quit();
    m_thread.wait();
}

RunConfig RunController::config() const
{
    if (m_plan.runs.empty()) return RunConfig{};
    return m_plan.runs[static_cast<std::size_t>(std::clamp(m_current, 0, runCount() - 1))].config;
}

bool RunController::start(const Experiment& plan)
{
    if (isBusy() || plan.runs.empty()) return false;
    m_control.cancel = false;
    m_control.paused = false;
    m_control.stopKeepBest = false;
    m_control.patience = -1;
    m_control.evalInterval = -1;
    m_control.earlyStopping = plan.runs.front().config.earlyStopping;
    m_plan = plan;
    m_current = 0;
    m_runDir = QString::fromStdString(plan.runs.front().next == RunAction::Resume ? plan.runs.front().dir : std::string());
    setState(State::Running);
    emit started();
    emit runRequested(RunRequest{plan});
    return true;
}

void RunController::pause()
{
    if (m_state != State::Running) return;
    m_control.paused = true;
    setState(State::Paused);
}

void RunController::resume()
{
    if (m_state != State::Paused) return;
    m_control.paused = false;
    setState(State::Running);
}

void RunController::cancel()
{
    if (!isBusy()) return;
    m_control.cancel = true;
    m_control.paused = false;
    setState(State::Stopping);
}

void RunController::stopKeepBest()
{
    if (!isBusy()) return;
    m_control.stopKeepBest = true;
    m_control.paused = false;
    setState(State::Stopping);
}

void RunController::setPatience(qint64 patience) { m_control.patience = patience; }

void RunController::setEvalInterval(qint64 steps)
{
    if (steps > 0) m_control.evalInterval = steps;
}

void RunController::setEarlyStopping(bool enabled) { m_control.earlyStopping = enabled; }

void RunController::setState(State state)
{
    if (m_state == state) return;
    m_state = state;
    emit stateChanged(state);
}

} // namespace loralab::ui
