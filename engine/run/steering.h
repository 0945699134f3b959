// Steering a run between steps: what the user asked for (cancel, stop and
// keep the best, pause) and the settings changed mid-run (patience,
// evaluation interval, early stopping on or off). A single process follows
// its own RunControl; the processes of a data-parallel group agree, so that
// every rank stops, pauses and resumes at the same step with rank 0's
// settings. The run loop asks once per step, the same way for both.
#pragma once

#include "engine/run/runner.h"

#include <chrono>
#include <cstdint>
#include <memory>

namespace loralab {

class Collective;

// The settings a run may change while it goes.
struct RunSettings {
    std::int64_t patience = 0;
    std::int64_t evalInterval = 0;
    bool earlyStopping = true;
};

// What holds between two steps.
struct SteeringRequests {
    bool cancel = false; // stop now as cancelled; checkpoints are kept
    bool stop = false;   // stop now and finish with the best checkpoint
    bool pause = false;  // hold until the request is withdrawn
};

class RunSteering {
public:
    virtual ~RunSteering() = default;
    // Takes the changes made to the settings since the last call into
    // `settings` and returns the requests in force. Called between steps and,
    // while paused, every pollInterval().
    virtual SteeringRequests poll(RunSettings& settings) = 0;
    virtual std::chrono::milliseconds pollInterval() const = 0;
};

std::unique_ptr<RunSteering> localSteering(RunControl& control);
// A group keeps agreeing while it is paused, well within its timeout.
std::unique_ptr<RunSteering> groupSteering(RunControl& control, Collective& group);

} // namespace loralab
