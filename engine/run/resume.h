// Continuing a run: the configuration it continues with, and taking up its
// state from the last checkpoint so that a resumed run takes the steps an
// uninterrupted one would have taken.
#pragma once

#include "engine/run/run_progress.h"
#include "engine/run/run_sink.h"

#include <string>

namespace loralab {

class Trainer;

// The configuration a resumed run continues with: its own, as its
// config.json holds it, with the threads, device and process settings of
// `requested` and, to continue a finished run, a larger max_steps or epochs.
// A request that differs in anything else would be another run, and is
// refused naming the keys.
RunConfig resumedConfig(const RunConfig& requested, const std::string& resumeDir);

// Takes the run up from its last checkpoint: the trainer's weights,
// optimizer moments and step, the progress the checkpoint kept, and the
// totals of the steps the earlier sessions recorded (metrics of steps after
// the checkpoint are dropped: the resumed run takes them again). A run that
// took all its steps and has a summary is refused (it needs a larger
// max_steps); one stopped after its last step but before its summary
// finishes. Writes config.json again when max_steps or epochs grew.
// A run stopped before its first checkpoint resumes from its start: its
// untrained state is the configuration and the seed, so the run begins again
// in its folder (its metrics are cleared) and returns false; true otherwise.
bool resumeFromLast(RunSink& sink, Trainer& trainer, RunProgress& progress, const RunConfig& config, std::int64_t totalSteps);

} // namespace loralab
