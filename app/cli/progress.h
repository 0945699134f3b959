// Printing run progress on stderr: one line per step (or a line redrawn in
// place on a terminal), evaluations and events as lines of their own. Ctrl-C
// asks the run to stop after the current step, keeping its checkpoints.
#pragma once

#include "engine/runner/runner.h"

#include <string>

namespace loralab::cli {

// Callbacks that print to stderr; every `stepEvery`-th step is printed.
RunCallbacks printingCallbacks(int stepEvery = 1);

// Routes SIGINT/SIGTERM to control.cancel while it lives.
class InterruptGuard {
public:
    explicit InterruptGuard(RunControl& control);
    ~InterruptGuard();
};

std::string formatBytes(std::int64_t bytes);
std::string formatDuration(double seconds);
void printSummary(const RunSummary& summary);
void printSamples(const std::vector<SampleRecord>& samples);

} // namespace loralab::cli
