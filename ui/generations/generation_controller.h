// Owns the generation thread, shaped like RunController: a GenerationWorker
// moved to a QThread and driven by queued signals, the stop counter and
// cancel flag it polls, and the worker's results relayed on the GUI thread.
// The destructor stops generation, then quit() and wait().
#pragma once

#include "ui/generations/generation_worker.h"

#include <QObject>
#include <QThread>

#include <atomic>

namespace loralab::ui {

class GenerationController : public QObject {
    Q_OBJECT
public:
    explicit GenerationController(QObject* parent = nullptr);
    ~GenerationController() override;

    // Loads the base model and `checkpointDir`'s fine-tuned weights (none when empty).
    void open(const RunConfig& config, const QString& checkpointDir, const QString& description);
    // Queues one answer to `prompt` for row `row` by the base or the fine-tuned model.
    void generate(qint64 row, bool tuned, const std::string& prompt, const SamplingOptions& options);
    // Skips queued answers and interrupts the one being generated.
    void stop();

signals:
    void opened(const std::vector<loralab::Example>& examples, bool hasTuned, const QString& description);
    void openFailed(const QString& message);
    void progressed(qint64 row, bool tuned, const QString& textSoFar);
    void generated(qint64 row, bool tuned, const loralab::GenerationOutput& output);
    void jobFailed(qint64 row, bool tuned, const QString& message);
    void skipped(qint64 row, bool tuned);

    // To the worker (queued).
    void openRequested(const loralab::RunConfig& config, const QString& checkpointDir, const QString& description);
    void jobRequested(const loralab::ui::GenerationJob& job);

private:
    QThread m_thread;
    GenerationWorker* m_worker = nullptr; // lives in m_thread, deleted when it finishes
    std::atomic<quint64> m_generation{1};
    std::atomic<bool> m_cancel{false};
};

} // namespace loralab::ui
