// Where a run's records go. The process that writes the run (a single
// process, or rank 0 of a group) has a file sink: the run directory
// (config.json, metrics.jsonl, samples.jsonl, events.log, summary.json), its
// checkpoints, the folder's lock, and the caller's callbacks. The other ranks
// of a group have the null sink, which records nothing. The run loop reports
// the same way in both. No LibTorch here.
#pragma once

#include "engine/checkpoint/checkpoint_store.h"
#include "engine/records/run_directory.h"
#include "engine/records/run_lock.h"
#include "engine/run/runner.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loralab {

class RunSink {
public:
    virtual ~RunSink() = default;
    // The run directory and its checkpoints; null where nothing is written.
    virtual const RunDirectory* directory() const = 0;
    virtual CheckpointStore* checkpoints() = 0;

    // The directory exists and training is about to begin.
    virtual void opened(const RunConfig& config, bool resumed) = 0;
    virtual void event(const std::string& message) = 0;
    virtual void step(const StepRecord& record) = 0;
    virtual void eval(const EvalRecord& record) = 0;
    // samples.jsonl as it now stands; `answered` also reports each sample to
    // the caller (the fine-tuned answers are in).
    virtual void samples(const std::vector<SampleRecord>& samples, bool answered) = 0;
    virtual void paused(const std::string& checkpointDir) = 0;
    virtual void summary(const RunSummary& summary) = 0;
};

// `lock` is the folder's lock when the caller took it already (a resume);
// otherwise the sink takes it.
std::unique_ptr<RunSink> fileSink(RunDirectory dir, const RunCallbacks& callbacks, std::optional<FolderLock> lock = std::nullopt);
std::unique_ptr<RunSink> nullSink();

} // namespace loralab
