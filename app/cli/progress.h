// Printing run progress on stderr: one line per step (or a line redrawn in
// place on a terminal), evaluations and events as lines of their own. Ctrl-C
// asks the run to stop after the current step, keeping its checkpoints.
#pragma once

#include "engine/run/memory_fit.h"
#include "engine/run/runner.h"

#include <string>
#include <nlohmann/json.hpp>

namespace loralab::cli {

// Callbacks that print to stderr; every `stepEvery`-th step is printed. Lines
// start with [label], by default the run's method.
RunCallbacks printingCallbacks(int stepEvery = 1, const std::string& label = "");

// Routes SIGINT/SIGTERM to control.cancel while it lives. The first signal
// asks the run to stop after the current step (it saves its checkpoint and
// summary); a second one ends the process at once, as the signal would.
class InterruptGuard {
public:
    explicit InterruptGuard(RunControl& control);
    ~InterruptGuard();

    // The signal that stopped the run, 0 when none came.
    int signal() const;
    // 0 when no signal came; otherwise says on stderr that the run stopped
    // early and is saved in `runDir` (and, when `resumable`, how to continue
    // it), and returns 128 + the signal (130 for Ctrl-C): the status a shell
    // gives a command a signal ended, so scripts see the run did not finish.
    int interruptedStatus(const std::string& runDir, bool resumable) const;
};

std::string formatBytes(std::int64_t bytes);
std::string formatDuration(double seconds);
void printSummary(const RunSummary& summary);
void printSamples(const std::vector<SampleRecord>& samples);
// Whether a run fits and what each lever would need, on stdout.
void printMemoryFit(const MemoryFit& fit, const RunConfig& config);
nlohmann::json memoryFitJson(const MemoryFit& fit);

} // namespace loralab::cli
