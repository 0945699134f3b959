// Fuzzes loralab-cli's option parsing (app/cli/cli_args.cpp, which needs
// nothing but the standard library and loralab::Error): the input is an argv,
// one argument per NUL-separated field, parsed against an option table like
// the commands' own, then read back through every getter. A crash, undefined
// behaviour or an exception other than loralab::Error is a finding.
#include "app/cli/cli_args.h"
#include "engine/util/error.h"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using loralab::cli::OptionSpec;

const std::vector<OptionSpec>& specs()
{
    static const std::vector<OptionSpec> table = {
        {"max-steps", "N", "optimizer steps"},
        {"print-every", "N", "print every N-th step"},
        {"name", "NAME", "run name"},
        {"ids", "LIST", "comma-separated ids"},
        {"temperature", "T", "sampling temperature"},
        {"seed", "S", "seed"},
        {"lora-targets", "LIST", "module names"},
        {"json", "", "print JSON"},
        {"options", "", "list options"},
    };
    return table;
}

// The ranges the commands ask getInt for.
const std::pair<long long, long long> kRanges[] = {
    {LLONG_MIN, LLONG_MAX}, {0, LLONG_MAX}, {1, LLONG_MAX}, {0, INT_MAX}, {1, INT_MAX}, {LLONG_MIN, 0}, {-5, 5},
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::string> argv;
    std::string current;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            argv.push_back(current);
            current.clear();
        } else {
            current.push_back(static_cast<char>(data[i]));
        }
    }
    if (size > 0) argv.push_back(current);

    std::vector<std::string> names;
    for (const auto& s : specs()) names.push_back(s.name);
    for (const auto& s : loralab::cli::commonOptions()) names.push_back(s.name);
    names.push_back("not-an-option");
    try {
        const loralab::cli::Args args(argv, specs());
        (void)args.positional();
        for (const auto& p : args.positional()) names.push_back(p); // getters asked for names nobody declared
        for (const auto& name : names) {
            (void)args.has(name);
            (void)loralab::cli::splitList(args.get(name, "fallback"));
            for (const auto& [min, max] : kRanges) {
                try {
                    const long long n = args.getInt(name, min, min, max);
                    if (n < min || n > max) __builtin_trap(); // out of the range it promised
                } catch (const loralab::Error&) {
                }
            }
            try {
                (void)args.getDouble(name, 0.5);
            } catch (const loralab::Error&) {
            }
            try {
                (void)args.getIntList(name);
            } catch (const loralab::Error&) {
            }
        }
    } catch (const loralab::Error&) {
    }
    (void)loralab::cli::formatOptions(specs());
    return 0;
}
