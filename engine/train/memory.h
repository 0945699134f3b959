// Memory as LoRA Lab reports it. A run's memory is the bytes its tensors
// hold: on the CPU counted at c10's allocator for the thread that runs it
// (TensorMemoryScope), so other work in the same process (the window's
// generation thread, a second run) does not count; on CUDA the caching
// allocator's statistics. The process's resident set (RSS) is read apart: it
// also holds the libraries, the allocator's cache and everything else.
#pragma once

#include <cstdint>
#include <string>
#include <torch/types.h>

namespace loralab {

struct MemoryReading {
    std::int64_t currentBytes = 0;     // held by tensors now
    std::int64_t peakBytes = 0;        // the most held since resetPeakMemory
    std::int64_t processBytes = 0;     // the process's resident set now
    std::int64_t processPeakBytes = 0; // its high-water mark since resetPeakMemory
};

// Counts the CPU tensor memory this thread allocates while the scope lives,
// into an account of its own (current and peak); releases count wherever they
// happen, also after the scope has ended. Scopes nest: the inner one counts,
// and the outer one resumes when it ends.
class TensorMemoryScope {
public:
    TensorMemoryScope();
    ~TensorMemoryScope();
    TensorMemoryScope(const TensorMemoryScope&) = delete;
    TensorMemoryScope& operator=(const TensorMemoryScope&) = delete;

    std::int64_t currentBytes() const;
    std::int64_t peakBytes() const;

    struct Account; // the counters; defined in memory.cpp

private:
    Account* m_account;
    Account* m_previous;
};

// Bytes that new tensors can still take on `device`: the kernel's MemAvailable
// on the CPU, the driver's free memory on a GPU.
std::int64_t availableMemory(torch::Device device);
// "the CPU's memory" or "cuda:0 (NVIDIA H200)", for messages.
std::string memoryPlace(torch::Device device);

// Starts a new peak window on `device` (and for the process's RSS).
void resetPeakMemory(torch::Device device);
// On the CPU the tensor figures are those of this thread's TensorMemoryScope
// (0 without one).
MemoryReading readMemory(torch::Device device);

} // namespace loralab
