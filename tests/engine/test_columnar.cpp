// The Parquet and Arrow IPC readers against files pyarrow and datasets wrote
// (tests/data/make_columnar_fixtures.py): every fixture reads as the rows
// pyarrow reads from it; column selection and row limits; unsupported
// encodings, codecs and types refused by name; truncated and damaged files
// refused with the file, column and row group named.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/data/columnar/arrow_ipc_reader.h"
#include "engine/data/columnar/columnar_file.h"
#include "engine/data/columnar/parquet_reader.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace loralab;
using Json = nlohmann::ordered_json;

namespace {

std::filesystem::path columnarDir() { return test::dataDir() / "columnar"; }
std::string fixture(const std::string& name) { return (columnarDir() / name).string(); }

Json manifest() { return Json::parse(readTextFile(columnarDir() / "manifest.json")); }

std::vector<Json> expectedRows(const std::string& jsonlName)
{
    std::vector<Json> rows;
    std::istringstream in(readTextFile(columnarDir() / jsonlName));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) rows.push_back(Json::parse(line));
    return rows;
}

// JSON has no bytes: the fixtures write them as {"bytes": [ints]}.
Json comparable(const Json& v)
{
    if (v.is_binary()) {
        Json bytes = Json::array();
        for (const std::uint8_t b : v.get_binary()) bytes.push_back(b);
        return Json{{"bytes", bytes}};
    }
    if (v.is_array() || v.is_object()) {
        Json out = v.is_array() ? Json::array() : Json::object();
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (v.is_array()) out.push_back(comparable(*it));
            else out[it.key()] = comparable(*it);
        }
        return out;
    }
    return v;
}

ColumnTable readAny(const std::string& name, const ColumnarReadOptions& options = {})
{
    return readColumnarFile(fixture(name), options);
}

// Every row of `table` equals the expected one; says which differs first.
void checkRows(const std::string& label, const ColumnTable& table, const std::vector<Json>& expected)
{
    QCOMPARE(table.rows, static_cast<std::int64_t>(expected.size()));
    for (std::int64_t i = 0; i < table.rows && i < static_cast<std::int64_t>(expected.size()); ++i) {
        const Json got = comparable(table.row(i));
        if (got != expected[static_cast<std::size_t>(i)]) {
            const std::string why = label + ": row " + std::to_string(i) + " is " + got.dump() + ", pyarrow reads " +
                                    expected[static_cast<std::size_t>(i)].dump();
            QFAIL(why.c_str());
        }
    }
}

// The tables of the manifest whose files end with `suffix`.
void checkManifestFiles(const std::vector<std::string>& suffixes)
{
    int files = 0;
    const Json all = manifest();
    for (const Json& table : all["tables"]) {
        const std::vector<Json> rows = expectedRows(table["rows"]);
        for (const Json& file : table["files"]) {
            const std::string name = file;
            bool wanted = false;
            for (const std::string& s : suffixes) wanted |= name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
            if (!wanted || name.rfind("refuse_", 0) == 0) continue;
            ++files;
            CALL_CHECKS(checkRows(name, readAny(name), rows));
        }
    }
    QVERIFY(files >= 3);
}

std::string readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A copy of a fixture, changed by `edit`, in a scratch folder.
std::string damagedCopy(const std::string& name, const std::string& as, const std::function<void(std::string&)>& edit)
{
    std::string bytes = readBytes(fixture(name));
    edit(bytes);
    const auto path = test::scratchDir("columnar-" + as) / as;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path.string();
}

} // namespace

class ColumnarTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void columnar_parquet_fixtures_read_as_pyarrow_reads_them();
    void columnar_arrow_fixtures_read_as_pyarrow_reads_them();
    void columnar_parquet_messages_are_lists_of_objects();
    void columnar_parquet_column_selection_keeps_the_order_asked();
    void columnar_max_rows_stops_inside_and_between_row_groups();
    void columnar_schema_lists_names_and_types();
    void columnar_missing_column_lists_the_columns();
    void columnar_unsupported_encodings_codecs_and_types_are_named();
    void columnar_truncated_files_are_refused_with_their_name();
    void columnar_bad_magic_is_refused();
    void columnar_format_is_told_by_its_first_bytes();
    void columnar_read_limit_is_a_clear_error();
    void columnar_missing_file_is_named();
};
REGISTER_TESTS(ColumnarTests);

void ColumnarTests::columnar_parquet_fixtures_read_as_pyarrow_reads_them()
{
    checkManifestFiles({".parquet"});
}

void ColumnarTests::columnar_arrow_fixtures_read_as_pyarrow_reads_them()
{
    checkManifestFiles({".arrow", ".arrows"});
}

void ColumnarTests::columnar_parquet_messages_are_lists_of_objects()
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    ColumnarReadOptions o;
    o.columns = {"messages"};
    const ColumnTable t = readParquet(fixture("main_dict_v1_snappy.parquet"), o);
    QVERIFY(t.rows == static_cast<std::int64_t>(expected.size()));
    int turns = 0;
    for (std::int64_t i = 0; i < t.rows; ++i) {
        const Json row = t.row(i);
        QCOMPARE(row.size(), 1u);
        QVERIFY(row["messages"] == expected[static_cast<std::size_t>(i)]["messages"]);
        if (row["messages"].is_array())
            for (const Json& turn : row["messages"])
                if (turn.is_object() && turn["role"].is_string()) ++turns;
    }
    QVERIFY(turns > 20);
}

void ColumnarTests::columnar_parquet_column_selection_keeps_the_order_asked()
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    ColumnarReadOptions o;
    o.columns = {"meta", "text", "conversations"};
    const ColumnTable t = readParquet(fixture("main_plain_v2_gzip.parquet"), o);
    QVERIFY(t.columnNames == o.columns);
    QVERIFY(t.rows == static_cast<std::int64_t>(expected.size()));
    QVERIFY(t.column("text") != nullptr);
    QCOMPARE(t.column("text")->length, t.rows);
    QVERIFY(t.column("score") == nullptr);
    for (std::int64_t i = 0; i < t.rows; ++i) {
        const Json& e = expected[static_cast<std::size_t>(i)];
        const Json want = {{"meta", e["meta"]}, {"text", e["text"]}, {"conversations", e["conversations"]}};
        QVERIFY(t.row(i) == want);
    }
}

void ColumnarTests::columnar_max_rows_stops_inside_and_between_row_groups()
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    // Row groups hold 20 rows: stop inside the first, at its end, inside the third.
    for (const std::int64_t n : {0, 1, 7, 20, 45, 1000}) {
        for (const char* name : {"main_dict_v2_zstd.parquet", "main_fallback_v1_zstd.parquet"}) {
            ColumnarReadOptions o;
            o.maxRows = n;
            const ColumnTable t = readParquet(fixture(name), o);
            const std::vector<Json> head(expected.begin(), expected.begin() + std::min<std::int64_t>(n, expected.size()));
            CALL_CHECKS(checkRows(std::string(name) + " maxRows " + std::to_string(n), t, head));
        }
        ColumnarReadOptions o;
        o.maxRows = n;
        const std::vector<Json> ipc = expectedRows("ipc.jsonl");
        const std::vector<Json> head(ipc.begin(), ipc.begin() + std::min<std::int64_t>(n, ipc.size()));
        CALL_CHECKS(checkRows("ipc_stream.arrows maxRows " + std::to_string(n), readArrowIpc(fixture("ipc_stream.arrows"), o), head));
        CALL_CHECKS(checkRows("ipc_file.arrow maxRows " + std::to_string(n), readArrowIpc(fixture("ipc_file.arrow"), o), head));
    }
}

void ColumnarTests::columnar_schema_lists_names_and_types()
{
    const std::vector<ColumnInfo> p = parquetSchema(fixture("main_plain_v1_none.parquet"));
    QVERIFY(p.size() == 13u);
    QCOMPARE(p[0].name, std::string("text"));
    QCOMPARE(p[0].type, std::string("string"));
    QCOMPARE(p[4].type, std::string("int8"));
    QCOMPARE(p[5].type, std::string("uint32"));
    QCOMPARE(p[7].type, std::string("list<struct<role: string, content: string>>"));
    QCOMPARE(p[11].type, std::string("list<list<int32>>"));
    QCOMPARE(p[12].type, std::string("null"));
    const std::vector<ColumnInfo> a = arrowIpcSchema(fixture("ipc_file.arrow"));
    QVERIFY(a.size() == 20u);
    QCOMPARE(a[7].type, std::string("list<struct<role: string, content: string>>"));
    QCOMPARE(a[13].type, std::string("large_string"));
    QCOMPARE(a[15].type, std::string("fixed_size_list<int16>[2]"));
    QCOMPARE(a[16].type, std::string("dictionary<string>"));
    const std::vector<ColumnInfo> t = columnarSchema(fixture("refuse_timestamp.parquet"));
    QVERIFY(t.size() == 2u);
    QVERIFY(t[0].readable);
    QVERIFY(!t[1].readable);
    QCOMPARE(t[1].type, std::string("timestamp"));
}

void ColumnarTests::columnar_missing_column_lists_the_columns()
{
    ColumnarReadOptions o;
    o.columns = {"text", "prompt"};
    VERIFY_THROWS_WITH(readParquet(fixture("datasets_wikitext.parquet"), o), "datasets_wikitext.parquet", "the column 'prompt' is not there",
                      "columns are text (string)");
    VERIFY_THROWS_WITH(readArrowIpc(fixture("datasets_chat.arrow"), o), "datasets_chat.arrow", "the column 'text' is not there",
                      "messages (list<struct<", "label (int64)");
}

void ColumnarTests::columnar_unsupported_encodings_codecs_and_types_are_named()
{
    int cases = 0;
    const Json all = manifest();
    for (const Json& r : all["refused"]) {
        const std::string name = r["file"];
        std::vector<std::string> words{name};
        for (const Json& w : r["words"]) words.push_back(w);
        bool threw = false;
        try {
            readAny(name);
        } catch (const Error& e) {
            threw = true;
            const std::string msg = e.what();
            for (const std::string& w : words)
                QVERIFY2(msg.find(w) != std::string::npos, ("message '" + msg + "' lacks '" + w + "'").c_str());
        }
        QVERIFY2(threw, (name + " was read without an error").c_str());
        ++cases;
    }
    QVERIFY(cases >= 8);
    // The readable column of a file with an unreadable one still reads.
    ColumnarReadOptions o;
    o.columns = {"text"};
    CALL_CHECKS(checkRows("refuse_timestamp.parquet text", readParquet(fixture("refuse_timestamp.parquet"), o), expectedRows("refuse_timestamp_text.jsonl")));
}

void ColumnarTests::columnar_truncated_files_are_refused_with_their_name()
{
    for (const char* name : {"main_dict_v1_snappy.parquet", "main_plain_v2_gzip.parquet", "ipc_file.arrow", "ipc_stream_zstd.arrows",
                             "datasets_chat.arrow"}) {
        const std::size_t size = readBytes(fixture(name)).size();
        for (const std::size_t keep : {std::size_t(0), std::size_t(5), size / 3, size / 2, size - 9, size - 3, size - 1}) {
            const std::string path = damagedCopy(name, "cut-" + std::to_string(keep) + "-" + name, [&](std::string& b) { b.resize(keep); });
            VERIFY_THROWS_WITH(readColumnarFile(path, {}), path);
        }
    }
    const std::string footer = damagedCopy("main_dict_v1_snappy.parquet", "footer.parquet",
                                           [](std::string& b) { b.erase(b.size() - 40, 30); });
    VERIFY_THROWS_WITH(readParquet(footer), "footer.parquet", "footer");
}

void ColumnarTests::columnar_bad_magic_is_refused()
{
    const std::string parquet = damagedCopy("datasets_wikitext.parquet", "magic.parquet", [](std::string& b) { b[1] = 'X'; });
    VERIFY_THROWS_WITH(readParquet(parquet), "magic.parquet", "not a Parquet file");
    const std::string tail = damagedCopy("datasets_wikitext.parquet", "tail.parquet", [](std::string& b) { b[b.size() - 2] = 'X'; });
    VERIFY_THROWS_WITH(readParquet(tail), "tail.parquet", "PAR1");
    const std::string arrow = damagedCopy("ipc_file.arrow", "magic.arrow", [](std::string& b) { b[b.size() - 1] = 'X'; });
    VERIFY_THROWS_WITH(readArrowIpc(arrow), "magic.arrow", "ARROW1");
    const std::string text = damagedCopy("main.jsonl", "rows.parquet", [](std::string&) {});
    VERIFY_THROWS_WITH(readColumnarFile(text, {}), "rows.parquet", "neither Parquet nor Arrow IPC");
}

void ColumnarTests::columnar_format_is_told_by_its_first_bytes()
{
    QVERIFY(detectColumnarFormat(fixture("main_plain_v1_none.parquet")) == ColumnarFormat::Parquet);
    QVERIFY(detectColumnarFormat(fixture("ipc_file.arrow")) == ColumnarFormat::ArrowFile);
    QVERIFY(detectColumnarFormat(fixture("datasets_chat.arrow")) == ColumnarFormat::ArrowStream);
    QVERIFY(detectColumnarFormat(fixture("ipc_stream_legacy.arrows")) == ColumnarFormat::ArrowStream);
    QVERIFY(detectColumnarFormat(fixture("main.jsonl")) == ColumnarFormat::None);
    QVERIFY(detectColumnarFormat(fixture("no-such.parquet")) == ColumnarFormat::None);
    // A gzip header's first four bytes read as a small length, as a legacy stream's would.
    const std::filesystem::path gz = test::scratchDir("columnar-gzip") / "train.jsonl.gz";
    writeFileAtomic(gz, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + std::string(32, '\0'));
    QVERIFY(detectColumnarFormat(gz.string()) == ColumnarFormat::None);
}

void ColumnarTests::columnar_read_limit_is_a_clear_error()
{
    ColumnarReadOptions o;
    o.maxBytes = 4096;
    VERIFY_THROWS_WITH(readParquet(fixture("main_plain_v1_none.parquet"), o), "main_plain_v1_none.parquet", "4.0 KiB", "read limit");
    VERIFY_THROWS_WITH(readArrowIpc(fixture("ipc_stream.arrows"), o), "ipc_stream.arrows", "4.0 KiB", "read limit");
    o.maxRows = 2;
    QCOMPARE(readParquet(fixture("main_plain_v1_none.parquet"), o).rows, 2);
}

void ColumnarTests::columnar_missing_file_is_named()
{
    VERIFY_THROWS_WITH(readParquet(fixture("no-such.parquet")), "no-such.parquet", "file not found");
    VERIFY_THROWS_WITH(readColumnarFile(fixture("no-such.arrow"), {}), "no-such.arrow", "file not found");
}

#include "test_columnar.moc"
