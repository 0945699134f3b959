// Dataset readers; see dataset.h.
#include "engine/data/dataset.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <zlib.h>

namespace loralab {
namespace {

using Json = nlohmann::json;

const std::string kAssistantTurn = "\n\nAssistant:";

std::string strip(const std::string& s)
{
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stripGz(std::string name) { return endsWith(name, ".gz") ? name.substr(0, name.size() - 3) : name; }

DatasetFormat formatOfObject(const Json& j)
{
    if (j.contains("chosen") && j.contains("rejected")) return j.contains("prompt") ? DatasetFormat::Preference : DatasetFormat::HhRlhf;
    if (j.contains("input") && j.contains("target")) return DatasetFormat::InputTarget;
    if (j.contains("prompt") && j.contains("completion")) return DatasetFormat::PromptCompletion;
    return DatasetFormat::Auto;
}

const char* keysOf(DatasetFormat f)
{
    switch (f) {
    case DatasetFormat::HhRlhf: return "\"chosen\" and \"rejected\"";
    case DatasetFormat::InputTarget: return "\"input\" and \"target\"";
    case DatasetFormat::PromptCompletion: return "\"prompt\" and \"completion\"";
    case DatasetFormat::Preference: return "\"prompt\", \"chosen\" and \"rejected\"";
    default: return "";
    }
}

std::string stringField(const Json& j, const char* key)
{
    const auto it = j.find(key);
    if (it == j.end()) throw std::invalid_argument(std::string("missing \"") + key + "\"");
    if (!it->is_string()) throw std::invalid_argument(std::string("\"") + key + "\" is not a string");
    return it->get<std::string>();
}

// One JSONL record as an example; throws std::invalid_argument with the reason.
Example exampleFromJson(const Json& j, DatasetFormat format)
{
    Example e;
    switch (format) {
    case DatasetFormat::HhRlhf: {
        std::string rejectedPrompt;
        if (!splitDialogue(stringField(j, "chosen"), e.prompt, e.target))
            throw std::invalid_argument("\"chosen\" has no \"\\n\\nAssistant:\" turn");
        if (!splitDialogue(stringField(j, "rejected"), rejectedPrompt, e.rejected)) e.rejected.clear();
        break;
    }
    case DatasetFormat::InputTarget:
        e.prompt = stringField(j, "input");
        e.target = stringField(j, "target");
        break;
    case DatasetFormat::PromptCompletion:
        e.prompt = stringField(j, "prompt");
        e.target = stringField(j, "completion");
        break;
    case DatasetFormat::Preference:
        e.prompt = stringField(j, "prompt");
        e.target = stringField(j, "chosen");
        e.rejected = stringField(j, "rejected");
        break;
    default: throw std::invalid_argument("not a JSON dataset");
    }
    if (strip(e.target).empty()) throw std::invalid_argument("empty answer");
    return e;
}

Dataset parseJsonl(const std::string& text, const std::string& path, DatasetFormat format)
{
    Dataset d;
    d.path = path;
    d.format = format;
    std::istringstream in(text);
    std::string line;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (strip(line).empty()) continue;
        Json j;
        try {
            j = Json::parse(line);
        } catch (const Json::exception&) {
            d.skipped.push_back({number, "not valid JSON"});
            continue;
        }
        if (!j.is_object()) {
            d.skipped.push_back({number, "not a JSON object"});
            continue;
        }
        if (d.format == DatasetFormat::Auto) {
            d.format = formatOfObject(j);
            if (d.format == DatasetFormat::Auto) {
                d.skipped.push_back({number, "has none of the known key sets"});
                continue;
            }
        }
        try {
            Example e = exampleFromJson(j, d.format);
            e.line = number;
            d.examples.push_back(std::move(e));
        } catch (const std::invalid_argument& why) {
            d.skipped.push_back({number, why.what()});
        }
    }
    if (d.examples.empty()) {
        if (d.format == DatasetFormat::Auto)
            throw fileError(path, "no line is a JSON object with \"chosen\"/\"rejected\", \"input\"/\"target\", "
                                  "\"prompt\"/\"completion\" or \"prompt\"/\"chosen\"/\"rejected\"" +
                                      (d.skipped.empty() ? std::string(" (the file is empty)") : "; " + d.skippedSummary()));
        throw fileError(path, std::string("no usable example with ") + keysOf(d.format) +
                                  (d.skipped.empty() ? " (the file is empty)" : "; " + d.skippedSummary()));
    }
    return d;
}

Dataset parseText(const std::string& text, const std::string& path)
{
    Dataset d;
    d.path = path;
    d.format = DatasetFormat::Text;
    std::istringstream in(text);
    std::string line;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (strip(line).empty()) continue;
        Example e;
        e.target = line;
        e.line = number;
        d.examples.push_back(std::move(e));
    }
    if (d.examples.empty()) throw fileError(path, "holds no text (every line is empty)");
    return d;
}

} // namespace

const char* datasetFormatName(DatasetFormat format)
{
    switch (format) {
    case DatasetFormat::Auto: return "auto";
    case DatasetFormat::Text: return "text";
    case DatasetFormat::HhRlhf: return "hh-rlhf";
    case DatasetFormat::InputTarget: return "input-target";
    case DatasetFormat::PromptCompletion: return "prompt-completion";
    case DatasetFormat::Preference: return "preference";
    }
    return "?";
}

DatasetFormat parseDatasetFormat(const std::string& name)
{
    for (auto f : {DatasetFormat::Auto, DatasetFormat::Text, DatasetFormat::HhRlhf, DatasetFormat::InputTarget,
                   DatasetFormat::PromptCompletion, DatasetFormat::Preference})
        if (name == datasetFormatName(f)) return f;
    throw Error("unknown dataset format '" + name + "' (auto, text, hh-rlhf, input-target, prompt-completion, preference)");
}

bool Dataset::hasRejected() const
{
    return std::any_of(examples.begin(), examples.end(), [](const Example& e) { return !e.rejected.empty(); });
}

std::string Dataset::skippedSummary() const
{
    if (skipped.empty()) return "";
    std::ostringstream out;
    out << skipped.size() << " malformed line" << (skipped.size() == 1 ? "" : "s") << " skipped (";
    for (std::size_t i = 0; i < skipped.size() && i < 8; ++i)
        out << (i ? "; " : "") << "line " << skipped[i].line << ": " << skipped[i].reason;
    if (skipped.size() > 8) out << "; ...";
    out << ")";
    return out.str();
}

bool splitDialogue(const std::string& dialogue, std::string& prompt, std::string& answer)
{
    const auto at = dialogue.rfind(kAssistantTurn);
    if (at == std::string::npos) return false;
    prompt = dialogue.substr(0, at + kAssistantTurn.size());
    answer = strip(dialogue.substr(at + kAssistantTurn.size()));
    return true;
}

std::string readMaybeGzip(const std::filesystem::path& path) { return gunzipIfCompressed(readTextFile(path), path.string()); }

std::string gunzipIfCompressed(const std::string& raw, const std::string& path)
{
    if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b) return raw;
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) throw fileError(path, "cannot start gzip decompression");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z.avail_in = static_cast<uInt>(raw.size());
    std::string out;
    char buffer[1 << 16];
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        status = inflate(&z, Z_NO_FLUSH);
        if (status == Z_STREAM_END && z.avail_in > 0) {
            out.append(buffer, sizeof buffer - z.avail_out);
            // Concatenated gzip members: continue with the next one.
            inflateReset(&z);
            status = Z_OK;
            continue;
        }
        if (status != Z_OK && status != Z_STREAM_END) {
            inflateEnd(&z);
            throw fileError(path, status == Z_BUF_ERROR ? "gzip data is truncated" : "gzip data is corrupt");
        }
        out.append(buffer, sizeof buffer - z.avail_out);
    }
    inflateEnd(&z);
    return out;
}

Dataset parseDataset(const std::string& text, const std::string& path, DatasetFormat format)
{
    if (format == DatasetFormat::Text) return parseText(text, path);
    if (format == DatasetFormat::Auto) {
        const std::string name = stripGz(std::filesystem::path(path).filename().string());
        const bool jsonName = endsWith(name, ".jsonl") || endsWith(name, ".json");
        const auto firstChar = text.find_first_not_of(" \t\r\n");
        const bool looksJson = firstChar != std::string::npos && text[firstChar] == '{';
        if (!jsonName && !looksJson) return parseText(text, path);
    }
    return parseJsonl(text, path, format);
}

Dataset loadDataset(const std::filesystem::path& path, DatasetFormat format)
{
    if (!std::filesystem::exists(path)) throw fileError(path.string(), "dataset file not found");
    return parseDataset(readMaybeGzip(path), path.string(), format);
}

void splitTrainValidation(const std::vector<Example>& all, double validationFraction, std::uint64_t seed,
                          std::vector<Example>& train, std::vector<Example>& validation)
{
    std::vector<std::size_t> order(all.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    auto count = static_cast<std::size_t>(static_cast<double>(all.size()) * validationFraction + 0.5);
    if (validationFraction > 0.0 && count == 0 && all.size() > 1) count = 1;
    train.clear();
    validation.clear();
    for (std::size_t i = 0; i < order.size(); ++i) (i < count ? validation : train).push_back(all[order[i]]);
}

} // namespace loralab
