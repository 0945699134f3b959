// Run sinks; see run_sink.h.
#include "engine/run/run_sink.h"

#include "engine/export/run_events.h"

namespace loralab {
namespace {

class FileSink final : public RunSink {
public:
    FileSink(RunDirectory dir, const RunCallbacks& callbacks, std::optional<FolderLock> lock)
        : m_lock(lock ? std::move(*lock) : FolderLock::acquire(dir.path())), m_dir(std::move(dir)),
          m_store(m_dir.checkpoints()), m_callbacks(callbacks)
    {
    }

    const RunDirectory* directory() const override { return &m_dir; }
    CheckpointStore* checkpoints() override { return &m_store; }

    void opened(const RunConfig& config, bool resumed) override
    {
        if (m_callbacks.onRunDir) m_callbacks.onRunDir(m_dir.path().string());
        if (!resumed) m_dir.writeConfig(runConfigToJson(config));
        // A continued run adds a file of its own; TensorBoard reads them as
        // one run, later steps replacing the ones a resume repeats.
        if (config.tensorboard) {
            m_events.emplace(m_dir.path() / "tensorboard");
            writeConfigEvent(*m_events, config);
        }
    }
    void event(const std::string& message) override
    {
        m_dir.logEvent(message);
        if (m_callbacks.onEvent) m_callbacks.onEvent(message);
    }
    void step(const StepRecord& record) override
    {
        m_dir.appendMetric(toJson(record));
        if (m_events) writeStepEvents(*m_events, record);
        m_lastStep = record.step;
        if (m_callbacks.onStep) m_callbacks.onStep(record);
    }
    void eval(const EvalRecord& record) override
    {
        m_dir.appendMetric(toJson(record));
        if (m_events) {
            writeEvalEvents(*m_events, record);
            m_events->flush();
        }
        if (m_callbacks.onEval) m_callbacks.onEval(record);
    }
    void samples(const std::vector<SampleRecord>& samples, bool answered) override
    {
        std::vector<std::string> lines;
        for (const auto& s : samples) lines.push_back(toJson(s));
        m_dir.writeSamples(lines);
        if (answered && m_events) writeSampleEvents(*m_events, samples, m_lastStep);
        if (answered && m_callbacks.onSample)
            for (const auto& s : samples) m_callbacks.onSample(s);
    }
    void paused(const std::string& checkpointDir) override
    {
        if (m_callbacks.onPaused) m_callbacks.onPaused(checkpointDir);
    }
    void summary(const RunSummary& summary) override
    {
        m_dir.writeSummary(toJson(summary));
        if (m_events) m_events->flush();
        m_store.prune();
    }

private:
    FolderLock m_lock; // first: taken before anything in the folder changes
    RunDirectory m_dir;
    CheckpointStore m_store;
    const RunCallbacks& m_callbacks;
    std::optional<TensorBoardWriter> m_events; // unless the run turns them off
    std::int64_t m_lastStep = 0;
};

class NullSink final : public RunSink {
public:
    const RunDirectory* directory() const override { return nullptr; }
    CheckpointStore* checkpoints() override { return nullptr; }
    void opened(const RunConfig&, bool) override {}
    void event(const std::string&) override {}
    void step(const StepRecord&) override {}
    void eval(const EvalRecord&) override {}
    void samples(const std::vector<SampleRecord>&, bool) override {}
    void paused(const std::string&) override {}
    void summary(const RunSummary&) override {}
};

} // namespace

std::unique_ptr<RunSink> fileSink(RunDirectory dir, const RunCallbacks& callbacks, std::optional<FolderLock> lock)
{
    return std::make_unique<FileSink>(std::move(dir), callbacks, std::move(lock));
}

std::unique_ptr<RunSink> nullSink() { return std::make_unique<NullSink>(); }

} // namespace loralab
