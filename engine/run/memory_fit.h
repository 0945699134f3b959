// Whether a run fits in memory before it starts, and what would make it fit:
// the estimate of a step (weights, gradients, optimizer state, activations)
// against the memory of the device the run trains on, and the same estimate
// with each of the levers people use to fit a model (a smaller batch or
// max_len, activation checkpointing, an 8- or 4-bit base, LoRA instead of
// full fine-tuning, bf16 weights). Estimates come from shapes alone: the
// model is built on the meta device, so nothing is allocated or read but
// config.json. No LibTorch here.
#pragma once

#include "engine/config/run_config.h"
#include "engine/records/metrics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loralab {

struct MemoryLever {
    std::string setting;      // as a run option: "batch_size 4", "base_quantization nf4 (double_quant)"
    MemoryBreakdown estimate; // of the run with this one change
    bool fits = false;
};

struct MemoryFit {
    MemoryBreakdown estimate;
    std::int64_t sequenceLength = 0; // the length the estimate is for
    std::string place;               // "the CPU's memory", "cuda:0 (NVIDIA H200)"
    // What the run may take: the device's free memory, plus what the run's
    // own weights hold already when they are loaded. 0: unknown.
    std::int64_t budgetBytes = 0;
    bool limited = false;            // the budget is the run's memory_limit_gib
    bool fits = true;                // also when the budget is unknown
    std::vector<MemoryLever> levers; // each lever alone, where it changes the run
    // Every lever together, when none alone fits.
    std::vector<MemoryLever> combined;

    // "about 2.1 GiB (weights ..., gradients ..., ...) of 20 GiB free in the CPU's memory: fits"
    std::string verdict() const;
    // The levers as lines ("  batch_size 4: about 1.2 GiB, fits").
    std::vector<std::string> leverLines() const;
    // The refusal of a run that does not fit: the estimate, the budget and what would make it fit.
    std::string refusal(const RunConfig& config) const;
};

struct MemoryPlanOptions {
    std::int64_t sequenceLength = 0;  // the longest sequence the run trains on (0: max_len)
    std::int64_t heldWeightBytes = 0; // the run's weights that are in memory already
    // The run's own estimate, from its model as loaded (an adapter read from
    // a file included); unset: from the configuration.
    std::optional<MemoryBreakdown> estimate;
    bool leversAlways = true; // false: the levers only for a run that does not fit
};

// The run's estimate on the device it names, its budget (free memory, plus
// the weights held already, which count in the estimate) and the levers'
// estimates. A configuration that cannot be built (an unknown model, a
// setting that does not apply) is an Error for the run, and skipped for a
// lever.
MemoryFit planMemory(const RunConfig& config, const MemoryPlanOptions& options = {});

} // namespace loralab
