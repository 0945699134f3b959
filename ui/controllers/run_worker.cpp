#include "ui/controllers/run_worker.h"

#include "engine/util/error.h"

#include <new>

namespace loralab::ui {

RunWorker::RunWorker(RunControl& control, QObject* parent) : QObject(parent), m_control(control) {}

void RunWorker::run(const RunRequest& request)
{
    Experiment plan = request.experiment;
    ExperimentCallbacks callbacks;
    callbacks.forRun = [this, &plan](std::size_t index) {
        const int i = static_cast<int>(index);
        // A run's events are prefixed with its label when the experiment has several.
        const QString prefix = plan.runs.size() > 1 ? QStringLiteral("[%1] ").arg(qstr(plan.runs[index].label)) : QString();
        emit runStarted(i);
        RunCallbacks c;
        c.onStep = [this, i](const StepRecord& r) { emit stepRecorded(i, r); };
        c.onEval = [this, i](const EvalRecord& r) { emit evalRecorded(i, r); };
        c.onSample = [this, i](const SampleRecord& r) { emit sampleRecorded(i, r); };
        c.onEvent = [this, prefix](const std::string& m) { emit eventLogged(prefix + qstr(m)); };
        c.onRunDir = [this, i](const std::string& d) { emit runDirCreated(i, qstr(d)); };
        c.onPaused = [this, i](const std::string& d) { emit pauseTookEffect(i, qstr(d)); };
        return c;
    };
    callbacks.onExperimentDir = [this](const std::string& d) { emit experimentDirCreated(qstr(d)); };
    callbacks.onRunFinished = [this](std::size_t i, const ExperimentRun& r) { emit runFinished(static_cast<int>(i), r); };

    // Everything the engine throws ends here: the window shows it and stays
    // usable, whatever the run did.
    try {
        runExperiment(plan, m_control, callbacks);
        emit finished(plan);
    } catch (const std::bad_alloc&) {
        emit failed(tr("The run ran out of memory. Try a smaller batch size, a shorter max length, "
                       "or LoRA instead of full fine-tuning."));
    } catch (const Error& e) {
        emit failed(QString::fromUtf8(e.what()));
    } catch (const std::exception& e) {
        emit failed(tr("The run failed: %1").arg(QString::fromUtf8(e.what())));
    }
}

} // namespace loralab::ui
