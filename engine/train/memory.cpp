// Memory readings; see memory.h.
#include "engine/train/memory.h"

#include "engine/util/torch_compat.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>

namespace loralab {

// One run's CPU tensor bytes. It is freed when its scope has ended and the
// last tensor it counted is released: each live allocation holds a reference.
struct TensorMemoryScope::Account {
    std::atomic<std::int64_t> current{0};
    std::atomic<std::int64_t> peak{0};
    std::atomic<std::int64_t> references{1}; // the scope's

    void unref()
    {
        if (references.fetch_sub(1) == 1) delete this;
    }
};

namespace {

thread_local TensorMemoryScope::Account* t_account = nullptr;

class ThreadAccounts final : public compat::CpuAllocationObserver {
public:
    void* allocated(std::size_t bytes) override
    {
        TensorMemoryScope::Account* account = t_account;
        if (!account) return nullptr;
        account->references.fetch_add(1);
        const std::int64_t now = account->current.fetch_add(static_cast<std::int64_t>(bytes)) + static_cast<std::int64_t>(bytes);
        std::int64_t peak = account->peak.load();
        while (now > peak && !account->peak.compare_exchange_weak(peak, now)) {
        }
        return account;
    }

    void released(void* token, std::size_t bytes) override
    {
        if (!token) return;
        auto* account = static_cast<TensorMemoryScope::Account*>(token);
        account->current.fetch_sub(static_cast<std::int64_t>(bytes));
        account->unref();
    }
};

ThreadAccounts& threadAccounts()
{
    static ThreadAccounts* accounts = new ThreadAccounts; // outlives every tensor
    return *accounts;
}

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

TensorMemoryScope::TensorMemoryScope() : m_account(new Account), m_previous(t_account)
{
    compat::observeCpuAllocations(threadAccounts());
    t_account = m_account;
}

TensorMemoryScope::~TensorMemoryScope()
{
    t_account = m_previous;
    m_account->unref();
}

std::int64_t TensorMemoryScope::currentBytes() const { return m_account->current.load(); }
std::int64_t TensorMemoryScope::peakBytes() const { return m_account->peak.load(); }

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
    if (device.is_cuda()) compat::resetCudaPeak(cudaIndex(device));
    if (TensorMemoryScope::Account* account = t_account) account->peak.store(account->current.load());
    // Writing 5 to clear_refs resets the VmHWM high-water mark (Linux >= 4.0).
    std::ofstream("/proc/self/clear_refs") << "5";
}

MemoryReading readMemory(torch::Device device)
{
    MemoryReading r;
    r.processBytes = procField("/proc/self/status", "VmRSS");
    r.processPeakBytes = std::max(r.processBytes, procField("/proc/self/status", "VmHWM"));
    if (device.is_cuda()) {
        const auto bytes = compat::cudaAllocatorBytes(cudaIndex(device));
        r.currentBytes = bytes.allocated;
        r.peakBytes = bytes.peakAllocated;
    } else if (const TensorMemoryScope::Account* account = t_account) {
        r.currentBytes = account->current.load();
        r.peakBytes = std::max(r.currentBytes, account->peak.load());
    }
    return r;
}

} // namespace loralab
