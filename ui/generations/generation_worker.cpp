#include "ui/generations/generation_worker.h"

#include <QElapsedTimer>

#include <new>

namespace loralab::ui {

namespace {
constexpr qint64 kProgressIntervalMs = 60; // streamed text is batched to this pace
}

GenerationWorker::GenerationWorker(std::atomic<quint64>& generation, std::atomic<bool>& cancel, QObject* parent)
    : QObject(parent), m_generation(generation), m_cancel(cancel)
{
}

GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::open(const RunConfig& config, const QString& checkpointDir, const QString& description)
{
    try {
        m_session.reset(); // free the old models before loading new ones
        m_session = std::make_unique<GenerationSession>(config, sstr(checkpointDir));
        emit opened(m_session->examples(), m_session->hasTuned(), description);
    } catch (const std::bad_alloc&) {
        emit openFailed(tr("Out of memory while loading the models for generation."));
    } catch (const std::exception& e) {
        emit openFailed(QString::fromUtf8(e.what()));
    }
}

void GenerationWorker::run(const GenerationJob& job)
{
    // Cleared before the generation number is checked: a stop that lands
    // between the two is then seen either here or by generate().
    m_cancel = false;
    if (job.generation != m_generation.load() || !m_session) {
        emit skipped(job.row, job.tuned);
        return;
    }
    if (job.tuned && !m_session->hasTuned()) {
        emit jobFailed(job.row, job.tuned, tr("no fine-tuned checkpoint is loaded"));
        return;
    }
    QString text;
    QElapsedTimer sinceEmit;
    sinceEmit.start();
    try {
        const GenerationOutput out = m_session->generate(
            job.prompt, job.options, job.tuned, &m_cancel, [&](const std::string& piece) {
                text += QString::fromStdString(piece);
                if (sinceEmit.elapsed() >= kProgressIntervalMs) {
                    emit progressed(job.row, job.tuned, text);
                    sinceEmit.restart();
                }
            });
        emit generated(job.row, job.tuned, out);
    } catch (const std::bad_alloc&) {
        emit jobFailed(job.row, job.tuned, tr("out of memory"));
    } catch (const std::exception& e) {
        emit jobFailed(job.row, job.tuned, QString::fromUtf8(e.what()));
    }
}

} // namespace loralab::ui
