// loralab-cli's option parsing (app/cli/cli_args.cpp): numbers are whole and
// in range or an error naming the option, never truncated or wrapped.
#include "engine_test.h"

#include "app/cli/cli_args.h"
#include "engine/util/error.h"

#include <climits>

using loralab::cli::Args;
using loralab::cli::OptionSpec;

namespace {

const std::vector<OptionSpec> kSpecs = {
    {"max-steps", "N", ""}, {"ids", "LIST", ""}, {"temperature", "T", ""}, {"json", "", ""}, {"name", "NAME", ""}};

Args parse(const std::vector<std::string>& argv) { return Args(argv, kSpecs); }

} // namespace

class CliArgsTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void cli_integers_are_whole_and_in_range();
    void cli_numbers_and_lists();
    void cli_unknown_options_and_missing_values();
};
REGISTER_TESTS(CliArgsTests);

void CliArgsTests::cli_integers_are_whole_and_in_range()
{
    QCOMPARE(parse({"--max-steps", "40"}).getInt("max-steps", 0, 0), 40);
    QCOMPARE(parse({"--max-steps=-7"}).getInt("max-steps", 0), -7);
    QCOMPARE(parse({}).getInt("max-steps", 200, 0), 200); // absent: the fallback
    VERIFY_THROWS_WITH(parse({"--max-steps", "4.5"}).getInt("max-steps", 0, 0), "option --max-steps expects a whole number >= 0, got '4.5'");
    VERIFY_THROWS_WITH(parse({"--max-steps", "-3"}).getInt("max-steps", 0, 0), "option --max-steps expects a whole number >= 0, got '-3'");
    VERIFY_THROWS_WITH(parse({"--max-steps", "abc"}).getInt("max-steps", 0, 0), "--max-steps", "got 'abc'");
    VERIFY_THROWS_WITH(parse({"--max-steps", "7abc"}).getInt("max-steps", 0), "--max-steps", "got '7abc'");
    VERIFY_THROWS_WITH(parse({"--max-steps", " 7"}).getInt("max-steps", 0), "--max-steps");
    VERIFY_THROWS_WITH(parse({"--max-steps", ""}).getInt("max-steps", 0), "--max-steps");
    VERIFY_THROWS_WITH(parse({"--max-steps", "-"}).getInt("max-steps", 0), "--max-steps");
    VERIFY_THROWS_WITH(parse({"--max-steps", "99999999999999999999"}).getInt("max-steps", 0), "--max-steps");
    VERIFY_THROWS_WITH(parse({"--max-steps", "3000000000"}).getInt("max-steps", 0, 0, INT_MAX),
                       "a whole number from 0 to 2147483647, got '3000000000'");
    VERIFY_THROWS_WITH(parse({"--max-steps", "0"}).getInt("max-steps", 1, 1, LLONG_MAX), "a whole number >= 1, got '0'");
}

void CliArgsTests::cli_numbers_and_lists()
{
    QCOMPARE_EQ(parse({"--temperature", "0.7"}).getDouble("temperature", 0), 0.7);
    QCOMPARE_EQ(parse({"--temperature", "1e-4"}).getDouble("temperature", 0), 1e-4);
    for (const char* bad : {"nan", "inf", "-inf", "1e999", "0.5x", " 1", ""})
        VERIFY_THROWS_WITH(parse({"--temperature", bad}).getDouble("temperature", 0), "option --temperature expects a finite number");
    QVERIFY(parse({"--ids", "1,-2,30"}).getIntList("ids") == std::vector<long long>({1, -2, 30}));
    QVERIFY(parse({}).getIntList("ids").empty());
    VERIFY_THROWS_WITH(parse({"--ids", "1,2.5"}).getIntList("ids"), "option --ids expects comma-separated whole numbers, got '2.5'");
    VERIFY_THROWS_WITH(parse({"--ids", "1,,2"}).getIntList("ids"), "--ids", "got ''");
    VERIFY_THROWS_WITH(parse({"--ids", "99999999999999999999"}).getIntList("ids"), "--ids", "(out of range)");
}

void CliArgsTests::cli_unknown_options_and_missing_values()
{
    VERIFY_THROWS_WITH(parse({"--max-stpes", "3"}), "unknown option --max-stpes");
    VERIFY_THROWS_WITH(parse({"run", "--name"}), "option --name needs a value (NAME)");
    const Args a = parse({"config.json", "--json", "--name=a=b", "-x", "--"});
    QVERIFY(a.has("json"));
    QCOMPARE(a.get("name"), std::string("a=b"));
    QVERIFY(a.positional() == std::vector<std::string>({"config.json", "-x", "--"}));
}

#include "test_cli_args.moc"
