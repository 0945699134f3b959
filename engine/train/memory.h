// Memory as LoRA Lab reports it: on CPU the process's resident set (now, and
// the peak since the last reset, from the kernel's high-water mark); on CUDA
// the caching allocator's statistics.
#pragma once

#include <cstdint>
#include <string>
#include <torch/types.h>

namespace loralab {

struct MemoryReading {
    std::int64_t currentBytes = 0;
    std::int64_t peakBytes = 0;
};

// Bytes that new tensors can still take on `device`: the kernel's MemAvailable
// on the CPU, the driver's free memory on a GPU.
std::int64_t availableMemory(torch::Device device);
// "the CPU's memory" or "cuda:0 (NVIDIA H200)", for messages.
std::string memoryPlace(torch::Device device);

// Starts a new peak window on `device`.
void resetPeakMemory(torch::Device device);
MemoryReading readMemory(torch::Device device);

} // namespace loralab
