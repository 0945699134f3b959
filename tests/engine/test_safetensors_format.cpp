// The safetensors header parser on well-formed and malformed files: every
// malformed one must give an Error naming the file and the problem.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/io/safetensors_format.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstring>

using namespace loralab;

namespace {

std::string withHeader(const std::string& json, std::size_t dataBytes)
{
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    std::memcpy(out.data(), &n, 8); // little-endian host
    return out + json + std::string(dataBytes, '\0');
}

StHeader parse(const std::string& bytes)
{
    return parseSafetensorsHeader(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "weights.safetensors");
}

} // namespace

class SafetensorsFormatTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void safetensors_header_roundtrip();
    void safetensors_fixture_headers_parse();
    void safetensors_rejects_malformed_headers();
};
REGISTER_TESTS(SafetensorsFormatTests);

void SafetensorsFormatTests::safetensors_header_roundtrip()
{
    std::vector<StTensorEntry> entries(2);
    entries[0].name = "a";
    entries[0].dtype = StDType::BF16;
    entries[0].shape = {3, 5};
    entries[1].name = "b.weight";
    entries[1].dtype = StDType::I64;
    entries[1].shape = {4};
    const std::string header = buildSafetensorsHeader(entries, {{"format", "pt"}});
    QCOMPARE(header.size() % 8, 0u);
    const std::string file = header + std::string(3 * 5 * 2 + 4 * 8, '\0');
    const StHeader parsed = parse(file);
    QVERIFY(parsed.tensors.size() == 2u);
    QCOMPARE(parsed.tensors[0].name, std::string("a"));
    QVERIFY(parsed.tensors[0].dtype == StDType::BF16);
    QCOMPARE(parsed.tensors[1].begin, 30u);
    QCOMPARE(parsed.tensors[1].end, 62u);
    QCOMPARE(parsed.metadata.at("format"), std::string("pt"));
    QCOMPARE(parsed.dataOffset, header.size());
}

void SafetensorsFormatTests::safetensors_fixture_headers_parse()
{
    const MappedFile file(test::fixtureModel("tiny-gpt-neox") / "model.safetensors");
    const StHeader h = parseSafetensorsHeader(file.data(), file.size(), file.path());
    QVERIFY(h.tensors.size() > 20);
    for (const auto& t : h.tensors) QVERIFY(t.dtype == StDType::F16);
}

void SafetensorsFormatTests::safetensors_rejects_malformed_headers()
{
    VERIFY_THROWS_WITH(parse("abc"), "weights.safetensors", "truncated");
    VERIFY_THROWS_WITH(parse(withHeader("{}", 0).substr(0, 9)), "weights.safetensors", "runs past the end");
    std::string huge = withHeader("{}", 0);
    huge[7] = '\x7f';
    VERIFY_THROWS_WITH(parse(huge), "weights.safetensors", "header length");
    VERIFY_THROWS_WITH(parse(withHeader("{\"a\": {\"dtype\": \"F32\"", 0)), "weights.safetensors", "not valid JSON");
    VERIFY_THROWS_WITH(parse(withHeader("[1, 2]", 0)), "not a JSON object");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}})", 4)),
                       "weights.safetensors", "unknown dtype 'Q4'");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}})", 8)),
                       "weights.safetensors", "'a'", "past the end");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8)),
                       "'a'", "shape and dtype need 12");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12)),
                       "weights.safetensors", "overlapping");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8)), "negative");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8)), "begin after");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]}})", 8)),
                       "overflows");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": 5})", 0)), "not a JSON object");
    VERIFY_THROWS_WITH(parse(withHeader(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4)), "data_offsets");
}

#include "test_safetensors_format.moc"
