// Quantized frozen base weights and their chunked product; see quantized_linear.h.
#include "engine/quant/quantized_linear.h"

#include "engine/util/error.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/torch.h>

#include <algorithm>

namespace loralab {
namespace {

std::int64_t tensorBytes(const torch::Tensor& t)
{
    return t.defined() ? t.numel() * static_cast<std::int64_t>(t.element_size()) : 0;
}

// Carries the weight into backward: autograd's saved data holds IValues, and
// a capsule is the IValue for an object of LoRA Lab's own.
struct QuantizedWeightCapsule : torch::CustomClassHolder {
    explicit QuantizedWeightCapsule(std::shared_ptr<const QuantizedWeight> w) : weight(std::move(w)) {}
    std::shared_ptr<const QuantizedWeight> weight;
};

// y = x W^T + b over blocks of W's rows; x [N, in], y [N, out].
class QuantizedLinearFunction : public torch::autograd::Function<QuantizedLinearFunction> {
public:
    // The bias is optional rather than an undefined tensor: autograd takes
    // every tensor argument for an input with a device.
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const c10::optional<torch::Tensor>& bias, std::shared_ptr<const QuantizedWeight> w)
    {
        const std::int64_t rows = w->rows();
        const std::int64_t step = quantizedChunkRows(*w);
        torch::Tensor y = torch::empty({x.size(0), rows}, x.options());
        for (std::int64_t first = 0; first < rows; first += step) {
            const std::int64_t count = std::min(step, rows - first);
            // The block's columns of y are a strided view that the matrix
            // product writes in place (leading dimension `rows`).
            torch::Tensor part = y.narrow(1, first, count);
            torch::mm_out(part, x, w->dequantizeRows(first, count, x.scalar_type()).t());
        }
        if (bias) y.add_(*bias);
        ctx->saved_data["bias"] = bias.has_value();
        ctx->saved_data["weight"] = c10::IValue::make_capsule(c10::make_intrusive<QuantizedWeightCapsule>(std::move(w)));
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads)
    {
        const auto capsule = c10::static_intrusive_pointer_cast<QuantizedWeightCapsule>(ctx->saved_data["weight"].toCapsule());
        const QuantizedWeight& w = *capsule->weight;
        const torch::Tensor& dy = grads[0]; // [N, out]
        torch::Tensor dx;
        if (ctx->needs_input_grad(0)) {
            const std::int64_t step = quantizedChunkRows(w);
            for (std::int64_t first = 0; first < w.rows(); first += step) {
                const std::int64_t count = std::min(step, w.rows() - first);
                const torch::Tensor block = w.dequantizeRows(first, count, dy.scalar_type()); // [count, in]
                const torch::Tensor dyPart = dy.narrow(1, first, count);
                if (dx.defined())
                    dx.addmm_(dyPart, block);
                else
                    dx = torch::mm(dyPart, block);
            }
        }
        // Without a bias, x is the only input autograd tracks.
        const bool withBias = ctx->saved_data["bias"].toBool();
        const torch::Tensor dbias = withBias && ctx->needs_input_grad(1) ? dy.sum(0) : torch::Tensor();
        return {dx, dbias, torch::Tensor()};
    }
};

} // namespace

std::int64_t QuantizedWeight::rows() const { return kind == BaseQuantization::Int8 ? int8.codes.size(0) : fourBit.rows; }

std::int64_t QuantizedWeight::cols() const { return kind == BaseQuantization::Int8 ? int8.codes.size(1) : fourBit.cols; }

torch::Device QuantizedWeight::device() const
{
    return kind == BaseQuantization::Int8 ? int8.codes.device() : fourBit.packed.device();
}

std::int64_t QuantizedWeight::bytes() const
{
    if (kind == BaseQuantization::Int8) return tensorBytes(int8.codes) + tensorBytes(int8.scale);
    const FourBitWeight& q = fourBit;
    return tensorBytes(q.packed) + tensorBytes(q.absmax) + tensorBytes(q.code) + tensorBytes(q.offset) +
           tensorBytes(q.nestedAbsmax) + tensorBytes(q.nestedCode);
}

std::int64_t QuantizedWeight::rowStep() const { return kind == BaseQuantization::Int8 ? 1 : fourBitRowStep(fourBit); }

torch::Tensor QuantizedWeight::dequantizeRows(std::int64_t first, std::int64_t count, torch::ScalarType dtype) const
{
    if (kind == BaseQuantization::Int8) return dequantizeInt8Rows(int8, first, count, dtype);
    return dequantizeFourBitRows(fourBit, first, count, dtype);
}

std::vector<std::pair<std::string, torch::Tensor*>> QuantizedWeight::tensors()
{
    if (kind == BaseQuantization::Int8) return {{"weight_codes", &int8.codes}, {"weight_scale", &int8.scale}};
    std::vector<std::pair<std::string, torch::Tensor*>> out = {
        {"weight_packed", &fourBit.packed}, {"weight_absmax", &fourBit.absmax}, {"weight_quant_map", &fourBit.code}};
    if (fourBit.nested) {
        out.emplace_back("weight_offset", &fourBit.offset);
        out.emplace_back("weight_nested_absmax", &fourBit.nestedAbsmax);
        out.emplace_back("weight_nested_quant_map", &fourBit.nestedCode);
    }
    return out;
}

QuantizedWeight quantizeWeight(const torch::Tensor& weight, BaseQuantization kind, bool doubleQuant, std::int64_t blockSize,
                               torch::ScalarType computeDtype, const std::string& what)
{
    if (computeDtype != torch::kFloat32 && computeDtype != torch::kBFloat16 && computeDtype != torch::kFloat16)
        throw Error(what + ": quantized weights compute in fp32, bf16 or fp16, not " + c10::toString(computeDtype));
    QuantizedWeight q;
    q.kind = kind;
    q.computeDtype = computeDtype;
    if (kind == BaseQuantization::Int8)
        q.int8 = quantizeInt8(weight, what);
    else if (isFourBit(kind))
        q.fourBit = quantizeFourBit(weight, kind == BaseQuantization::Nf4 ? FourBitType::Nf4 : FourBitType::Fp4, doubleQuant,
                                    blockSize, what);
    else
        throw Error(what + ": no quantization format given");
    return q;
}

std::int64_t quantizedChunkRows(std::int64_t rows, std::int64_t cols, std::int64_t rowStep)
{
    const std::int64_t fit = std::max<std::int64_t>(1, kQuantizedChunkElements / std::max<std::int64_t>(1, cols));
    return std::max<std::int64_t>(1, std::min(rows, std::max(rowStep, fit / rowStep * rowStep)));
}

std::int64_t quantizedChunkRows(const QuantizedWeight& w) { return quantizedChunkRows(w.rows(), w.cols(), w.rowStep()); }

torch::Tensor quantizedLinear(const torch::Tensor& x, const std::shared_ptr<const QuantizedWeight>& w, const torch::Tensor& bias)
{
    if (x.size(-1) != w->cols())
        throw Error("a quantized linear layer takes " + std::to_string(w->cols()) + " input features, got " +
                    std::to_string(x.size(-1)));
    const torch::ScalarType inputDtype = x.scalar_type();
    const torch::Tensor x2d = x.to(w->computeDtype).reshape({-1, w->cols()});
    const c10::optional<torch::Tensor> b = bias.defined() ? c10::optional<torch::Tensor>(bias.to(w->computeDtype)) : c10::nullopt;
    std::vector<std::int64_t> shape = x.sizes().vec();
    shape.back() = w->rows();
    return QuantizedLinearFunction::apply(x2d, b, w).view(shape).to(inputDtype);
}

} // namespace loralab
