// Memory readings; see memory.h.
#include "engine/train/memory.h"

#include "engine/util/torch_compat.h"

#include <algorithm>
#include <fstream>
#include <string>

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

int cudaIndex(torch::Device device) { return device.has_index() ? device.index() : 0; }

// A field of /proc/meminfo such as "MemAvailable:  123456 kB", in bytes.
std::int64_t meminfoField(const char* field)
{
    std::ifstream in("/proc/meminfo");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;
    return 0;
}

} // namespace

std::int64_t availableMemory(torch::Device device)
{
    if (device.is_cuda()) return compat::cudaDeviceInfo(cudaIndex(device)).freeBytes;
    return meminfoField("MemAvailable");
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
    const std::int64_t current = statusField("VmRSS");
    return {current, std::max(current, statusField("VmHWM"))};
}

} // namespace loralab
