// The one place where LoRA Lab meets LibTorch APIs that differ between the
// versions it builds against (Debian 12's LibTorch 1.13 on the CPU, the 2.x
// CUDA LibTorch of a Python torch install), and where the CUDA-only calls
// live. Callers see plain functions; the version checks and CUDA headers stay
// in torch_compat.cpp, which every CI build compiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <torch/types.h>
#include <torch/version.h>

// True when compiled against LibTorch major.minor or newer. Used here and in
// engine/dist/collective.cpp, where c10d's process groups derive from
// c10d::ProcessGroup (1.13) or c10d::Backend (2.x); no other file checks versions.
#define LORALAB_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace loralab::compat {

// "2.11.0", the LibTorch these binaries were compiled against.
std::string libtorchVersion();
// True when compiled against a CUDA LibTorch (LORALAB_WITH_CUDA), whether or
// not this machine has a GPU.
bool builtWithCuda();
// GPUs visible now; 0 without a CUDA build, a driver or a device.
int cudaDeviceCount();

// softmax(q kᵀ / sqrt(d)) v over [batch, heads, T, d] tensors (k and v already
// expanded to the query heads). `allowed` is a boolean [.., T, S] mask of the
// keys each query may see; undefined means plain causal attention (T == S).
// LibTorch 2.x runs its fused kernels (flash, memory-efficient, cuDNN); 1.13
// computes it with matmul and softmax in fp32.
torch::Tensor scaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        const torch::Tensor& allowed);
// What that attention keeps for backward: 1.13 the fp32 probabilities
// [batch, heads, T, S]; the fused kernels of 2.x their output and a
// log-sum-exp per query and head.
constexpr bool attentionKeepsProbabilities()
{
#if LORALAB_TORCH_AT_LEAST(2, 0)
    return false;
#else
    return true;
#endif
}

// Waits for the work queued on `device` (nothing to wait for on the CPU).
void synchronize(torch::Device device);

// The CUDA caching allocator's bytes held by tensors on one GPU.
struct CudaAllocatorBytes {
    std::int64_t allocated = 0;     // held by live tensors now
    std::int64_t peakAllocated = 0; // since the last resetCudaPeak
    std::int64_t reserved = 0;      // held by the allocator's cache (allocated + free blocks)
};
CudaAllocatorBytes cudaAllocatorBytes(int deviceIndex);
void resetCudaPeak(int deviceIndex);

// Told of every CPU tensor allocation and its release, once installed.
class CpuAllocationObserver {
public:
    virtual ~CpuAllocationObserver() = default;
    // `bytes` of tensor memory were allocated on this thread; the returned
    // token comes back with their release (which may happen on any thread).
    virtual void* allocated(std::size_t bytes) = 0;
    virtual void released(void* token, std::size_t bytes) = 0;
};
// Wraps c10's CPU allocator (c10::SetCPUAllocator) so that `observer`, which
// must live as long as the process, sees every CPU tensor allocation from now
// on. The first call installs it; later calls do nothing. c10::Allocator's
// virtual functions differ between LibTorch 1.13 and 2.x, hence this place.
void observeCpuAllocations(CpuAllocationObserver& observer);

struct CudaDeviceInfo {
    std::string name;                // "NVIDIA H200"
    int computeMajor = 0, computeMinor = 0;
    std::int64_t totalBytes = 0;     // the device's memory
    std::int64_t freeBytes = 0;      // free now, as the driver reports it
    int multiprocessors = 0;
};
// Throws loralab::Error naming the index when there is no such GPU.
CudaDeviceInfo cudaDeviceInfo(int deviceIndex);

} // namespace loralab::compat
