// The Torch-free half of GGUF export: fp16 rounding and Q8_0 blocks as ggml
// defines them, the writer's checks and errors, a file with every metadata
// type (read back by tests/python/check_gguf.py with gguf-py), and the
// tokenizer metadata of the fixture models.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/export/gguf_vocab.h"
#include "engine/export/gguf_writer.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace {

namespace fs = std::filesystem;
using loralab::test::fixtureModel;
using loralab::test::scratchDir;
using namespace loralab;

class GgufWriterTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void gguf_half_rounding();
    void gguf_q8_0_blocks();
    void gguf_writer_errors();
    void gguf_writer_every_type();
    void gguf_vocab_byte_level_bpe();
    void gguf_vocab_sentencepiece();
    void gguf_vocab_refuses_what_llama_cpp_cannot_read();
};
REGISTER_TESTS(GgufWriterTests);

void GgufWriterTests::gguf_half_rounding()
{
    QCOMPARE(floatToHalf(1.0f), 0x3C00);
    QCOMPARE(floatToHalf(-2.0f), 0xC000);
    QCOMPARE(floatToHalf(65504.0f), 0x7BFF);
    QCOMPARE(floatToHalf(65519.0f), 0x7BFF);
    QCOMPARE(floatToHalf(65520.0f), 0x7C00); // halfway to 65536 rounds to even: infinity
    QCOMPARE(floatToHalf(-1e30f), 0xFC00);
    QCOMPARE(floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // the smallest subnormal
    QCOMPARE(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // halfway to it rounds to even: zero
    QCOMPARE(floatToHalf(std::ldexp(1.5f, -25)), 0x0001);
    QCOMPARE(floatToHalf(std::ldexp(1.0f, -14)), 0x0400); // the smallest normal
    QCOMPARE(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00); // a tie, to the even mantissa
    QCOMPARE(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
    QCOMPARE(floatToHalf(std::numeric_limits<float>::infinity()), 0x7C00);
    const std::uint16_t nan = floatToHalf(std::numeric_limits<float>::quiet_NaN());
    QVERIFY((nan & 0x7C00) == 0x7C00 && (nan & 0x3FF) != 0);
    // Every half that is a number comes back as itself.
    int mismatches = 0;
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const auto bits = static_cast<std::uint16_t>(h);
        if ((bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0) continue;
        if (floatToHalf(halfToFloat(bits)) != bits) ++mismatches;
    }
    QCOMPARE(mismatches, 0);
    QCOMPARE(halfToFloat(0x3555), 0.333251953125f);
}

void GgufWriterTests::gguf_q8_0_blocks()
{
    std::vector<float> x(64);
    for (int i = 0; i < 32; ++i) x[i] = 0.5f * i - 8.0f; // max |x| = 8
    // The second block is zero: scale 0, every q 0.
    std::vector<std::uint8_t> out(2 * kQ8BlockBytes, 0xAB);
    quantizeQ8_0(x.data(), x.size(), out.data());
    std::uint16_t dBits = 0;
    std::memcpy(&dBits, out.data(), 2);
    QCOMPARE(dBits, floatToHalf(8.0f / 127.0f));
    const float d = halfToFloat(dBits);
    for (int i = 0; i < 32; ++i) {
        const auto q = static_cast<std::int8_t>(out[2 + i]);
        QCOMPARE(static_cast<int>(q), static_cast<int>(std::round(x[i] / (8.0f / 127.0f))));
        QVERIFY(std::fabs(d * q - x[i]) <= 0.5f * d + std::fabs(x[i]) * 1e-3f);
    }
    QCOMPARE(static_cast<int>(static_cast<std::int8_t>(out[2])), -127);
    std::uint16_t zeroScale = 1;
    std::memcpy(&zeroScale, out.data() + kQ8BlockBytes, 2);
    QCOMPARE(zeroScale, 0);
    for (std::size_t i = 0; i < 32; ++i) QCOMPARE(out[kQ8BlockBytes + 2 + i], 0);
    VERIFY_THROWS_WITH(quantizeQ8_0(x.data(), 40, out.data()), "blocks of 32");
}

void GgufWriterTests::gguf_writer_errors()
{
    const fs::path dir = scratchDir("gguf-writer-errors");
    GgufWriter w;
    w.addUint32("x.count", 3);
    VERIFY_THROWS_WITH(w.addInt32("x.count", 4), "x.count", "twice");
    VERIFY_THROWS_WITH(w.addTensor("t", {4, 48}, GgmlType::Q8_0, {}), "'t'", "multiple of 32");
    VERIFY_THROWS_WITH(w.addTensor("z", {0, 32}, GgmlType::F32, {}), "'z'", "dimension of 0");
    VERIFY_THROWS_WITH(GgufWriter(12), "multiple of 8");
    w.addTensor("short", {2, 32}, GgmlType::F16, [] { return std::vector<float>(10, 1.0f); });
    VERIFY_THROWS_WITH(w.write(dir / "short.gguf"), (dir / "short.gguf").string(), "'short'", "10 values for 64");
    // Whole or absent: nothing is left behind, not even the temporary file.
    QVERIFY(fs::is_empty(dir));
    writeFileAtomic(dir / "a-file", "x");
    GgufWriter ok;
    VERIFY_THROWS_WITH(ok.write(dir / "a-file" / "model.gguf"), (dir / "a-file" / "model.gguf").string());
}

void GgufWriterTests::gguf_writer_every_type()
{
    // Read back by tests/python/check_gguf.py, which compares every value with
    // the JSON written beside it.
    const fs::path dir = scratchDir("gguf-writer");
    nlohmann::json expected;
    GgufWriter w(64);
    w.addUint32("test.uint32", 4000000000u);
    w.addInt32("test.int32", -123456);
    w.addFloat32("test.float32", 0.15625f);
    w.addBool("test.true", true);
    w.addBool("test.false", false);
    w.addString("test.string", "h\xC3\xA9llo \xE2\x96\x81world");
    w.addStringArray("test.strings", {"a", "", "\xC4\xA0the", "x y"});
    w.addInt32Array("test.int32s", {1, -2, 2147483647});
    w.addFloat32Array("test.float32s", {0.5f, -1.25f, 3e-8f});
    QVERIFY(w.hasKey("general.alignment"));
    const auto values = [](std::int64_t n, float scale) {
        std::vector<float> v(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = scale * std::sin(0.37f * static_cast<float>(i) + 0.1f);
        return v;
    };
    const std::vector<std::tuple<std::string, std::vector<std::int64_t>, GgmlType, float>> tensors = {
        {"f32.vector", {5}, GgmlType::F32, 3.0f},
        {"f16.matrix", {3, 7}, GgmlType::F16, 70000.0f / 3}, // values up to 23333: within fp16
        {"q8_0.matrix", {4, 64}, GgmlType::Q8_0, 0.02f},
        {"f32.cube", {2, 3, 4}, GgmlType::F32, 1.0f}};
    for (const auto& [name, shape, type, scale] : tensors) {
        std::int64_t n = 1;
        for (const auto d : shape) n *= d;
        w.addTensor(name, shape, type, [values, n, scale = scale] { return values(n, scale); });
        expected["tensors"][name] = {{"shape", shape}, {"type", ggmlTypeName(type)}, {"values", values(n, scale)}};
    }
    w.write(dir / "every-type.gguf");
    QCOMPARE(w.tensorCount(), tensors.size());
    writeFileAtomic(dir / "every-type.json", expected.dump(1));
    // The header: magic, version 3, 4 tensors, 10 keys (general.alignment first).
    const std::string bytes = readTextFile(dir / "every-type.gguf");
    QVERIFY(bytes.size() > 24);
    QVERIFY(bytes.compare(0, 4, "GGUF") == 0);
    std::uint32_t version = 0;
    std::uint64_t tensorCount = 0, keyCount = 0;
    std::memcpy(&version, bytes.data() + 4, 4);
    std::memcpy(&tensorCount, bytes.data() + 8, 8);
    std::memcpy(&keyCount, bytes.data() + 16, 8);
    QCOMPARE(version, 3u);
    QCOMPARE(tensorCount, 4u);
    QCOMPARE(keyCount, 10u);
}

void GgufWriterTests::gguf_vocab_byte_level_bpe()
{
    for (const auto& [name, pre] : {std::pair{"tiny-gpt-neox", "gpt-2"}, std::pair{"tiny-qwen2", "qwen2"}}) {
        const fs::path dir = fixtureModel(name);
        const auto tokenizer = loadTokenizer(dir);
        const nlohmann::json file = nlohmann::json::parse(readTextFile(dir / "tokenizer.json"));
        const GgufVocab v = ggufVocab(*tokenizer, dir, 512, 0, 0);
        QVERIFY(v.model == "gpt2");
        QVERIFY(v.pre == pre);
        QVERIFY(v.tokens.size() == 512u);
        QVERIFY(v.tokenTypes.size() == 512u);
        QVERIFY(v.scores.empty());
        QCOMPARE(v.merges.size(), file["model"]["merges"].size());
        QVERIFY(v.merges[0] == file["model"]["merges"][0][0].get<std::string>() + " " + file["model"]["merges"][0][1].get<std::string>());
        for (std::int64_t id = 0; id < tokenizer->vocabSize(); ++id) QVERIFY(v.tokens[static_cast<std::size_t>(id)] == tokenizer->tokenText(id));
        QCOMPARE(v.tokenTypes[0], static_cast<std::int32_t>(GgufTokenType::Control)); // <|endoftext|>, special
        QCOMPARE(v.tokenTypes[300], static_cast<std::int32_t>(GgufTokenType::Normal));
        QVERIFY(v.tokens[511] == "[PAD511]"); // ids the tokenizer lacks
        QCOMPARE(v.tokenTypes[511], static_cast<std::int32_t>(GgufTokenType::Unused));
        QCOMPARE(v.eosId, 0);
        QCOMPARE(v.bosId, 0); // none in the tokenizer: the model config's
    }
}

void GgufWriterTests::gguf_vocab_sentencepiece()
{
    const fs::path dir = fixtureModel("tiny-llama-spm");
    const auto tokenizer = loadTokenizer(dir);
    const GgufVocab v = ggufVocab(*tokenizer, dir, 512, -1, -1);
    QVERIFY(v.model == "llama");
    QVERIFY(v.pre == "default");
    QVERIFY(v.tokens.size() == 512u);
    QVERIFY(v.scores.size() == 512u);
    QVERIFY(v.merges.empty());
    for (std::int64_t id = 0; id < tokenizer->vocabSize(); ++id) QVERIFY(v.tokens[static_cast<std::size_t>(id)] == tokenizer->tokenText(id));
    QCOMPARE(v.unkId, 0);
    QCOMPARE(v.bosId, 1);
    QCOMPARE(v.eosId, 2);
    QCOMPARE(v.tokenTypes[0], static_cast<std::int32_t>(GgufTokenType::Unknown));
    QCOMPARE(v.tokenTypes[1], static_cast<std::int32_t>(GgufTokenType::Control));
    QCOMPARE(v.addBos, 0); // tokenizer_config.json: add_bos_token false
    QCOMPARE(v.addSpacePrefix, 1);
    // Byte pieces keep their type; later pieces have falling scores.
    const auto byte = tokenizer->tokenId("<0x0A>");
    QVERIFY(byte > 0);
    QCOMPARE(v.tokenTypes[static_cast<std::size_t>(byte)], static_cast<std::int32_t>(GgufTokenType::Byte));
    const auto last = static_cast<std::size_t>(tokenizer->vocabSize() - 1);
    QVERIFY(v.scores[last] < v.scores[last - 50]);
}

void GgufWriterTests::gguf_vocab_refuses_what_llama_cpp_cannot_read()
{
    const fs::path source = fixtureModel("tiny-gpt-neox");
    const auto tokenizer = loadTokenizer(source);
    const fs::path dir = scratchDir("gguf-vocab-refused");
    nlohmann::json file = nlohmann::json::parse(readTextFile(source / "tokenizer.json"));
    file["pre_tokenizer"]["add_prefix_space"] = true;
    writeFileAtomic(dir / "tokenizer.json", file.dump());
    VERIFY_THROWS_WITH(ggufVocab(*tokenizer, dir, 512, 0, 0), (dir / "tokenizer.json").string(), "pre_tokenizer", "no llama.cpp equivalent");
    VERIFY_THROWS_WITH(ggufVocab(*tokenizer, source, 256, 0, 0), "more than the model's 256-row embedding");
    VERIFY_THROWS_WITH(ggufVocab(*tokenizer, dir / "missing", 512, 0, 0), "neither tokenizer.json nor tokenizer.model");
    // A tokenizer.model cut short is refused with its name, not read past its end.
    const std::string spm = readTextFile(fixtureModel("tiny-llama-spm") / "tokenizer.model");
    writeFileAtomic(dir / "cut" / "tokenizer.model", spm.substr(0, spm.size() / 2));
    const auto llama = loadTokenizer(fixtureModel("tiny-llama-spm"));
    VERIFY_THROWS_WITH(ggufVocab(*llama, dir / "cut", 512, 1, 2), (dir / "cut" / "tokenizer.model").string());
}

} // namespace

#include "test_gguf_writer.moc"
