// LibTorch version and CUDA differences; see torch_compat.h.
#include "engine/util/torch_compat.h"

#include "engine/util/error.h"

#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#if defined(LORALAB_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <limits>
#include <mutex>
#include <unordered_map>

namespace loralab::compat {

std::string libtorchVersion()
{
    return TORCH_VERSION;
}

bool builtWithCuda()
{
#if defined(LORALAB_WITH_CUDA)
    return true;
#else
    return false;
#endif
}

int cudaDeviceCount()
{
    return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

torch::Tensor scaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        const torch::Tensor& allowed)
{
#if LORALAB_TORCH_AT_LEAST(2, 0)
    if (!allowed.defined()) return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
    return at::scaled_dot_product_attention(q, k, v, allowed, 0.0, false);
#else
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    const torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
    const auto T = q.size(-2);
    const torch::Tensor mask =
        allowed.defined() ? allowed : torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).tril();
    // The lowest finite value rather than -inf: a fully masked row (a padding
    // query) then gives a uniform distribution instead of NaN.
    const double lowest = q.scalar_type() == torch::kHalf       ? -65504.0
                          : q.scalar_type() == torch::kBFloat16 ? -3.38e38
                                                                : std::numeric_limits<float>::lowest();
    const torch::Tensor probs = torch::softmax(scores.masked_fill(mask.logical_not(), lowest), -1, torch::kFloat32);
    return torch::matmul(probs.to(q.scalar_type()), v);
#endif
}

void synchronize(torch::Device device)
{
    if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

namespace {

// Hands out the base allocator's memory and tells the observer. The DataPtr
// keeps the base allocator's shape (context == data, one deleter function),
// so LibTorch's raw_allocate/raw_deallocate keep working through it; the size
// and the observer's token of each live allocation sit in a table beside it.
// Memory of another shape (a base allocator with contexts) passes unobserved.
class ObservingCpuAllocator final : public c10::Allocator {
public:
    ObservingCpuAllocator(c10::Allocator* base, CpuAllocationObserver& observer)
        : m_base(base), m_baseDeleter(base->raw_deleter()), m_observer(&observer)
    {
        s_self = this;
    }

#if LORALAB_TORCH_AT_LEAST(2, 3)
    // LibTorch 2.3 made allocate() non-const and copy_data() pure virtual.
    c10::DataPtr allocate(std::size_t bytes) override { return wrap(bytes); }
    void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
    c10::DataPtr allocate(std::size_t bytes) const override { return wrap(bytes); }
#endif
    c10::DeleterFnPtr raw_deleter() const override { return m_baseDeleter ? &ObservingCpuAllocator::release : nullptr; }

private:
    struct Live {
        std::size_t bytes;
        void* token;
    };

    static void release(void* data)
    {
        ObservingCpuAllocator* self = s_self;
        Live live{0, nullptr};
        bool found = false;
        {
            const std::lock_guard<std::mutex> lock(self->m_mutex);
            const auto it = self->m_live.find(data);
            if (it != self->m_live.end()) {
                live = it->second;
                found = true;
                self->m_live.erase(it);
            }
        }
        if (found) self->m_observer->released(live.token, live.bytes);
        self->m_baseDeleter(data); // raw memory the base allocated before this one was installed, too
    }

    c10::DataPtr wrap(std::size_t bytes) const
    {
        c10::DataPtr inner = m_base->allocate(bytes);
        if (bytes == 0 || !m_baseDeleter || inner.get() != inner.get_context() || inner.get_deleter() != m_baseDeleter)
            return inner;
        void* data = inner.release_context();
        void* token = m_observer->allocated(bytes);
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_live[data] = Live{bytes, token};
        }
        return c10::DataPtr(data, data, &ObservingCpuAllocator::release, c10::Device(c10::DeviceType::CPU));
    }

    static ObservingCpuAllocator* s_self;
    c10::Allocator* m_base;
    c10::DeleterFnPtr m_baseDeleter;
    CpuAllocationObserver* m_observer;
    mutable std::mutex m_mutex;
    mutable std::unordered_map<void*, Live> m_live;
};

ObservingCpuAllocator* ObservingCpuAllocator::s_self = nullptr;

} // namespace

void observeCpuAllocations(CpuAllocationObserver& observer)
{
    static std::once_flag once;
    std::call_once(once, [&observer] {
        // Never destroyed: tensors allocated through it may outlive any scope.
        static ObservingCpuAllocator* allocator = new ObservingCpuAllocator(c10::GetCPUAllocator(), observer);
        c10::SetCPUAllocator(allocator);
    });
}

#if defined(LORALAB_WITH_CUDA)
namespace {

c10::DeviceIndex checkedIndex(int deviceIndex)
{
    const int count = cudaDeviceCount();
    if (deviceIndex < 0 || deviceIndex >= count)
        throw Error("GPU cuda:" + std::to_string(deviceIndex) + " does not exist (this machine has " +
                    std::to_string(count) + (count == 1 ? " GPU)" : " GPUs)"));
    return static_cast<c10::DeviceIndex>(deviceIndex);
}

} // namespace

CudaAllocatorBytes cudaAllocatorBytes(int deviceIndex)
{
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(checkedIndex(deviceIndex));
    // Index 0 is StatType::AGGREGATE (all pools) in every LibTorch; the enum
    // itself moved from c10::cuda::CUDACachingAllocator to c10::CachingAllocator in 2.x.
    constexpr std::size_t kAggregate = 0;
    return {stats.allocated_bytes[kAggregate].current, stats.allocated_bytes[kAggregate].peak,
            stats.reserved_bytes[kAggregate].current};
}

void resetCudaPeak(int deviceIndex)
{
    c10::cuda::CUDACachingAllocator::resetPeakStats(checkedIndex(deviceIndex));
}

CudaDeviceInfo cudaDeviceInfo(int deviceIndex)
{
    const c10::DeviceIndex index = checkedIndex(deviceIndex);
    const cudaDeviceProp* props = at::cuda::getDeviceProperties(index);
    CudaDeviceInfo info;
    info.name = props->name;
    info.computeMajor = props->major;
    info.computeMinor = props->minor;
    info.totalBytes = static_cast<std::int64_t>(props->totalGlobalMem);
    info.multiprocessors = props->multiProcessorCount;
    std::size_t freeBytes = 0, totalBytes = 0;
    const c10::cuda::CUDAGuard guard(index);
    if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) info.freeBytes = static_cast<std::int64_t>(freeBytes);
    return info;
}
#else
CudaAllocatorBytes cudaAllocatorBytes(int)
{
    throw Error("this build of LoRA Lab has no CUDA support (built against a CPU LibTorch)");
}

void resetCudaPeak(int)
{
    throw Error("this build of LoRA Lab has no CUDA support (built against a CPU LibTorch)");
}

CudaDeviceInfo cudaDeviceInfo(int)
{
    throw Error("this build of LoRA Lab has no CUDA support (built against a CPU LibTorch)");
}
#endif

} // namespace loralab::compat
