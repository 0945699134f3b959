// Memory readings; see memory.h.
#include "engine/train/memory.h"

#include <fstream>
#include <string>
#include <unistd.h>

#if defined(LORALAB_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace loralab {
namespace {

// A field of /proc/self/status such as "VmHWM:   123456 kB", in bytes.
std::int64_t statusField(const char* field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;
    return 0;
}

} // namespace

void resetPeakMemory(torch::Device device)
{
#if defined(LORALAB_WITH_CUDA)
    if (device.is_cuda()) {
        c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
        return;
    }
#endif
    (void)device;
    // Writing 5 to clear_refs resets the VmHWM high-water mark (Linux >= 4.0).
    std::ofstream("/proc/self/clear_refs") << "5";
}

MemoryReading readMemory(torch::Device device)
{
#if defined(LORALAB_WITH_CUDA)
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
        const auto& all = stats.allocated_bytes[static_cast<std::size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)];
        return {all.current, all.peak};
    }
#endif
    (void)device;
    const std::int64_t current = statusField("VmRSS");
    return {current, std::max(current, statusField("VmHWM"))};
}

} // namespace loralab
