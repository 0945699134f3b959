// The int8 and 4-bit weight formats; see quant_format.h. Every rounding step
// below is the one bitsandbytes 0.50.2 takes on the CPU, in fp32, in the same
// order (a product by the reciprocal where it multiplies, a quotient where it
// divides), so that codes and statistics come out bit for bit the same.
#include "engine/quant/quant_format.h"

#include "engine/util/error.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

namespace loralab {
namespace {

// NF4: quantiles of N(0, 1) scaled to [-1, 1] (QLoRA), as bitsandbytes lists them.
constexpr double kNf4Values[16] = {-1.0,
                                   -0.6961928009986877,
                                   -0.5250730514526367,
                                   -0.39491748809814453,
                                   -0.28444138169288635,
                                   -0.18477343022823334,
                                   -0.09105003625154495,
                                   0.0,
                                   0.07958029955625534,
                                   0.16093020141124725,
                                   0.24611230194568634,
                                   0.33791524171829224,
                                   0.44070982933044434,
                                   0.5626170039176941,
                                   0.7229568362236023,
                                   1.0};
// FP4 by nibble: bit 3 the sign, bits 2-0 the magnitude 0, 0.0625, 8, 12, 4, 6, 2, 3
// (2 exponent bits, 1 mantissa bit, exponent bias 2), divided by the largest, 12.
constexpr double kFp4Magnitudes[8] = {0.0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0};

// Bounds of rounding to the nearest code value: bounds[k] lies between the
// k-th and (k+1)-th smallest value. A scaled value v gets the rank of the
// number of bounds below it (bucketize), so v == bounds[k] rounds down.
struct FourBitTable {
    std::array<float, 16> value{};       // by nibble, as dequantization reads them (FP4's nibble 8 is -0.0)
    std::array<float, 15> bounds{};      // ascending
    std::array<std::uint8_t, 16> nibbleOfRank{};

    std::uint8_t nibble(float v) const
    {
        const auto rank = std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin();
        return nibbleOfRank[static_cast<std::size_t>(rank)];
    }
};

FourBitTable makeFourBitTable(FourBitType type)
{
    FourBitTable t;
    for (int i = 0; i < 16; ++i) {
        if (type == FourBitType::Nf4) {
            t.value[i] = static_cast<float>(kNf4Values[i]);
        } else {
            const float magnitude = static_cast<float>(kFp4Magnitudes[i & 7]) / 12.0f;
            t.value[i] = (i & 8) ? -magnitude : magnitude;
        }
    }
    // FP4 has +0 (nibble 0) and -0 (nibble 8); bitsandbytes ranks +0 first, so
    // an exact zero gets nibble 0 and a tiny positive value nibble 8. A stable
    // sort of the nibbles by value keeps that order.
    std::array<std::uint8_t, 16> order{};
    std::iota(order.begin(), order.end(), std::uint8_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::uint8_t a, std::uint8_t b) { return t.value[a] < t.value[b]; });
    t.nibbleOfRank = order;
    for (int k = 0; k < 15; ++k) t.bounds[k] = (t.value[order[k]] + t.value[order[k + 1]]) / 2.0f;
    return t;
}

const FourBitTable& fourBitTable(FourBitType type)
{
    static const FourBitTable nf4 = makeFourBitTable(FourBitType::Nf4);
    static const FourBitTable fp4 = makeFourBitTable(FourBitType::Fp4);
    return type == FourBitType::Nf4 ? nf4 : fp4;
}

// create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for
// each exponent 10^(i-6), i = 0..6, the midpoints of torch.linspace(0.1, 1,
// 2^i + 1) in fp32, with both signs; then 0 and 1, sorted. linspace's CPU
// kernel forms start + step * j (j below half) and end - step * (n - 1 - j)
// with fused multiply-adds, reproduced here with std::fma.
std::vector<float> makeDynamicMap()
{
    std::vector<float> data;
    for (int i = 0; i < 7; ++i) {
        const std::int64_t n = (std::int64_t{1} << i) + 1;
        const float start = 0.1f;
        const float end = 1.0f;
        const float step = (end - start) / static_cast<float>(n - 1);
        std::vector<float> points(static_cast<std::size_t>(n));
        for (std::int64_t j = 0; j < n; ++j)
            points[static_cast<std::size_t>(j)] = j < n / 2 ? std::fma(step, static_cast<float>(j), start)
                                                            : std::fma(-step, static_cast<float>(n - 1 - j), end);
        const float scale = static_cast<float>(std::pow(10.0, -6 + i));
        for (std::size_t j = 0; j + 1 < points.size(); ++j) {
            const float mean = (points[j] + points[j + 1]) / 2.0f;
            data.push_back(scale * mean);
            data.push_back(-scale * mean);
        }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    std::sort(data.begin(), data.end());
    return data;
}

const std::vector<float>& dynamicMap()
{
    static const std::vector<float> map = makeDynamicMap();
    return map;
}

// bitsandbytes' CPU blockwise 8-bit quantizer does not search the code map:
// it maps [-1, 1] onto 65,536 evenly spaced points, each assigned the code
// whose midpoints enclose it, and rounds a value to the nearest point.
constexpr int kLutSize = 65536;

const std::vector<std::uint8_t>& dynamicLut()
{
    static const std::vector<std::uint8_t> lut = [] {
        const std::vector<float>& code = dynamicMap();
        std::vector<float> mid(code.size() - 1);
        for (std::size_t i = 0; i + 1 < code.size(); ++i) mid[i] = 0.5f * (code[i] + code[i + 1]);
        std::vector<std::uint8_t> out(kLutSize);
        std::size_t index = 0;
        for (int i = 0; i < kLutSize; ++i) {
            const float point = (2.0f * static_cast<float>(i)) / static_cast<float>(kLutSize - 1) - 1.0f;
            while (index < mid.size() && mid[index] < point) ++index;
            out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(index);
        }
        return out;
    }();
    return lut;
}

std::uint8_t dynamicCode(float scaled)
{
    const float u = (std::clamp(scaled, -1.0f, 1.0f) + 1.0f) * 0.5f;
    // bitsandbytes' build fuses this product and sum into one rounding.
    const float point = std::fma(u, static_cast<float>(kLutSize - 1), 0.5f);
    return dynamicLut()[static_cast<std::uint16_t>(static_cast<std::int32_t>(point))];
}

// The weight as contiguous fp32 on the CPU, checked for inf and NaN.
torch::Tensor cpuFloatWeight(const torch::Tensor& weight, const std::string& what)
{
    if (weight.dim() != 2 || !weight.is_floating_point())
        throw Error(what + ": only 2-D floating-point weights can be quantized (got " + std::to_string(weight.dim()) +
                    "-D " + std::string(c10::toString(weight.scalar_type())) + ")");
    torch::NoGradGuard noGrad;
    const torch::Tensor w = weight.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    if (!torch::isfinite(w).all().item<bool>())
        throw Error(what + ": the weight holds inf or NaN values, which cannot be quantized");
    return w;
}

torch::Tensor floatVector(const std::vector<float>& values)
{
    return torch::tensor(c10::ArrayRef<float>(values), torch::TensorOptions().dtype(torch::kFloat32));
}

// Double quantization: absmax - mean(absmax) in blocks of 256 with the dynamic map.
void nestAbsmax(FourBitWeight& q, const torch::Tensor& absmax)
{
    // LibTorch's fp32 mean, as bitsandbytes takes it (its summation order
    // follows the thread count beyond 32,768 blocks, here as there).
    const torch::Tensor offset = absmax.mean().reshape({1});
    const float mean = offset.item<float>();
    const float* a = absmax.data_ptr<float>();
    const std::int64_t blocks = absmax.numel();
    const std::int64_t groups = (blocks + FourBitWeight::kNestedBlockSize - 1) / FourBitWeight::kNestedBlockSize;
    std::vector<float> groupAbsmax(static_cast<std::size_t>(groups));
    torch::Tensor codes = torch::empty({blocks}, torch::TensorOptions().dtype(torch::kUInt8));
    std::uint8_t* c = codes.data_ptr<std::uint8_t>();
    at::parallel_for(0, groups, 1, [&](std::int64_t g0, std::int64_t g1) {
        for (std::int64_t g = g0; g < g1; ++g) {
            const std::int64_t start = g * FourBitWeight::kNestedBlockSize;
            const std::int64_t end = std::min(start + FourBitWeight::kNestedBlockSize, blocks);
            float most = 0.0f;
            for (std::int64_t i = start; i < end; ++i) most = std::max(most, std::fabs(a[i] - mean));
            groupAbsmax[static_cast<std::size_t>(g)] = most;
            if (most == 0.0f) {
                std::fill(c + start, c + end, std::uint8_t{0});
                continue;
            }
            const float inverse = 1.0f / most;
            for (std::int64_t i = start; i < end; ++i) c[i] = dynamicCode((a[i] - mean) * inverse);
        }
    });
    q.nested = true;
    q.offset = offset;
    q.absmax = codes;
    q.nestedAbsmax = floatVector(groupAbsmax);
    q.nestedCode = dynamicCodeMap();
}

template <typename T>
T fromFloat(float v)
{
    return static_cast<T>(v); // c10::BFloat16 and c10::Half round to nearest even
}

template <typename T>
void unpackRows(const FourBitWeight& q, std::int64_t e0, std::int64_t e1, const float* scales, T* out)
{
    const std::array<float, 16>& value = fourBitTable(q.type).value;
    const std::uint8_t* bytes = q.packed.data_ptr<std::uint8_t>();
    const std::int64_t b0 = e0 / q.blockSize;
    const std::int64_t b1 = (e1 + q.blockSize - 1) / q.blockSize;
    at::parallel_for(b0, b1, 64, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t b = first; b < last; ++b) {
            const float scale = scales[b - b0];
            const std::int64_t end = std::min((b + 1) * q.blockSize, e1);
            // A block starts on an even value (block sizes are even): a byte
            // at a time, both nibbles; an odd end takes the last high nibble.
            std::int64_t i = b * q.blockSize;
            for (; i + 1 < end; i += 2) {
                const std::uint8_t byte = bytes[i >> 1];
                out[i - e0] = fromFloat<T>(value[byte >> 4] * scale);
                out[i + 1 - e0] = fromFloat<T>(value[byte & 0x0F] * scale);
            }
            if (i < end) out[i - e0] = fromFloat<T>(value[bytes[i >> 1] >> 4] * scale);
        }
    });
}

void checkRows(std::int64_t first, std::int64_t count, std::int64_t rows, std::int64_t step)
{
    if (first < 0 || count < 0 || first + count > rows || first % step != 0)
        throw Error("internal: dequantizing rows " + std::to_string(first) + " + " + std::to_string(count) + " of " +
                    std::to_string(rows) + " (steps of " + std::to_string(step) + ")");
}

} // namespace

torch::Tensor fourBitCode(FourBitType type)
{
    // QuantState.code holds +0.0 for FP4's nibble 8 (bitsandbytes lists it as
    // the integer -0); its CPU dequantization reads -0.0, as the table does.
    std::vector<float> code;
    for (const float v : fourBitTable(type).value) code.push_back(v == 0.0f ? 0.0f : v);
    return floatVector(code);
}

torch::Tensor dynamicCodeMap() { return floatVector(dynamicMap()); }

Int8Weight quantizeInt8(const torch::Tensor& weight, const std::string& what)
{
    const torch::Tensor w = cpuFloatWeight(weight, what);
    const std::int64_t rows = w.size(0);
    const std::int64_t cols = w.size(1);
    Int8Weight q;
    q.codes = torch::empty({rows, cols}, torch::TensorOptions().dtype(torch::kInt8));
    q.scale = torch::empty({rows}, torch::TensorOptions().dtype(torch::kFloat32));
    const float* v = w.data_ptr<float>();
    std::int8_t* c = q.codes.data_ptr<std::int8_t>();
    float* s = q.scale.data_ptr<float>();
    at::parallel_for(0, rows, 16, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* row = v + r * cols;
            float most = 0.0f;
            for (std::int64_t j = 0; j < cols; ++j) most = std::max(most, std::fabs(row[j]));
            s[r] = most;
            // 127 / absmax as bitsandbytes forms it: the reciprocal, times 127.
            // A row of zeros has codes 0 (bitsandbytes' 0 * inf is NaN, which it stores as 0).
            const float factor = most == 0.0f ? 0.0f : (1.0f / most) * 127.0f;
            for (std::int64_t j = 0; j < cols; ++j)
                c[r * cols + j] = static_cast<std::int8_t>(std::nearbyint(row[j] * factor)); // half to even
        }
    });
    q.codes = q.codes.to(weight.device());
    q.scale = q.scale.to(weight.device());
    return q;
}

FourBitWeight quantizeFourBit(const torch::Tensor& weight, FourBitType type, bool doubleQuant, std::int64_t blockSize,
                              const std::string& what)
{
    if (blockSize < 32 || blockSize > 4096 || (blockSize & (blockSize - 1)) != 0)
        throw Error(what + ": 4-bit block size " + std::to_string(blockSize) + " is not one of 32, 64, ..., 4096");
    const torch::Tensor w = cpuFloatWeight(weight, what);
    FourBitWeight q;
    q.type = type;
    q.rows = w.size(0);
    q.cols = w.size(1);
    q.blockSize = blockSize;
    const std::int64_t n = q.numel();
    const std::int64_t blocks = q.blocks();
    const FourBitTable& table = fourBitTable(type);
    const float* v = w.data_ptr<float>();
    std::vector<float> absmax(static_cast<std::size_t>(blocks));
    std::vector<std::uint8_t> nibbles(static_cast<std::size_t>(n + (n & 1)), table.nibble(0.0f));
    constexpr float kTiny = 1e-38f; // bitsandbytes' clamp of the absmax it divides by
    at::parallel_for(0, blocks, 16, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t b = first; b < last; ++b) {
            const std::int64_t start = b * blockSize;
            const std::int64_t end = std::min(start + blockSize, n);
            float most = 0.0f;
            for (std::int64_t i = start; i < end; ++i) most = std::max(most, std::fabs(v[i]));
            if (end - start == blockSize) {
                // A whole block: scaled by the reciprocal of its absmax; a
                // zero block keeps absmax 0.
                absmax[static_cast<std::size_t>(b)] = most;
                const float inverse = 1.0f / std::max(most, kTiny);
                for (std::int64_t i = start; i < end; ++i)
                    nibbles[static_cast<std::size_t>(i)] = table.nibble(std::clamp(v[i] * inverse, -1.0f, 1.0f));
            } else {
                // The short last block: divided by its absmax, which is kept clamped.
                const float divisor = std::max(most, kTiny);
                absmax[static_cast<std::size_t>(b)] = divisor;
                for (std::int64_t i = start; i < end; ++i)
                    nibbles[static_cast<std::size_t>(i)] = table.nibble(std::clamp(v[i] / divisor, -1.0f, 1.0f));
            }
        }
    });
    q.packed = torch::empty({(n + 1) / 2, 1}, torch::TensorOptions().dtype(torch::kUInt8));
    std::uint8_t* p = q.packed.data_ptr<std::uint8_t>();
    for (std::int64_t i = 0; i < (n + 1) / 2; ++i)
        p[i] = static_cast<std::uint8_t>((nibbles[static_cast<std::size_t>(2 * i)] << 4) | nibbles[static_cast<std::size_t>(2 * i + 1)]);
    q.code = fourBitCode(type);
    const torch::Tensor absmaxTensor = floatVector(absmax);
    if (doubleQuant)
        nestAbsmax(q, absmaxTensor);
    else
        q.absmax = absmaxTensor;
    const torch::Device device = weight.device();
    for (torch::Tensor* t : {&q.packed, &q.code, &q.absmax, &q.offset, &q.nestedAbsmax, &q.nestedCode})
        if (t->defined()) *t = t->to(device);
    return q;
}

torch::Tensor blockAbsmax(const FourBitWeight& q, std::int64_t first, std::int64_t count)
{
    if (!q.nested) return q.absmax.narrow(0, first, count);
    const torch::Tensor codes = q.absmax.narrow(0, first, count).to(torch::kLong);
    const torch::Tensor groups =
        torch::arange(first, first + count, codes.options()).div(FourBitWeight::kNestedBlockSize, "floor");
    // code * group absmax, then + offset: two roundings, as bitsandbytes
    // dequantizes the statistics and adds the offset afterwards.
    return q.nestedCode.index_select(0, codes).mul_(q.nestedAbsmax.index_select(0, groups)).add_(q.offset);
}

std::int64_t fourBitRowStep(const FourBitWeight& q) { return q.blockSize / std::gcd(q.cols, q.blockSize); }

torch::Tensor dequantizeInt8Rows(const Int8Weight& q, std::int64_t first, std::int64_t count, torch::ScalarType dtype)
{
    checkRows(first, count, q.codes.size(0), 1);
    // bitsandbytes' int8_vectorwise_dequant: code * absmax, times fp32(1 / 127).
    constexpr float kInverse127 = static_cast<float>(7.874015718698502e-3);
    return q.codes.narrow(0, first, count)
        .to(torch::kFloat32)
        .mul_(q.scale.narrow(0, first, count).unsqueeze(1))
        .mul_(static_cast<double>(kInverse127))
        .to(dtype);
}

torch::Tensor dequantizeFourBitRows(const FourBitWeight& q, std::int64_t first, std::int64_t count, torch::ScalarType dtype)
{
    if (!q.packed.device().is_cpu()) return dequantizeFourBitRowsWithTorchOps(q, first, count, dtype);
    checkRows(first, count, q.rows, fourBitRowStep(q));
    const std::int64_t e0 = first * q.cols;
    const std::int64_t e1 = (first + count) * q.cols;
    const std::int64_t b0 = e0 / q.blockSize;
    const torch::Tensor scales = blockAbsmax(q, b0, (e1 + q.blockSize - 1) / q.blockSize - b0).contiguous();
    torch::Tensor out = torch::empty({count, q.cols}, torch::TensorOptions().dtype(dtype));
    const float* s = scales.data_ptr<float>();
    if (dtype == torch::kFloat32)
        unpackRows(q, e0, e1, s, out.data_ptr<float>());
    else if (dtype == torch::kBFloat16)
        unpackRows(q, e0, e1, s, out.data_ptr<c10::BFloat16>());
    else if (dtype == torch::kFloat16)
        unpackRows(q, e0, e1, s, out.data_ptr<c10::Half>());
    else
        throw Error(std::string("4-bit weights dequantize to fp32, bf16 or fp16, not ") + c10::toString(dtype));
    return out;
}

torch::Tensor dequantizeFourBitRowsWithTorchOps(const FourBitWeight& q, std::int64_t first, std::int64_t count,
                                                torch::ScalarType dtype)
{
    checkRows(first, count, q.rows, fourBitRowStep(q));
    const std::int64_t e0 = first * q.cols;
    const std::int64_t e1 = (first + count) * q.cols;
    const std::int64_t b0 = e0 / q.blockSize;
    const std::int64_t n = e1 - e0;
    // The values of both nibbles of every byte: [256, 2], formed where the
    // weight is (FP4's nibble 8 read as -0.0, as on the CPU).
    torch::Tensor value = q.code.clone();
    if (q.type == FourBitType::Fp4) value.narrow(0, 8, 1).neg_();
    const torch::Tensor byteValues = torch::arange(256, q.packed.options().dtype(torch::kLong));
    const torch::Tensor pairs = torch::stack({value.index_select(0, byteValues.div(16, "floor")),
                                             value.index_select(0, byteValues.remainder(16))}, 1);
    const torch::Tensor bytes = q.packed.view({-1}).narrow(0, e0 / 2, (n + 1) / 2).to(torch::kLong);
    torch::Tensor values = torch::embedding(pairs, bytes).view({-1}).narrow(0, 0, n);
    const torch::Tensor scales = blockAbsmax(q, b0, (e1 + q.blockSize - 1) / q.blockSize - b0);
    const std::int64_t whole = n / q.blockSize;
    if (whole > 0)
        values.narrow(0, 0, whole * q.blockSize).view({whole, q.blockSize}).mul_(scales.narrow(0, 0, whole).unsqueeze(1));
    if (n > whole * q.blockSize) values.narrow(0, whole * q.blockSize, n - whole * q.blockSize).mul_(scales[whole]);
    return values.view({count, q.cols}).to(dtype);
}

} // namespace loralab
