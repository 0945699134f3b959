// The Parquet and Arrow IPC readers against files pyarrow and datasets wrote
// (tests/data/make_columnar_fixtures.py): every fixture reads as the rows
// pyarrow reads from it; column selection and row limits; unsupported
// encodings, codecs and types refused by name; truncated and damaged files
// refused with the file, column and row group named.
#include "test_harness.h"
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
    CHECK_EQ(table.rows, static_cast<std::int64_t>(expected.size()));
    for (std::int64_t i = 0; i < table.rows && i < static_cast<std::int64_t>(expected.size()); ++i) {
        const Json got = comparable(table.row(i));
        if (got != expected[static_cast<std::size_t>(i)]) {
            test::fail(__FILE__, __LINE__, label + ": row " + std::to_string(i) + " is " + got.dump() + ", pyarrow reads " +
                                               expected[static_cast<std::size_t>(i)].dump());
            return;
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
            checkRows(name, readAny(name), rows);
        }
    }
    CHECK(files >= 3);
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

TEST("unit/columnar_parquet_fixtures_read_as_pyarrow_reads_them")
{
    checkManifestFiles({".parquet"});
}

TEST("unit/columnar_arrow_fixtures_read_as_pyarrow_reads_them")
{
    checkManifestFiles({".arrow", ".arrows"});
}

TEST("unit/columnar_parquet_messages_are_lists_of_objects")
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    ColumnarReadOptions o;
    o.columns = {"messages"};
    const ColumnTable t = readParquet(fixture("main_dict_v1_snappy.parquet"), o);
    REQUIRE(t.rows == static_cast<std::int64_t>(expected.size()));
    int turns = 0;
    for (std::int64_t i = 0; i < t.rows; ++i) {
        const Json row = t.row(i);
        CHECK_EQ(row.size(), 1u);
        CHECK(row["messages"] == expected[static_cast<std::size_t>(i)]["messages"]);
        if (row["messages"].is_array())
            for (const Json& turn : row["messages"])
                if (turn.is_object() && turn["role"].is_string()) ++turns;
    }
    CHECK(turns > 20);
}

TEST("unit/columnar_parquet_column_selection_keeps_the_order_asked")
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    ColumnarReadOptions o;
    o.columns = {"meta", "text", "conversations"};
    const ColumnTable t = readParquet(fixture("main_plain_v2_gzip.parquet"), o);
    REQUIRE(t.columnNames == o.columns);
    REQUIRE(t.rows == static_cast<std::int64_t>(expected.size()));
    REQUIRE(t.column("text") != nullptr);
    CHECK_EQ(t.column("text")->length, t.rows);
    CHECK(t.column("score") == nullptr);
    for (std::int64_t i = 0; i < t.rows; ++i) {
        const Json& e = expected[static_cast<std::size_t>(i)];
        const Json want = {{"meta", e["meta"]}, {"text", e["text"]}, {"conversations", e["conversations"]}};
        CHECK(t.row(i) == want);
    }
}

TEST("unit/columnar_max_rows_stops_inside_and_between_row_groups")
{
    const std::vector<Json> expected = expectedRows("main.jsonl");
    // Row groups hold 20 rows: stop inside the first, at its end, inside the third.
    for (const std::int64_t n : {0, 1, 7, 20, 45, 1000}) {
        for (const char* name : {"main_dict_v2_zstd.parquet", "main_fallback_v1_zstd.parquet"}) {
            ColumnarReadOptions o;
            o.maxRows = n;
            const ColumnTable t = readParquet(fixture(name), o);
            const std::vector<Json> head(expected.begin(), expected.begin() + std::min<std::int64_t>(n, expected.size()));
            checkRows(std::string(name) + " maxRows " + std::to_string(n), t, head);
        }
        ColumnarReadOptions o;
        o.maxRows = n;
        const std::vector<Json> ipc = expectedRows("ipc.jsonl");
        const std::vector<Json> head(ipc.begin(), ipc.begin() + std::min<std::int64_t>(n, ipc.size()));
        checkRows("ipc_stream.arrows maxRows " + std::to_string(n), readArrowIpc(fixture("ipc_stream.arrows"), o), head);
        checkRows("ipc_file.arrow maxRows " + std::to_string(n), readArrowIpc(fixture("ipc_file.arrow"), o), head);
    }
}

TEST("unit/columnar_schema_lists_names_and_types")
{
    const std::vector<ColumnInfo> p = parquetSchema(fixture("main_plain_v1_none.parquet"));
    REQUIRE(p.size() == 13u);
    CHECK_EQ(p[0].name, std::string("text"));
    CHECK_EQ(p[0].type, std::string("string"));
    CHECK_EQ(p[4].type, std::string("int8"));
    CHECK_EQ(p[5].type, std::string("uint32"));
    CHECK_EQ(p[7].type, std::string("list<struct<role: string, content: string>>"));
    CHECK_EQ(p[11].type, std::string("list<list<int32>>"));
    CHECK_EQ(p[12].type, std::string("null"));
    const std::vector<ColumnInfo> a = arrowIpcSchema(fixture("ipc_file.arrow"));
    REQUIRE(a.size() == 20u);
    CHECK_EQ(a[7].type, std::string("list<struct<role: string, content: string>>"));
    CHECK_EQ(a[13].type, std::string("large_string"));
    CHECK_EQ(a[15].type, std::string("fixed_size_list<int16>[2]"));
    CHECK_EQ(a[16].type, std::string("dictionary<string>"));
    const std::vector<ColumnInfo> t = columnarSchema(fixture("refuse_timestamp.parquet"));
    REQUIRE(t.size() == 2u);
    CHECK(t[0].readable);
    CHECK(!t[1].readable);
    CHECK_EQ(t[1].type, std::string("timestamp"));
}

TEST("unit/columnar_missing_column_lists_the_columns")
{
    ColumnarReadOptions o;
    o.columns = {"text", "prompt"};
    CHECK_THROWS_WITH(readParquet(fixture("datasets_wikitext.parquet"), o), "datasets_wikitext.parquet", "the column 'prompt' is not there",
                      "columns are text (string)");
    CHECK_THROWS_WITH(readArrowIpc(fixture("datasets_chat.arrow"), o), "datasets_chat.arrow", "the column 'text' is not there",
                      "messages (list<struct<", "label (int64)");
}

TEST("unit/columnar_unsupported_encodings_codecs_and_types_are_named")
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
                if (msg.find(w) == std::string::npos) test::fail(__FILE__, __LINE__, "message '" + msg + "' lacks '" + w + "'");
        }
        if (!threw) test::fail(__FILE__, __LINE__, name + " was read without an error");
        ++cases;
    }
    CHECK(cases >= 8);
    // The readable column of a file with an unreadable one still reads.
    ColumnarReadOptions o;
    o.columns = {"text"};
    checkRows("refuse_timestamp.parquet text", readParquet(fixture("refuse_timestamp.parquet"), o), expectedRows("refuse_timestamp_text.jsonl"));
}

TEST("unit/columnar_truncated_files_are_refused_with_their_name")
{
    for (const char* name : {"main_dict_v1_snappy.parquet", "main_plain_v2_gzip.parquet", "ipc_file.arrow", "ipc_stream_zstd.arrows",
                             "datasets_chat.arrow"}) {
        const std::size_t size = readBytes(fixture(name)).size();
        for (const std::size_t keep : {std::size_t(0), std::size_t(5), size / 3, size / 2, size - 9, size - 3, size - 1}) {
            const std::string path = damagedCopy(name, "cut-" + std::to_string(keep) + "-" + name, [&](std::string& b) { b.resize(keep); });
            CHECK_THROWS_WITH(readColumnarFile(path, {}), path);
        }
    }
    const std::string footer = damagedCopy("main_dict_v1_snappy.parquet", "footer.parquet",
                                           [](std::string& b) { b.erase(b.size() - 40, 30); });
    CHECK_THROWS_WITH(readParquet(footer), "footer.parquet", "footer");
}

TEST("unit/columnar_bad_magic_is_refused")
{
    const std::string parquet = damagedCopy("datasets_wikitext.parquet", "magic.parquet", [](std::string& b) { b[1] = 'X'; });
    CHECK_THROWS_WITH(readParquet(parquet), "magic.parquet", "not a Parquet file");
    const std::string tail = damagedCopy("datasets_wikitext.parquet", "tail.parquet", [](std::string& b) { b[b.size() - 2] = 'X'; });
    CHECK_THROWS_WITH(readParquet(tail), "tail.parquet", "PAR1");
    const std::string arrow = damagedCopy("ipc_file.arrow", "magic.arrow", [](std::string& b) { b[b.size() - 1] = 'X'; });
    CHECK_THROWS_WITH(readArrowIpc(arrow), "magic.arrow", "ARROW1");
    const std::string text = damagedCopy("main.jsonl", "rows.parquet", [](std::string&) {});
    CHECK_THROWS_WITH(readColumnarFile(text, {}), "rows.parquet", "neither Parquet nor Arrow IPC");
}

TEST("unit/columnar_format_is_told_by_its_first_bytes")
{
    CHECK(detectColumnarFormat(fixture("main_plain_v1_none.parquet")) == ColumnarFormat::Parquet);
    CHECK(detectColumnarFormat(fixture("ipc_file.arrow")) == ColumnarFormat::ArrowFile);
    CHECK(detectColumnarFormat(fixture("datasets_chat.arrow")) == ColumnarFormat::ArrowStream);
    CHECK(detectColumnarFormat(fixture("ipc_stream_legacy.arrows")) == ColumnarFormat::ArrowStream);
    CHECK(detectColumnarFormat(fixture("main.jsonl")) == ColumnarFormat::None);
    CHECK(detectColumnarFormat(fixture("no-such.parquet")) == ColumnarFormat::None);
}

TEST("unit/columnar_read_limit_is_a_clear_error")
{
    ColumnarReadOptions o;
    o.maxBytes = 4096;
    CHECK_THROWS_WITH(readParquet(fixture("main_plain_v1_none.parquet"), o), "main_plain_v1_none.parquet", "4.0 KiB", "read limit");
    CHECK_THROWS_WITH(readArrowIpc(fixture("ipc_stream.arrows"), o), "ipc_stream.arrows", "4.0 KiB", "read limit");
    o.maxRows = 2;
    CHECK_EQ(readParquet(fixture("main_plain_v1_none.parquet"), o).rows, 2);
}

TEST("unit/columnar_missing_file_is_named")
{
    CHECK_THROWS_WITH(readParquet(fixture("no-such.parquet")), "no-such.parquet", "file not found");
    CHECK_THROWS_WITH(readColumnarFile(fixture("no-such.arrow"), {}), "no-such.arrow", "file not found");
}
