// Generation on its own thread: loads a GenerationSession (base model plus
// the fine-tuned checkpoint) and answers prompts one job at a time, emitting
// text as it is produced. Jobs carry the controller's generation number; a
// stop bumps it, so queued jobs from before the stop are skipped.
#pragma once

#include "ui/metatypes.h"

#include "engine/model/sampling.h"
#include "engine/commands/workbench.h"

#include <QObject>

#include <atomic>
#include <memory>

namespace loralab::ui {

struct GenerationJob {
    qint64 row = 0;
    bool tuned = false;
    std::string prompt;
    SamplingOptions options;
    quint64 generation = 0;
};

class GenerationWorker : public QObject {
    Q_OBJECT
public:
    GenerationWorker(std::atomic<quint64>& generation, std::atomic<bool>& cancel, QObject* parent = nullptr);
    ~GenerationWorker() override;

public slots:
    void open(const loralab::RunConfig& config, const QString& checkpointDir, const QString& description);
    void run(const loralab::ui::GenerationJob& job);

signals:
    void opened(const std::vector<loralab::Example>& examples, bool hasTuned, const QString& description);
    void openFailed(const QString& message);
    void progressed(qint64 row, bool tuned, const QString& textSoFar);
    void generated(qint64 row, bool tuned, const loralab::GenerationOutput& output);
    void jobFailed(qint64 row, bool tuned, const QString& message);
    void skipped(qint64 row, bool tuned);

private:
    std::unique_ptr<GenerationSession> m_session;
    std::atomic<quint64>& m_generation;
    std::atomic<bool>& m_cancel;
};

} // namespace loralab::ui

Q_DECLARE_METATYPE(loralab::ui::GenerationJob)
Q_DECLARE_METATYPE(std::vector<loralab::Example>)
