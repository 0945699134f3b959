// Dataset cards' YAML `configs:` and the data_files globs; see dataset_card.h.
#include "engine/data/dataset_card.h"

#include "engine/util/error.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace loralab {
using Json = nlohmann::ordered_json;

namespace {

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// A card's value as JSON text; bytes that are not UTF-8 become U+FFFD
// rather than an exception.
std::string shown(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

struct YamlLine {
    int indent = 0;
    std::string text; // without the indentation; comments and blank lines are gone
    int number = 0;   // 1-based line in the card
};

std::string trimmed(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// A plain scalar ends before " #"; quoted ones run to their closing quote.
std::string withoutComment(const std::string& s)
{
    if (!s.empty() && (s.front() == '"' || s.front() == '\'')) return s;
    const auto hash = s.find(" #");
    return hash == std::string::npos ? s : trimmed(s.substr(0, hash));
}

class CardYaml {
public:
    CardYaml(std::vector<YamlLine> lines, std::string path) : m_lines(std::move(lines)), m_path(std::move(path)) {}

    Json parse()
    {
        if (m_lines.empty()) return Json();
        Json out = node(m_lines.front().indent);
        if (m_at < m_lines.size()) throw problem(m_lines[m_at], "is not part of the configs list");
        return out;
    }

private:
    Error problem(const YamlLine& line, const std::string& what) const
    {
        return fileError(m_path, "YAML line " + std::to_string(line.number) + " (\"" + line.text + "\") " + what);
    }

    static bool isDash(const std::string& t) { return t == "-" || startsWith(t, "- "); }

    // "key: value" or "key:"; the key plain or quoted.
    static bool keyOf(const std::string& t, std::string& key, std::string& rest)
    {
        std::size_t colon = std::string::npos;
        if (!t.empty() && (t.front() == '"' || t.front() == '\'')) {
            const auto close = t.find(t.front(), 1);
            if (close == std::string::npos || close + 1 >= t.size() || t[close + 1] != ':') return false;
            key = t.substr(1, close - 1);
            colon = close + 1;
        } else {
            for (std::size_t i = 0; i < t.size(); ++i)
                if (t[i] == ':' && (i + 1 == t.size() || t[i + 1] == ' ')) {
                    colon = i;
                    break;
                }
            if (colon == std::string::npos || colon == 0) return false;
            key = trimmed(t.substr(0, colon));
        }
        rest = trimmed(t.substr(colon + 1));
        return true;
    }

    Json node(int indent)
    {
        // Cards nest a few levels; a deeper file is refused, not recursed into.
        struct Depth {
            int& d;
            explicit Depth(int& v) : d(v) { ++d; }
            ~Depth() { --d; }
        } depth(m_depth);
        if (m_depth > 32) throw problem(m_lines[m_at], "nests deeper than 32 levels");
        const YamlLine& first = m_lines[m_at];
        if (isDash(first.text)) return sequence(indent);
        std::string key, rest;
        if (keyOf(first.text, key, rest)) return mapping(indent);
        ++m_at;
        return scalar(first.text, first);
    }

    // The value of a key or item with nothing after it on its line: the
    // deeper lines (or a sequence at the key's own indentation, as cards
    // write `data_files:\n- split: train`).
    Json childOf(int indent, bool allowSameIndentSequence)
    {
        if (m_at >= m_lines.size()) return Json();
        const YamlLine& next = m_lines[m_at];
        if (next.indent > indent || (allowSameIndentSequence && next.indent == indent && isDash(next.text))) return node(next.indent);
        return Json();
    }

    Json sequence(int indent)
    {
        Json out = Json::array();
        while (m_at < m_lines.size() && m_lines[m_at].indent == indent && isDash(m_lines[m_at].text)) {
            YamlLine& line = m_lines[m_at];
            const std::string content = line.text.size() > 1 ? line.text.substr(2) : "";
            const std::string item = trimmed(content);
            if (item.empty()) {
                ++m_at;
                out.push_back(childOf(indent, false));
                continue;
            }
            // "- key: value" opens a mapping whose keys sit under "key".
            line.indent = indent + 2 + static_cast<int>(content.find_first_not_of(' '));
            line.text = item;
            out.push_back(node(line.indent));
        }
        return out;
    }

    Json mapping(int indent)
    {
        Json out = Json::object();
        while (m_at < m_lines.size() && m_lines[m_at].indent == indent && !isDash(m_lines[m_at].text)) {
            const YamlLine line = m_lines[m_at];
            std::string key, rest;
            if (!keyOf(line.text, key, rest)) throw problem(line, "is neither \"key: value\" nor a list item");
            ++m_at;
            if (rest.empty()) {
                out[key] = childOf(indent, true);
            } else if (rest == "|" || rest == ">" || rest == "|-" || rest == ">-") {
                std::string text;
                while (m_at < m_lines.size() && m_lines[m_at].indent > indent) text += m_lines[m_at++].text + "\n";
                out[key] = text;
            } else {
                out[key] = scalar(rest, line);
            }
        }
        if (m_at < m_lines.size() && m_lines[m_at].indent > indent) throw problem(m_lines[m_at], "is indented more than its mapping");
        return out;
    }

    Json scalar(const std::string& raw, const YamlLine& line) const
    {
        const std::string s = withoutComment(raw);
        if (s.empty()) return Json();
        if (s.front() == '[') {
            if (s.back() != ']') throw problem(line, "opens a flow list that does not close on its line");
            Json out = Json::array();
            std::string item;
            char quote = 0;
            for (std::size_t i = 1; i + 1 < s.size(); ++i) {
                const char c = s[i];
                if (quote) {
                    if (c == quote) quote = 0;
                    item += c;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                    item += c;
                } else if (c == ',') {
                    out.push_back(scalar(trimmed(item), line));
                    item.clear();
                } else {
                    item += c;
                }
            }
            if (!trimmed(item).empty()) out.push_back(scalar(trimmed(item), line));
            return out;
        }
        if (s.front() == '{') throw problem(line, "holds a flow mapping ({...}), which dataset cards do not use here; write it as a block");
        if (s.front() == '\'') {
            if (s.size() < 2 || s.back() != '\'') throw problem(line, "has an unclosed quote");
            std::string out;
            for (std::size_t i = 1; i + 1 < s.size(); ++i) {
                out += s[i];
                if (s[i] == '\'' && s[i + 1] == '\'') ++i;
            }
            return out;
        }
        if (s.front() == '"') {
            if (s.size() < 2 || s.back() != '"') throw problem(line, "has an unclosed quote");
            std::string out;
            for (std::size_t i = 1; i + 1 < s.size(); ++i) {
                if (s[i] != '\\' || i + 2 >= s.size()) {
                    out += s[i];
                    continue;
                }
                const char e = s[++i];
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
            return out;
        }
        if (s == "true" || s == "True") return true;
        if (s == "false" || s == "False") return false;
        if (s == "null" || s == "~") return Json();
        return s;
    }

    std::vector<YamlLine> m_lines;
    std::string m_path;
    std::size_t m_at = 0;
    int m_depth = 0;
};

// The lines of the front matter's top-level `configs:` block.
std::vector<YamlLine> configsBlock(const std::string& readme, bool& found)
{
    found = false;
    std::vector<YamlLine> out;
    std::istringstream in(readme);
    std::string line;
    int number = 0;
    bool inFront = false, inConfigs = false;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (number == 1) {
            if (startsWith(line, "\xEF\xBB\xBF")) line = line.substr(3);
            if (trimmed(line) != "---") return out; // no front matter
            inFront = true;
            continue;
        }
        if (!inFront) break;
        if (trimmed(line) == "---" && line.front() == '-') break;
        const std::string t = trimmed(line);
        if (t.empty() || t.front() == '#') continue;
        const int indent = static_cast<int>(line.find_first_not_of(' '));
        if (indent == 0 && !startsWith(t, "-")) {
            inConfigs = startsWith(t, "configs:");
            found = found || inConfigs;
            continue;
        }
        if (inConfigs) out.push_back({indent, t, number});
    }
    return out;
}

} // namespace

bool globMatch(const std::string& pattern, const std::string& path)
{
    // Matching with back-tracking for '*' and '**', each (pattern, path)
    // position tried once, so no pattern takes more than their product.
    std::vector<char> failed((pattern.size() + 1) * (path.size() + 1), 0);
    const std::function<bool(std::size_t, std::size_t)> match = [&](std::size_t p, std::size_t s) -> bool {
        char& known = failed[p * (path.size() + 1) + s];
        if (known) return false;
        const bool hit = [&] {
        while (p < pattern.size()) {
            const char c = pattern[p];
            if (c == '*') {
                const bool deep = p + 1 < pattern.size() && pattern[p + 1] == '*';
                std::size_t next = p + (deep ? 2 : 1);
                // "**/" also matches no folder at all.
                if (deep && next < pattern.size() && pattern[next] == '/' && match(next + 1, s)) return true;
                for (std::size_t k = s; k <= path.size(); ++k) {
                    if (match(next, k)) return true;
                    if (k < path.size() && path[k] == '/' && !deep) return false;
                }
                return false;
            }
            if (s >= path.size()) return false;
            if (c == '?') {
                if (path[s] == '/') return false;
            } else if (c == '[') {
                const std::size_t close = pattern.find(']', p + 2);
                if (close == std::string::npos) {
                    if (path[s] != c) return false;
                } else {
                    bool negate = pattern[p + 1] == '!' || pattern[p + 1] == '^';
                    bool hit = false;
                    for (std::size_t i = p + 1 + (negate ? 1 : 0); i < close; ++i) {
                        if (i + 2 < close && pattern[i + 1] == '-') {
                            hit = hit || (path[s] >= pattern[i] && path[s] <= pattern[i + 2]);
                            i += 2;
                        } else {
                            hit = hit || path[s] == pattern[i];
                        }
                    }
                    if (hit == negate || path[s] == '/') return false;
                    p = close;
                }
            } else if (path[s] != c) {
                return false;
            }
            ++p;
            ++s;
        }
        return s == path.size();
        }();
        if (!hit) known = 1;
        return hit;
    };
    return match(0, 0);
}

std::string cardConfigsJson(const std::string& readme, const std::string& path)
{
    bool found = false;
    std::vector<YamlLine> lines = configsBlock(readme, found);
    if (!found) return "null";
    Json configs = CardYaml(std::move(lines), path).parse();
    if (configs.is_null()) return "null";
    if (!configs.is_array()) throw fileError(path, "its YAML configs: is not a list of configurations");
    return shown(configs);
}

} // namespace loralab
