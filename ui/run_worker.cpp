#include "ui/run_worker.h"

#include "engine/util/error.h"

#include <new>

namespace loralab::ui {

RunWorker::RunWorker(RunControl& control, QObject* parent) : QObject(parent), m_control(control) {}

void RunWorker::run(const RunRequest& request)
{
    RunCallbacks callbacks;
    callbacks.onStep = [this](const StepRecord& r) { emit stepRecorded(r); };
    callbacks.onEval = [this](const EvalRecord& r) { emit evalRecorded(r); };
    callbacks.onSample = [this](const SampleRecord& r) { emit sampleRecorded(r); };
    callbacks.onEvent = [this](const std::string& m) { emit eventLogged(qstr(m)); };
    callbacks.onRunDir = [this](const std::string& d) { emit runDirCreated(qstr(d)); };
    callbacks.onPaused = [this](const std::string& d) { emit pauseTookEffect(qstr(d)); };

    // Everything the engine throws ends here: the window shows it and stays
    // usable, whatever the run did.
    try {
        RunOutcome outcome;
        if (request.comparison) {
            outcome.comparison = true;
            outcome.compare = runComparison(request.config, m_control, callbacks);
        } else {
            RunResult result = runExperiment(request.config, m_control, callbacks, sstr(request.resumeDir));
            outcome.summary = std::move(result.summary);
            outcome.samples = std::move(result.samples);
            outcome.baseExactMatch = result.baseExactMatch;
            outcome.tunedExactMatch = result.tunedExactMatch;
        }
        emit finished(outcome);
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
