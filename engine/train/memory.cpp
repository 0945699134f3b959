// Memory readings; see memory.h.
#include "engine/train/memory.h"

#include "engine/util/torch_compat.h"

#include <algorithm>
#include <fstream>
#include <string>

namespace loralab {
namespace {

// A field of a /proc file such as "VmHWM:   123456 kB" (/proc/self/status)
// or "MemAvailable:  123456 kB" (/proc/meminfo), in bytes.
std::int64_t procField(const char* file, const char* field)
{
    std::ifstream in(file);
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;
    return 0;
}

int cudaIndex(torch::Device device) { return device.has_index() ? device.index() : 0; }

} // namespace

std::int64_t availableMemory(torch::Device device)
{
    if (device.is_cuda()) return compat::cudaDeviceInfo(cudaIndex(device)).freeBytes;
    return procField("/proc/meminfo", "MemAvailable");
}

std::string memoryPlace(torch::Device device)
{
    if (!device.is_cuda()) return "the CPU's memory";
    return device.str() + " (" + compat::cudaDeviceInfo(cudaIndex(device)).name + ")";
}

void resetPeakMemory(torch::Device device)
{
    if (device.is_cuda()) {
        compat::resetCudaPeak(cudaIndex(device));
        return;
    }
    // Writing 5 to clear_refs resets the VmHWM high-water mark (Linux >= 4.0).
    std::ofstream("/proc/self/clear_refs") << "5";
}

MemoryReading readMemory(torch::Device device)
{
    if (device.is_cuda()) {
        const auto bytes = compat::cudaAllocatorBytes(cudaIndex(device));
        return {bytes.allocated, bytes.peakAllocated};
    }
    const std::int64_t current = procField("/proc/self/status", "VmRSS");
    return {current, std::max(current, procField("/proc/self/status", "VmHWM"))};
}

} // namespace loralab
