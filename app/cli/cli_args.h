// Command-line parsing for loralab-cli: positional arguments, "--name value"
// options and "--flag" switches, checked against what each command accepts.
#pragma once

#include <climits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace loralab::cli {

struct OptionSpec {
    std::string name;  // without the leading "--"
    std::string value; // placeholder shown in help ("N", "PATH"); empty for a switch
    std::string help;
};

class Args {
public:
    // Throws loralab::Error for an unknown option or a missing value.
    Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

    const std::vector<std::string>& positional() const { return m_positional; }
    bool has(const std::string& name) const { return m_values.count(name) != 0; }
    // The last value given for the option.
    std::string get(const std::string& name, const std::string& fallback = "") const;
    // Every value of an option given more than once (--grid a=1,2 --grid b=3,4), in order.
    std::vector<std::string> getAll(const std::string& name) const;
    // The option as an integer in [min, max], or `fallback` when it is absent.
    // Text, a fraction ("4.5") or a number outside the range is an Error naming
    // the option and the range it takes; nothing is truncated or wrapped.
    long long getInt(const std::string& name, long long fallback, long long min = LLONG_MIN, long long max = LLONG_MAX) const;
    // A finite number; "nan", "inf" and numbers a double cannot hold are Errors.
    double getDouble(const std::string& name, double fallback) const;
    // "1,2,3": every item an integer ("" gives an empty list).
    std::vector<long long> getIntList(const std::string& name) const;

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_all;
};

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> splitList(const std::string& text);

std::string formatOptions(const std::vector<OptionSpec>& specs);

// Options every command takes.
const std::vector<OptionSpec>& commonOptions();

} // namespace loralab::cli
