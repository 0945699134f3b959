// One training run while it goes: everything it holds (model, data,
// objective, trainer, progress) and its loop, which reads as a recipe:
// prepare, answer the sample prompts with the base model, then step,
// evaluate and checkpoint until done or stopped, restore the best weights,
// answer again, summarise. Steering and reporting go through one interface
// each (steering.h, run_sink.h), the same for a single process and every
// rank of a group. Internal to the engine: callers use trainRun (runner.h).
#pragma once

#include "engine/run/objective.h"
#include "engine/run/run_progress.h"
#include "engine/run/run_sink.h"
#include "engine/run/steering.h"
#include "engine/train/memory.h"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace loralab {

class Collective;

class Run {
public:
    // Prepares everything and checks that a step fits in memory; only then is
    // the run directory made (or opened, for `resumeDir`). `lock` is the run
    // folder's lock when the caller took it already. In a group, rank 0
    // alone writes.
    Run(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir,
        torch::Device device, Collective* group, std::optional<FolderLock> lock);

    RunResult execute();

private:
    using Clock = std::chrono::steady_clock;

    // Takes the run up from its folder; false when it had no checkpoint and begins again.
    bool resume();
    // Between steps: the window's changes and the requests in force (in a
    // group, the group's).
    SteeringRequests betweenSteps();
    bool waitWhilePaused(SteeringRequests& requests);
    void saveCheckpoint(const std::string& label);
    StepRecord recordStep(const ObjectiveStep& s, const MemoryReading& memory);
    EvalRecord evaluate();
    void sampleBase();
    void finishSamples();
    RunSummary summarise() const;
    // Wall time of the run so far: earlier sessions, and this one without its pauses.
    double elapsedSeconds() const;

    RunConfig m_config;
    RunControl& m_control;
    const bool m_resume;
    Collective* m_group; // null in a single process
    torch::Device m_device;
    std::unique_ptr<RunSteering> m_steering;
    PreparedModel m_model;
    PreparedData m_data;
    std::unique_ptr<TrainingObjective> m_objective;
    std::unique_ptr<Trainer> m_trainer;
    std::int64_t m_totalSteps = 0;
    std::unique_ptr<RunProgress> m_progress;
    std::unique_ptr<RunSink> m_sink; // made once the configuration is accepted
    MemoryBreakdown m_estimate;
    MemoryBreakdown m_held; // weights, and the gradients of what trains (the optimizer's state grows at its first step)
    RunState m_state = RunState::Completed;
    std::vector<SampleRecord> m_samples;
    std::deque<double> m_recentStepMs;
    Clock::time_point m_start = Clock::now();
};

} // namespace loralab
