// Command-line parsing; see cli_args.h.
#include "cli_args.h"

#include "engine/util/error.h"

#include <sstream>

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
    }
}

std::string Args::get(const std::string& name, const std::string& fallback) const
{
    const auto it = m_values.find(name);
    return it == m_values.end() ? fallback : it->second;
}

long long Args::getInt(const std::string& name, long long fallback) const
{
    if (!has(name)) return fallback;
    const std::string v = get(name);
    try {
        std::size_t used = 0;
        const long long n = std::stoll(v, &used);
        if (used == v.size()) return n;
    } catch (const std::exception&) {
    }
    throw Error("option --" + name + " expects an integer, got '" + v + "'");
}

double Args::getDouble(const std::string& name, double fallback) const
{
    if (!has(name)) return fallback;
    const std::string v = get(name);
    try {
        std::size_t used = 0;
        const double d = std::stod(v, &used);
        if (used == v.size()) return d;
    } catch (const std::exception&) {
    }
    throw Error("option --" + name + " expects a number, got '" + v + "'");
}

std::vector<long long> Args::getIntList(const std::string& name) const
{
    std::vector<long long> out;
    std::stringstream in(get(name));
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            std::size_t used = 0;
            out.push_back(std::stoll(item, &used));
            if (used != item.size()) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw Error("option --" + name + " expects comma-separated integers, got '" + item + "'");
        }
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
