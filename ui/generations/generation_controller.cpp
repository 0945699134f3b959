#include "ui/generations/generation_controller.h"

namespace loralab::ui {

GenerationController::GenerationController(QObject* parent) : QObject(parent)
{
    registerMetaTypes();
    m_thread.setObjectName(QStringLiteral("loralab-generation"));
    m_worker = new GenerationWorker(m_generation, m_cancel);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &GenerationController::openRequested, m_worker, &GenerationWorker::open);
    connect(this, &GenerationController::jobRequested, m_worker, &GenerationWorker::run);
    connect(m_worker, &GenerationWorker::opened, this, &GenerationController::opened);
    connect(m_worker, &GenerationWorker::openFailed, this, &GenerationController::openFailed);
    connect(m_worker, &GenerationWorker::progressed, this, &GenerationController::progressed);
    connect(m_worker, &GenerationWorker::generated, this, &GenerationController::generated);
    connect(m_worker, &GenerationWorker::jobFailed, this, &GenerationController::jobFailed);
    connect(m_worker, &GenerationWorker::skipped, this, &GenerationController::skipped);
    m_thread.start();
}

GenerationController::~GenerationController()
{
    stop();
    m_thread.quit();
    m_thread.wait();
}

void GenerationController::open(const RunConfig& config, const QString& checkpointDir, const QString& description)
{
    emit openRequested(config, checkpointDir, description);
}

void GenerationController::generate(qint64 row, bool tuned, const std::string& prompt, const SamplingOptions& options)
{
    GenerationJob job;
    job.row = row;
    job.tuned = tuned;
    job.prompt = prompt;
    job.options = options;
    job.generation = m_generation.load();
    emit jobRequested(job);
}

void GenerationController::stop()
{
    // Jobs queued before now carry an older number and are skipped; the one
    // running sees the cancel flag between tokens.
    ++m_generation;
    m_cancel = true;
}

} // namespace loralab::ui
