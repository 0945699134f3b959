// Quantized base weights against bitsandbytes 0.50.2 on the CPU: int8 codes
// and scales, NF4 / FP4 packed bytes and every QuantState field (plain and
// double-quantized), and their dequantization, for weights with outliers, rows
// of zeros, exact rounding ties and shapes that are not a multiple of 64
// (reference data: tests/data/make_quant_fixtures.py). Also the chunked
// product against a dense one, and what is refused.
#include "fixture_reference.h"
#include "engine_test.h"

#include "engine/io/safetensors.h"
#include "engine/quant/base_quantization.h"
#include "engine/quant/quant_format.h"
#include "engine/quant/quantized_linear.h"
#include "engine/util/error.h"

using namespace loralab;
using namespace loralab::test;

namespace {

const char* kFormatCases[] = {"random", "random_bf16", "outliers", "zeros_and_ties", "ragged", "odd", "many_blocks"};

SafetensorsFile formatFile(const std::string& name)
{
    return SafetensorsFile(dataDir() / "quant" / ("format_" + name + ".safetensors"));
}

// The weight as bitsandbytes quantized it: values stored as F16 were
// quantized as float32; the bf16 case as bfloat16.
torch::Tensor formatInput(const SafetensorsFile& file)
{
    const torch::Tensor w = file.load("input");
    return w.scalar_type() == torch::kFloat16 ? w.to(torch::kFloat32) : w;
}

// Equal shape, dtype and bits (so -0.0 differs from 0.0); prints what differs.
bool sameBits(const std::string& what, const torch::Tensor& ours, const torch::Tensor& theirs)
{
    if (ours.sizes() != theirs.sizes() || ours.scalar_type() != theirs.scalar_type()) {
        std::cout << what << ": shape/dtype " << ours.sizes() << " " << ours.scalar_type() << " vs " << theirs.sizes()
                  << " " << theirs.scalar_type() << "\n";
        return false;
    }
    const auto bits = [](const torch::Tensor& t) {
        const auto c = t.contiguous().cpu();
        switch (c.element_size()) {
        case 4: return c.view(torch::kInt32);
        case 2: return c.view(torch::kInt16);
        default: return c.view(torch::kUInt8);
        }
    };
    const std::int64_t differ = (bits(ours) != bits(theirs)).sum().item<std::int64_t>();
    if (differ != 0) std::cout << what << ": " << differ << " of " << ours.numel() << " values differ\n";
    return differ == 0;
}

void checkInt8(const std::string& name)
{
    const SafetensorsFile file = formatFile(name);
    const Int8Weight q = quantizeInt8(formatInput(file), name);
    QVERIFY(sameBits(name + " int8 codes", q.codes, file.load("int8.codes")));
    QVERIFY(sameBits(name + " int8 scale", q.scale, file.load("int8.scale")));
    if (!file.contains("int8.dequant")) return;
    const torch::Tensor ours = dequantizeInt8Rows(q, 0, q.codes.size(0), torch::kFloat32);
    const double err = maxAbsError(ours, file.load("int8.dequant"));
    std::cout << name << " int8 dequantized: max abs error " << err << "\n";
    QVERIFY(err <= 1e-6);
}

void checkFourBit(const std::string& name, FourBitType type)
{
    const SafetensorsFile file = formatFile(name);
    const torch::Tensor w = formatInput(file);
    for (const bool nested : {false, true}) {
        const std::string key = std::string(type == FourBitType::Nf4 ? "nf4" : "fp4") + (nested ? ".double." : ".plain.");
        const std::string what = name + " " + key;
        const FourBitWeight q = quantizeFourBit(w, type, nested, 64, name);
        QCOMPARE(q.rows, w.size(0));
        QCOMPARE(q.cols, w.size(1));
        QCOMPARE(q.nested, nested);
        QVERIFY(sameBits(what + "packed", q.packed, file.load(key + "packed")));
        QVERIFY(sameBits(what + "absmax", q.absmax, file.load(key + "absmax")));
        QVERIFY(sameBits(what + "code", q.code, file.load(key + "code")));
        if (nested) {
            QVERIFY(sameBits(what + "offset", q.offset, file.load(key + "offset")));
            QVERIFY(sameBits(what + "state2.absmax", q.nestedAbsmax, file.load(key + "state2.absmax")));
            QVERIFY(sameBits(what + "state2.code", q.nestedCode, file.load(key + "state2.code")));
        }
        // Dequantized as a whole, by the CPU loop and by LibTorch operations
        // (the GPU's path): within 1e-6 of bitsandbytes in fp32 (the same
        // products of two fp32 values, so in fact equal), and the bf16 values
        // bit for bit (both round that fp32 product to nearest even).
        for (const bool torchOps : {false, true}) {
            const auto dequantize = [&](torch::ScalarType dtype) {
                return torchOps ? dequantizeFourBitRowsWithTorchOps(q, 0, q.rows, dtype)
                                : dequantizeFourBitRows(q, 0, q.rows, dtype);
            };
            if (file.contains(key + "dequant")) {
                const double err = maxAbsError(dequantize(torch::kFloat32), file.load(key + "dequant"));
                std::cout << what << "dequantized (" << (torchOps ? "LibTorch ops" : "CPU loop") << "): max abs error "
                          << err << "\n";
                QVERIFY(err <= 1e-6);
            }
            if (file.contains(key + "dequant_bf16"))
                QVERIFY(sameBits(what + "dequant_bf16", dequantize(torch::kBFloat16), file.load(key + "dequant_bf16")));
        }
    }
}

} // namespace

class QuantizationParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void quant_int8_codes_and_scales();
    void quant_nf4_packed_bytes_and_quant_state();
    void quant_fp4_packed_bytes_and_quant_state();
};
REGISTER_TESTS(QuantizationParityTests);

class QuantizationTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void quant_rows_in_blocks_equal_the_whole();
    void quant_product_in_row_blocks_nf4();
    void quant_product_in_row_blocks_int8_bf16();
    void quant_unknown_name_lists_the_choices();
    void quant_refuses_what_it_cannot_hold();
};
REGISTER_TESTS(QuantizationTests);

void QuantizationParityTests::quant_int8_codes_and_scales()
{
    for (const char* name : kFormatCases) checkInt8(name);
}

void QuantizationParityTests::quant_nf4_packed_bytes_and_quant_state()
{
    for (const char* name : kFormatCases) checkFourBit(name, FourBitType::Nf4);
}

void QuantizationParityTests::quant_fp4_packed_bytes_and_quant_state()
{
    for (const char* name : kFormatCases) checkFourBit(name, FourBitType::Fp4);
}

void QuantizationTests::quant_rows_in_blocks_equal_the_whole()
{
    // Rows of 70 values: blocks run across rows, so a range of rows starts on
    // a block boundary only every 32 rows (64 / gcd(70, 64)).
    torch::manual_seed(5);
    const torch::Tensor w = torch::randn({100, 70}) * 0.05;
    for (const FourBitType type : {FourBitType::Nf4, FourBitType::Fp4}) {
        const FourBitWeight q = quantizeFourBit(w, type, true, 64, "w");
        QVERIFY(fourBitRowStep(q) == 32);
        const torch::Tensor whole = dequantizeFourBitRows(q, 0, 100, torch::kFloat32);
        QVERIFY(torch::equal(dequantizeFourBitRows(q, 32, 68, torch::kFloat32), whole.narrow(0, 32, 68)));
        QVERIFY(torch::equal(dequantizeFourBitRowsWithTorchOps(q, 64, 36, torch::kFloat32), whole.narrow(0, 64, 36)));
        VERIFY_THROWS_WITH(dequantizeFourBitRows(q, 10, 5, torch::kFloat32), "rows 10");
        // Quantization error is bounded by half the widest gap of the code book times the block absmax.
        QVERIFY((whole - w).abs().max().item<double>() <= 0.5 * 0.34 * w.abs().max().item<double>());
    }
}

namespace {

// The quantized product against the dense one with the dequantized weight:
// outputs and the gradients of x and the bias, over more than one block of rows.
void checkQuantizedProduct(BaseQuantization kind, std::int64_t rows, std::int64_t cols, torch::ScalarType dtype)
{
    torch::manual_seed(11);
    const torch::Tensor dense = torch::randn({rows, cols}) * 0.02;
    auto w = std::make_shared<QuantizedWeight>(quantizeWeight(dense, kind, true, 64, dtype, "w"));
    QVERIFY(quantizedChunkRows(*w) < rows); // more than one block
    const torch::Tensor deq = w->dequantize(dtype);
    const torch::Tensor x = torch::randn({3, 5, cols}).requires_grad_(true);
    const torch::Tensor bias = (torch::randn({rows}) * 0.1).requires_grad_(true);
    const torch::Tensor y = quantizedLinear(x, w, bias);
    QCOMPARE(y.scalar_type(), torch::kFloat32);
    const torch::Tensor xr = x.detach().clone().requires_grad_(true);
    const torch::Tensor br = bias.detach().clone().requires_grad_(true);
    const torch::Tensor yr = torch::nn::functional::linear(xr.to(dtype), deq, br.to(dtype)).to(torch::kFloat32);
    const double tol = dtype == torch::kFloat32 ? 1e-5 : 5e-3;
    QVERIFY(relativeL2Error(y, yr) <= tol);
    const torch::Tensor dy = torch::randn_like(y);
    (y * dy).sum().backward();
    (yr * dy).sum().backward();
    QVERIFY(relativeL2Error(x.grad(), xr.grad()) <= tol);
    QVERIFY(relativeL2Error(bias.grad(), br.grad()) <= tol);
    for (auto& [name, t] : w->tensors()) QVERIFY(!t->requires_grad());
}

} // namespace

void QuantizationTests::quant_product_in_row_blocks_nf4()
{
    // 4,200 rows of 1,000: blocks of 4,192 rows (a multiple of 64 / gcd(1000, 64) = 8) and 8.
    checkQuantizedProduct(BaseQuantization::Nf4, 4200, 1000, torch::kFloat32);
}

void QuantizationTests::quant_product_in_row_blocks_int8_bf16()
{
    checkQuantizedProduct(BaseQuantization::Int8, 4200, 1024, torch::kBFloat16);
}

void QuantizationTests::quant_unknown_name_lists_the_choices()
{
    QVERIFY(parseChoice<BaseQuantization>("nf4") == BaseQuantization::Nf4);
    QVERIFY(parseChoice<BaseQuantization>("none") == BaseQuantization::None);
    for (const BaseQuantization k : {BaseQuantization::None, BaseQuantization::Int8, BaseQuantization::Nf4, BaseQuantization::Fp4})
        QVERIFY(parseChoice<BaseQuantization>(choiceName(k)) == k);
    VERIFY_THROWS_WITH(parseChoice<BaseQuantization>("q4_0"), "base_quantization: must be none, int8, nf4 or fp4", "\"q4_0\"");
    VERIFY_THROWS_WITH(parseChoice<BaseQuantization>("NF4"), "\"NF4\"", "none, int8, nf4 or fp4");
}

void QuantizationTests::quant_refuses_what_it_cannot_hold()
{
    torch::Tensor w = torch::randn({8, 64});
    VERIFY_THROWS_WITH(quantizeFourBit(w, FourBitType::Nf4, false, 48, "layers.0.mlp"), "layers.0.mlp", "block size 48");
    VERIFY_THROWS_WITH(quantizeWeight(w, BaseQuantization::Nf4, false, 64, torch::kInt8, "layers.0.mlp"), "fp32, bf16 or fp16");
    w[3][5] = std::numeric_limits<float>::infinity();
    VERIFY_THROWS_WITH(quantizeInt8(w, "layers.1.attn"), "layers.1.attn", "inf or NaN");
    VERIFY_THROWS_WITH(quantizeFourBit(w, FourBitType::Fp4, true, 64, "layers.1.attn"), "layers.1.attn", "inf or NaN");
    VERIFY_THROWS_WITH(quantizeInt8(torch::randn({4, 4, 4}), "conv"), "conv", "2-D");
}

#include "test_quantization.moc"
