// Reading the reference fixtures (<model>.json and the logits/gradient
// safetensors) into tensors for the parity tests.
#pragma once

#include "engine_test.h"
#include "test_paths.h"

#include "engine/model/model_loader.h"
#include "engine/util/files.h"
#include "engine/util/torch_compat.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace loralab::test {

inline nlohmann::json referenceJson(const std::string& model)
{
    return nlohmann::json::parse(readTextFile(reference(model + ".json")));
}

inline torch::Tensor tensor2d(const nlohmann::json& rows)
{
    std::vector<std::int64_t> flat;
    for (const auto& row : rows)
        for (const auto& v : row) flat.push_back(v.get<std::int64_t>());
    return torch::tensor(flat, torch::kInt64).view({static_cast<std::int64_t>(rows.size()), -1});
}

inline double maxAbsError(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

inline double relativeL2Error(const torch::Tensor& a, const torch::Tensor& b)
{
    const auto ref = b.to(torch::kFloat64);
    return ((a.to(torch::kFloat64) - ref).norm() / ref.norm().clamp_min(1e-30)).item<double>();
}

// Where a parity check runs, and how close it must come to the fp32 reference.
struct Target {
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32; // compute dtype of the base weights
    double logitsMaxAbs = 1e-4;                // at valid positions
    double logitsRelL2 = 1e-5;
    double loss = 1e-5;                        // absolute, on losses around 4-7
    double gradRelL2 = 1e-4;                   // per LoRA gradient tensor
    double gradNorm = 1e-5;                    // absolute, the norm before clipping
    double logProbRel = 0.0;                   // DPO sums: 0 means max(1e-5, 4 fp32 ulps)
    bool exactGreedy = true;

    LoadOptions loadOptions() const
    {
        LoadOptions o;
        o.device = device;
        o.dtype = dtype;
        return o;
    }
};

// fp32 on the CPU: the fixtures' own tolerances (shared/fixtures/README.md).
inline Target cpuFp32() { return {}; }

// Why the GPU cases cannot run here; empty where a GPU is visible.
inline std::string whyNoCuda()
{
    if (!compat::builtWithCuda())
        return "this build uses a CPU-only LibTorch " + compat::libtorchVersion() +
               "; GPU tests need a CUDA build (LORALAB_WITH_CUDA)";
    if (compat::cudaDeviceCount() == 0) return "no NVIDIA GPU is visible to this process";
    return {};
}

// The first GPU. The gpu classes skip their cases, with the reason, where
// there is none: SKIP_WITHOUT_CUDA in their init(), which runs before each.
inline torch::Device cudaDevice() { return {torch::kCUDA, 0}; }

// fp32 on the GPU, held to the CPU tolerances (matmuls run in full fp32: TF32
// is off by default in LibTorch).
inline Target cudaFp32()
{
    Target t;
    t.device = cudaDevice();
    return t;
}

// bf16 base weights (LoRA factors, losses and optimizer state stay fp32).
// bf16 keeps 8 significant bits, so every product carries a relative error of
// about 2^-9. On the CPU the fixtures come out at: logits max abs error
// 0.004-0.005 and relative L2 0.005, losses within 3e-4, LoRA gradients within
// relative L2 0.027, DPO log-probabilities within 6e-5 relative; the bounds
// below leave about five times that. Greedy tokens may flip where two logits
// are that close, so only their count is compared.
inline Target bf16(torch::Device device)
{
    Target t;
    t.device = device;
    t.dtype = torch::kBFloat16;
    t.logitsMaxAbs = 2e-2;
    t.logitsRelL2 = 2e-2;
    t.loss = 2e-3;
    t.gradRelL2 = 1e-1;
    t.gradNorm = 1e-2;
    t.logProbRel = 5e-4;
    t.exactGreedy = false;
    return t;
}

} // namespace loralab::test

#define SKIP_WITHOUT_CUDA()                                                                        \
    do {                                                                                           \
        const std::string ll_why = ::loralab::test::whyNoCuda();                                   \
        if (!ll_why.empty()) QSKIP(ll_why.c_str());                                                \
    } while (false)
