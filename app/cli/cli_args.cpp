// Command-line parsing; see cli_args.h.
#include "cli_args.h"

#include "engine/util/error.h"

#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace loralab::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs)
{
    std::map<std::string, const OptionSpec*> byName;
    for (const auto& s : specs) byName[s.name] = &s;
    for (const auto& s : commonOptions()) byName[s.name] = &s;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
            m_positional.push_back(a);
            continue;
        }
        std::string name = a.substr(2);
        std::string value;
        const auto eq = name.find('=');
        const bool inlineValue = eq != std::string::npos;
        if (inlineValue) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const auto it = byName.find(name);
        if (it == byName.end()) throw Error("unknown option --" + name + " (see --help)");
        if (it->second->value.empty()) {
            m_values[name] = "1";
            continue;
        }
        if (!inlineValue) {
            if (i + 1 >= argv.size()) throw Error("option --" + name + " needs a value (" + it->second->value + ")");
            value = argv[++i];
        }
        m_values[name] = value;
        m_all[name].push_back(value);
    }
}

std::string Args::get(const std::string& name, const std::string& fallback) const
{
    const auto it = m_values.find(name);
    return it == m_values.end() ? fallback : it->second;
}

std::vector<std::string> Args::getAll(const std::string& name) const
{
    const auto it = m_all.find(name);
    return it == m_all.end() ? std::vector<std::string>{} : it->second;
}

namespace {

// The whole of `text` as a decimal integer. std::stoll alone would accept
// "4.5" as 4 and " 7" as 7; here the text must be digits with an optional
// sign, and a value past long long is out of range rather than clamped.
bool parseInteger(const std::string& text, long long& value, bool& outOfRange)
{
    outOfRange = false;
    const std::size_t digits = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    if (text.size() == digits) return false;
    for (std::size_t i = digits; i < text.size(); ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    try {
        value = std::stoll(text);
    } catch (const std::out_of_range&) {
        outOfRange = true;
        return false;
    }
    return true;
}

std::string rangeText(long long min, long long max)
{
    if (min == LLONG_MIN && max == LLONG_MAX) return "a whole number";
    if (max == LLONG_MAX) return "a whole number >= " + std::to_string(min);
    if (min == LLONG_MIN) return "a whole number <= " + std::to_string(max);
    return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

} // namespace

long long Args::getInt(const std::string& name, long long fallback, long long min, long long max) const
{
    if (!has(name)) return fallback;
    const std::string v = get(name);
    long long n = 0;
    bool outOfRange = false;
    if (parseInteger(v, n, outOfRange) && n >= min && n <= max) return n;
    throw Error("option --" + name + " expects " + rangeText(min, max) + ", got '" + v + "'");
}

double Args::getDouble(const std::string& name, double fallback) const
{
    if (!has(name)) return fallback;
    const std::string v = get(name);
    // std::stod skips leading spaces and reads "nan" and "inf"; neither is a
    // setting anyone means, and a NaN would pass every range check after it.
    if (!v.empty() && !std::isspace(static_cast<unsigned char>(v[0]))) {
        try {
            std::size_t used = 0;
            const double d = std::stod(v, &used);
            if (used == v.size() && std::isfinite(d)) return d;
        } catch (const std::exception&) {
        }
    }
    throw Error("option --" + name + " expects a finite number (like 0.5 or 1e-4), got '" + v + "'");
}

std::vector<long long> Args::getIntList(const std::string& name) const
{
    std::vector<long long> out;
    std::stringstream in(get(name));
    std::string item;
    while (std::getline(in, item, ',')) {
        long long n = 0;
        bool outOfRange = false;
        if (!parseInteger(item, n, outOfRange))
            throw Error("option --" + name + " expects comma-separated whole numbers, got '" + item + "'" +
                        (outOfRange ? " (out of range)" : ""));
        out.push_back(n);
    }
    return out;
}

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

std::string formatOptions(const std::vector<OptionSpec>& specs)
{
    std::ostringstream out;
    for (const auto& s : specs) {
        std::string left = "  --" + s.name + (s.value.empty() ? "" : " " + s.value);
        if (left.size() < 28) left.resize(28, ' ');
        else left += "  ";
        out << left << s.help << "\n";
    }
    return out.str();
}

const std::vector<OptionSpec>& commonOptions()
{
    static const std::vector<OptionSpec> specs = {
        {"threads", "N", "CPU threads for LibTorch (default: all cores)"},
        {"device", "DEV", "cpu, cuda, cuda:N or auto (default: auto)"},
        {"help", "", "show this help"},
    };
    return specs;
}

} // namespace loralab::cli
