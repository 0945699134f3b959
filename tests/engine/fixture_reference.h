// Reading the reference fixtures (<model>.json and the logits/gradient
// safetensors) into tensors for the parity tests.
#pragma once

#include "test_paths.h"

#include "engine/util/files.h"

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

} // namespace loralab::test
