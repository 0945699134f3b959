// A run's metrics as TensorBoard events: which tag each field of LoRA Lab's
// StepRecord, EvalRecord, SampleRecord and RunConfig becomes, and the calls
// the run loop makes at each step and evaluation. Tags:
//   train/loss, train/learning_rate, train/grad_norm, train/epoch,
//   train/tokens, train/tokens_per_second
//   time/forward_ms, time/backward_ms, time/optimizer_ms, time/step_ms,
//   time/elapsed_seconds, time/eta_seconds, time/comm_ms (data-parallel runs)
//   memory/bytes, memory/peak_bytes, memory/process_bytes (RSS),
//   memory/measured_{weights,gradients,optimizer,activations}_bytes,
//   memory/estimate_{weights,gradients,optimizer,activations,total}_bytes
//   dpo/reward_chosen, dpo/reward_rejected, dpo/reward_margin,
//   dpo/preference_accuracy (DPO runs)
//   eval/loss, eval/perplexity, eval/best, eval/tokens,
//   eval/preference_accuracy, eval/reward_margin (DPO evaluations)
//   text: config (the run configuration), samples (base and fine-tuned answers)
// No LibTorch here.
#pragma once

#include "engine/export/tensorboard_writer.h"
#include "engine/records/metrics.h"

#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

std::vector<TensorBoardScalar> stepScalars(const StepRecord& record);
std::vector<TensorBoardScalar> evalScalars(const EvalRecord& record);
// Markdown for TensorBoard's text plugin: the configuration JSON as a code
// block, and every sample's prompt, target and answers.
std::string configText(const std::string& configJson);
std::string samplesText(const std::vector<SampleRecord>& samples);

// What the run loop calls; each writes one record. Flushing (at evaluations
// and when the run stops) is the caller's choice: writer.flush().
void writeStepEvents(TensorBoardWriter& writer, const StepRecord& record, double wallTime = wallClockSeconds());
void writeEvalEvents(TensorBoardWriter& writer, const EvalRecord& record, double wallTime = wallClockSeconds());
void writeConfigEvent(TensorBoardWriter& writer, const RunConfig& config, double wallTime = wallClockSeconds());
void writeSampleEvents(TensorBoardWriter& writer, const std::vector<SampleRecord>& samples, std::int64_t step,
                       double wallTime = wallClockSeconds());

// A recorded run (readRunRecords; its config.json is read beside) as a new event file in `dir`: the
// configuration, every step and evaluation in step order, then the samples at
// the last step. A step's wall time is `startTime` plus its elapsed seconds;
// an evaluation takes the time of its step. Returns the file's path.
std::filesystem::path writeRunEvents(const RunRecords& run, const std::filesystem::path& dir, double startTime);

} // namespace loralab
