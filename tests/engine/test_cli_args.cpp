// loralab-cli's option parsing (app/cli/cli_args.cpp): numbers are whole and
// in range or an error naming the option, never truncated or wrapped.
#include "test_harness.h"

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

TEST("unit/cli_integers_are_whole_and_in_range")
{
    CHECK_EQ(parse({"--max-steps", "40"}).getInt("max-steps", 0, 0), 40);
    CHECK_EQ(parse({"--max-steps=-7"}).getInt("max-steps", 0), -7);
    CHECK_EQ(parse({}).getInt("max-steps", 200, 0), 200); // absent: the fallback
    CHECK_THROWS_WITH(parse({"--max-steps", "4.5"}).getInt("max-steps", 0, 0), "option --max-steps expects a whole number >= 0, got '4.5'");
    CHECK_THROWS_WITH(parse({"--max-steps", "-3"}).getInt("max-steps", 0, 0), "option --max-steps expects a whole number >= 0, got '-3'");
    CHECK_THROWS_WITH(parse({"--max-steps", "abc"}).getInt("max-steps", 0, 0), "--max-steps", "got 'abc'");
    CHECK_THROWS_WITH(parse({"--max-steps", "7abc"}).getInt("max-steps", 0), "--max-steps", "got '7abc'");
    CHECK_THROWS_WITH(parse({"--max-steps", " 7"}).getInt("max-steps", 0), "--max-steps");
    CHECK_THROWS_WITH(parse({"--max-steps", ""}).getInt("max-steps", 0), "--max-steps");
    CHECK_THROWS_WITH(parse({"--max-steps", "-"}).getInt("max-steps", 0), "--max-steps");
    CHECK_THROWS_WITH(parse({"--max-steps", "99999999999999999999"}).getInt("max-steps", 0), "--max-steps");
    CHECK_THROWS_WITH(parse({"--max-steps", "3000000000"}).getInt("max-steps", 0, 0, INT_MAX),
                      "a whole number from 0 to 2147483647, got '3000000000'");
    CHECK_THROWS_WITH(parse({"--max-steps", "0"}).getInt("max-steps", 1, 1, LLONG_MAX), "a whole number >= 1, got '0'");
}

TEST("unit/cli_numbers_and_lists")
{
    CHECK_EQ(parse({"--temperature", "0.7"}).getDouble("temperature", 0), 0.7);
    CHECK_EQ(parse({"--temperature", "1e-4"}).getDouble("temperature", 0), 1e-4);
    for (const char* bad : {"nan", "inf", "-inf", "1e999", "0.5x", " 1", ""})
        CHECK_THROWS_WITH(parse({"--temperature", bad}).getDouble("temperature", 0), "option --temperature expects a finite number");
    CHECK(parse({"--ids", "1,-2,30"}).getIntList("ids") == std::vector<long long>({1, -2, 30}));
    CHECK(parse({}).getIntList("ids").empty());
    CHECK_THROWS_WITH(parse({"--ids", "1,2.5"}).getIntList("ids"), "option --ids expects comma-separated whole numbers, got '2.5'");
    CHECK_THROWS_WITH(parse({"--ids", "1,,2"}).getIntList("ids"), "--ids", "got ''");
    CHECK_THROWS_WITH(parse({"--ids", "99999999999999999999"}).getIntList("ids"), "--ids", "(out of range)");
}

TEST("unit/cli_unknown_options_and_missing_values")
{
    CHECK_THROWS_WITH(parse({"--max-stpes", "3"}), "unknown option --max-stpes");
    CHECK_THROWS_WITH(parse({"run", "--name"}), "option --name needs a value (NAME)");
    const Args a = parse({"config.json", "--json", "--name=a=b", "-x", "--"});
    CHECK(a.has("json"));
    CHECK_EQ(a.get("name"), std::string("a=b"));
    CHECK(a.positional() == std::vector<std::string>({"config.json", "-x", "--"}));
}
