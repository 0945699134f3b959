// Memory as LoRA Lab reports it: on CPU the process's resident set (now, and
// the peak since the last reset, from the kernel's high-water mark); on CUDA
// the caching allocator's statistics. Plus an estimate from the model's shapes
// so predicted and measured memory can be set side by side.
#pragma once

#include <cstdint>
#include <torch/types.h>

namespace loralab {

struct MemoryReading {
    std::int64_t currentBytes = 0;
    std::int64_t peakBytes = 0;
};

// Starts a new peak window on `device`.
void resetPeakMemory(torch::Device device);
MemoryReading readMemory(torch::Device device);

struct MemoryEstimate {
    std::int64_t weightBytes = 0;
    std::int64_t gradientBytes = 0;
    std::int64_t optimizerBytes = 0;
    std::int64_t activationBytes = 0;
    std::int64_t total() const { return weightBytes + gradientBytes + optimizerBytes + activationBytes; }
};

} // namespace loralab
