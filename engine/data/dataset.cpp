// Dataset readers; see dataset.h.
#include "engine/data/dataset.h"

#include "engine/data/chat/chat_template.h"
#include "engine/data/columnar/columnar_file.h"
#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <zlib.h>

namespace loralab {

std::uint64_t datasetByteLimit();

namespace {

using Json = nlohmann::json;

const std::string kAssistantTurn = "\n\nAssistant:";

bool isBlank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Calls each(line, number) for every line of `text`, without its '\n', as
// std::getline would cut them (numbers from 1), without copying the text: a
// dataset may be one line of tens of megabytes.
template <typename F>
std::int64_t forEachLine(const std::string& text, F each)
{
    const std::string_view all(text);
    std::int64_t number = 0;
    for (std::size_t begin = 0; begin < all.size();) {
        std::size_t end = all.find('\n', begin);
        if (end == std::string_view::npos) end = all.size();
        each(all.substr(begin, end - begin), ++number);
        begin = end + 1;
    }
    return number;
}

bool isGzip(const std::string& bytes)
{
    return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

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

// "not valid UTF-8 (byte 0xff at offset 17 of the line)", or "" for a valid line.
std::string lineUtf8Problem(std::string_view line)
{
    const std::size_t bad = findInvalidUtf8(line);
    return bad == std::string_view::npos ? "" : "not valid UTF-8 (" + invalidUtf8At(line, bad) + " of the line)";
}

// How much of the start of a file is read to tell text from binary data.
constexpr std::size_t kSniffBytes = 64 * 1024;

// Refuses what is not text before it is read line by line: a model trained
// on an image, an archive or a checkpoint picked by mistake would learn
// noise. A NUL byte never occurs in text (UTF-16 aside, named on its own).
// Random bytes are about 11% control characters and 40% ill-formed UTF-8; a
// text in a one-byte code page has no control characters (tabs, form feeds
// and terminal colour codes are text) and a few percent of ill-formed bytes
// (Latin-1 accents) up to most of them (Greek or Cyrillic code pages). A few
// are let through: those lines are skipped, each with its reason.
void refuseBinary(const std::string& text, const std::string& path)
{
    if (text.size() >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff')))
        throw fileError(path, "is UTF-16 text (it starts with a UTF-16 byte order mark); save it as UTF-8");
    const std::size_t nul = text.find('\0');
    if (nul != std::string::npos)
        throw fileError(path, "looks like a binary file, not text or JSONL (a NUL byte at offset " + std::to_string(nul) +
                                  "); give a UTF-8 text, JSONL or .gz file");
    const std::string_view head(text.data(), std::min(text.size(), kSniffBytes));
    std::size_t controls = 0;
    for (const char ch : head) {
        const auto c = static_cast<unsigned char>(ch);
        controls += (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) || c == 0x7f;
    }
    std::size_t invalid = 0;
    std::size_t firstInvalid = std::string_view::npos;
    for (std::size_t at = findInvalidUtf8(head); at != std::string_view::npos;) {
        if (invalid++ == 0) firstInvalid = at;
        const std::size_t next = findInvalidUtf8(head.substr(at + 1));
        at = next == std::string_view::npos ? next : at + 1 + next;
    }
    const bool manyControls = controls * 50 > head.size();              // over 2%
    const bool littleText = (controls + invalid) * 10 > head.size();   // over 10% not text
    if (!manyControls && !littleText) return;
    const std::string window = "% of its first " + std::to_string(head.size()) + " bytes";
    if (controls * 100 > head.size()) // over 1%
        throw fileError(path, "looks like a binary file, not text or JSONL (" + std::to_string(100 * (controls + invalid) / head.size()) +
                                  window + " are control characters or not UTF-8); give a UTF-8 text, JSONL or .gz file");
    throw fileError(path, "is not UTF-8 text (" + std::to_string(100 * invalid / head.size()) + window +
                              " are not UTF-8, the first is " + invalidUtf8At(head, firstInvalid) + "); save it as UTF-8");
}

DatasetFormat formatOfObject(const Json& j)
{
    if (j.contains("chosen") && j.contains("rejected")) {
        // Message lists: a preference pair in messages form, rendered as chat.
        if (j["chosen"].is_array() || j["rejected"].is_array()) return DatasetFormat::Chat;
        return j.contains("prompt") ? DatasetFormat::Preference : DatasetFormat::HhRlhf;
    }
    if (j.contains("input") && j.contains("target")) return DatasetFormat::InputTarget;
    if (j.contains("prompt") && j.contains("completion")) return DatasetFormat::PromptCompletion;
    if (conversationFormatOf(j) != ConversationFormat::Auto) return DatasetFormat::Chat;
    return DatasetFormat::Auto;
}

const char* keysOf(DatasetFormat f)
{
    switch (f) {
    case DatasetFormat::HhRlhf: return "\"chosen\" and \"rejected\"";
    case DatasetFormat::InputTarget: return "\"input\" and \"target\"";
    case DatasetFormat::PromptCompletion: return "\"prompt\" and \"completion\"";
    case DatasetFormat::Preference: return "\"prompt\", \"chosen\" and \"rejected\"";
    case DatasetFormat::Chat: return "\"messages\", \"conversations\", \"instruction\"/\"output\" or message-list \"chosen\"/\"rejected\"";
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

// A chat record: its conversation, and for previews the Human/Assistant text
// before its last assistant message and that message.
void chatExample(const Json& j, Example& e)
{
    try {
        if (j.contains("chosen") && j.contains("rejected")) {
            const PreferenceConversation pair = preferenceFromJson(j);
            e.conversation = withCompletion(pair.prompt, pair.chosen);
            e.rejectedConversation = withCompletion(pair.prompt, pair.rejected);
            e.rejected = e.rejectedConversation[lastAnswerIndex(e.rejectedConversation)].content;
        } else {
            e.conversation = conversationFromJson(j);
        }
    } catch (const Error& why) {
        throw std::invalid_argument(why.what());
    }
    const std::size_t last = lastAnswerIndex(e.conversation);
    if (last == e.conversation.size()) throw std::invalid_argument("no assistant message to learn from");
    e.prompt = renderHumanAssistant(beforeLastAnswer(e.conversation), true).text;
    e.target = e.conversation[last].content;
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
    case DatasetFormat::Chat: chatExample(j, e); break;
    default: throw std::invalid_argument("not a JSON dataset");
    }
    if (isBlank(e.target)) throw std::invalid_argument("empty answer");
    return e;
}

// Calls each(record, number) for every JSON value of `text`: a line each
// (numbered as lines), or the elements of one JSON array (as ShareGPT and
// Alpaca files often are; numbered by their place, from 1). A line that is
// not JSON goes to d.skipped with its reason; an array that does not parse
// is an Error.
template <typename F>
std::int64_t forEachRecord(const std::string& text, const std::string& path, Dataset& d, F each)
{
    const auto firstChar = text.find_first_not_of(" \t\r\n");
    if (firstChar != std::string::npos && text[firstChar] == '[') {
        Json all;
        try {
            all = Json::parse(text);
        } catch (const Json::exception& why) {
            throw fileError(path, std::string("is a JSON array that does not parse (") + why.what() + ")");
        }
        std::int64_t number = 0;
        for (auto& j : all) each(std::move(j), ++number);
        return number;
    }
    return forEachLine(text, [&](std::string_view line, std::int64_t number) {
        if (isBlank(line)) return;
        Json j;
        try {
            j = Json::parse(line.begin(), line.end());
        } catch (const Json::exception&) {
            const std::string utf8 = lineUtf8Problem(line);
            d.skipped.push_back({number, utf8.empty() ? "not valid JSON" : utf8});
            return;
        }
        each(std::move(j), number);
    });
}

// A record under the column mapping: each mapped column moved to its usual
// name (a column already of that name is replaced). Throws
// std::invalid_argument when a mapped column is missing.
void applyColumns(Json& j, const ColumnMapping& columns)
{
    for (const auto& [usual, column] : columns.pairs()) {
        if (column == usual) continue;
        const auto it = j.find(column);
        if (it == j.end()) throw std::invalid_argument("no \"" + column + "\" (the " + usual + " column)");
        Json value = std::move(*it);
        j.erase(column);
        j[usual] = std::move(value);
    }
}

std::string keyList(const Json& j)
{
    std::string out;
    for (const auto& [key, value] : j.items()) out += (out.empty() ? "\"" : ", \"") + key + "\"";
    return out;
}

// A mapped column the first record lacks is a mistake in the mapping, not a
// malformed line: one message with the keys there are.
void checkColumns(const Json& first, const ColumnMapping& columns, const std::string& path)
{
    for (const auto& [usual, column] : columns.pairs())
        if (!first.contains(column))
            throw fileError(path, "has no column \"" + column + "\" (set as the " + usual + " column); its first record's keys are " +
                                      keyList(first));
}

Dataset parseJsonl(const std::string& text, const std::string& path, DatasetFormat format, const ColumnMapping& columns)
{
    Dataset d;
    d.path = path;
    d.format = format;
    bool checked = columns.empty();
    const auto record = [&](Json j, std::int64_t number) {
        if (!j.is_object()) {
            d.skipped.push_back({number, "not a JSON object"});
            return;
        }
        if (!checked) {
            checkColumns(j, columns, path);
            checked = true;
        }
        try {
            applyColumns(j, columns);
        } catch (const std::invalid_argument& why) {
            d.skipped.push_back({number, why.what()});
            return;
        }
        if (d.format == DatasetFormat::Auto) {
            d.format = formatOfObject(j);
            if (d.format == DatasetFormat::Auto) {
                d.skipped.push_back({number, "has none of the known key sets"});
                return;
            }
        }
        try {
            Example e = exampleFromJson(j, d.format);
            e.line = number;
            d.examples.push_back(std::move(e));
        } catch (const std::invalid_argument& why) {
            d.skipped.push_back({number, why.what()});
        }
    };
    d.lines = forEachRecord(text, path, d, record);
    if (d.examples.empty()) {
        if (d.format == DatasetFormat::Auto)
            throw fileError(path, "no line is a JSON object with \"chosen\"/\"rejected\", \"input\"/\"target\", "
                                  "\"prompt\"/\"completion\", \"prompt\"/\"chosen\"/\"rejected\", \"messages\", "
                                  "\"conversations\" or \"instruction\"/\"output\"" +
                                      (d.skipped.empty() ? std::string(" (the file is empty)") : "; " + d.skippedSummary()));
        throw fileError(path, std::string("no usable example with ") + keysOf(d.format) +
                                  (d.skipped.empty() ? " (the file is empty)" : "; " + d.skippedSummary()));
    }
    return d;
}

// One line (or row) of text data: without its line ending, skipped when
// blank, and refused with the reason when it is not UTF-8.
void addTextLine(Dataset& d, std::string_view line, std::int64_t number)
{
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (isBlank(line)) return;
    if (const std::string utf8 = lineUtf8Problem(line); !utf8.empty()) {
        d.skipped.push_back({number, utf8});
        return;
    }
    Example e;
    e.target = std::string(line);
    e.line = number;
    d.examples.push_back(std::move(e));
}

Dataset parseText(const std::string& text, const std::string& path)
{
    Dataset d;
    d.path = path;
    d.format = DatasetFormat::Text;
    d.lines = forEachLine(text, [&](std::string_view line, std::int64_t number) { addTextLine(d, line, number); });
    if (d.examples.empty())
        throw fileError(path, d.skipped.empty() ? "holds no text (every line is empty)" : "holds no usable text; " + d.skippedSummary());
    return d;
}

// Rows of a Parquet or Arrow file as examples: its "text" column for text
// data, else the columns of one of the JSONL layouts (a row is read as the
// JSON object of its columns, so a row is skipped for what a line would be).
// Skipped rows are numbered from 1, as lines are.
Dataset parseColumnar(const std::string& path, DatasetFormat format, const ColumnMapping& mapping)
{
    const std::vector<ColumnInfo> schema = columnarSchema(path);
    std::string columnList;
    for (const auto& c : schema) columnList += (columnList.empty() ? "" : ", ") + c.name + " (" + c.type + ")";
    // The columns under their usual names: a mapped column takes its usual
    // name, and a column of that name beside it drops out.
    std::vector<std::pair<std::string, std::string>> named; // (usual name, column in the file)
    for (const auto& c : schema) {
        std::string as = c.name;
        for (const auto& [usual, column] : mapping.pairs()) {
            if (c.name == column) as = usual;
            else if (c.name == usual) as.clear();
        }
        if (!as.empty()) named.emplace_back(as, c.name);
    }
    const auto inFile = [&](const std::string& name) {
        return std::find_if(schema.begin(), schema.end(), [&](const ColumnInfo& c) { return c.name == name; });
    };
    for (const auto& [usual, column] : mapping.pairs())
        if (inFile(column) == schema.end())
            throw fileError(path, "has no column \"" + column + "\" (set as the " + usual + " column); its columns are " + columnList);
    const auto fileColumn = [&](const std::string& usual) {
        for (const auto& [as, column] : named)
            if (as == usual) return column;
        return std::string();
    };
    const auto has = [&](const char* name) { return !fileColumn(name).empty(); };
    // The layout the columns make, as a line with those keys would. A column
    // of structs or lists stands in as a list (a preference pair in messages form).
    Json probe = Json::object();
    for (const auto& [as, column] : named) {
        const auto info = inFile(column);
        const auto open = info->type.find('<');
        const bool list = open != std::string::npos && open >= 4 && info->type.compare(open - 4, 4, "list") == 0;
        probe[as] = list ? Json::array() : Json("");
    }
    const DatasetFormat layout = formatOfObject(probe);
    if (format == DatasetFormat::Auto) {
        format = layout;
        if (format == DatasetFormat::Auto && has("text")) format = DatasetFormat::Text;
    }
    if (format == DatasetFormat::Auto)
        throw fileError(path, "has no columns of a dataset layout LoRA Lab reads (\"text\"; \"chosen\"/\"rejected\"; "
                              "\"input\"/\"target\"; \"prompt\"/\"completion\"; \"prompt\"/\"chosen\"/\"rejected\"; "
                              "\"messages\"; \"conversations\"; \"instruction\"/\"output\"); its columns are " +
                                  columnList + "; a column mapping (text_column, messages_column, ...) names others");
    ColumnarReadOptions options;
    std::vector<std::pair<std::string, std::string>> read; // (usual name, column) in the order read
    if (format == DatasetFormat::Text) {
        if (!has("text")) throw fileError(path, "has no \"text\" column for text data; its columns are " + columnList);
        read.emplace_back("text", fileColumn("text"));
    } else {
        if (layout != format && !(format == DatasetFormat::HhRlhf && has("chosen") && has("rejected")))
            throw fileError(path, std::string("has no ") + keysOf(format) + " columns; its columns are " + columnList);
        for (const char* key : {"chosen", "rejected", "input", "target", "prompt", "completion", "messages", "conversations",
                                "instruction", "output", "system"})
            if (has(key)) read.emplace_back(key, fileColumn(key));
    }
    for (const auto& r : read) options.columns.push_back(r.second);
    options.maxBytes = static_cast<std::int64_t>(datasetByteLimit());
    const ColumnTable table = readColumnarFile(path, options);
    Dataset d;
    d.path = path;
    d.format = format;
    d.lines = table.rows;
    for (std::int64_t i = 0; i < table.rows; ++i) {
        const std::int64_t number = i + 1;
        if (format == DatasetFormat::Text) {
            const Json v = table.columns[0].value(i);
            if (!v.is_string()) {
                if (!v.is_null()) d.skipped.push_back({number, "\"text\" is not a string"});
                continue;
            }
            addTextLine(d, v.get<std::string>(), number);
            continue;
        }
        const Json fileRow = Json::parse(table.row(i).dump(-1, ' ', false, Json::error_handler_t::replace));
        Json row = Json::object();
        for (const auto& [usual, column] : read)
            if (fileRow.contains(column)) row[usual] = fileRow[column];
        try {
            for (const auto& [key, value] : row.items())
                if (value.is_string())
                    if (const std::string utf8 = lineUtf8Problem(value.get<std::string>()); !utf8.empty())
                        throw std::invalid_argument("\"" + key + "\" " + utf8);
            Example e = exampleFromJson(row, format);
            e.line = number;
            d.examples.push_back(std::move(e));
        } catch (const std::invalid_argument& why) {
            d.skipped.push_back({number, why.what()});
        }
    }
    if (d.examples.empty())
        throw fileError(path, "has no usable row (" + std::to_string(table.rows) + " rows" +
                                  (d.skipped.empty() ? std::string(")") : "; " + d.skippedSummary() + ")"));
    return d;
}

} // namespace

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

std::uint64_t datasetByteLimit()
{
    const char* set = std::getenv("LORALAB_MAX_DATASET_BYTES");
    if (set && *set) {
        try {
            return std::stoull(set);
        } catch (const std::exception&) {
            throw Error(std::string("LORALAB_MAX_DATASET_BYTES must be a number of bytes, not \"") + set + "\"");
        }
    }
    return kMaxDatasetBytes;
}

std::string readMaybeGzip(const std::filesystem::path& path)
{
    std::string bytes = readTextFile(path, datasetByteLimit());
    if (!isGzip(bytes)) return bytes; // moved out, not copied
    return gunzipIfCompressed(bytes, path.string());
}

std::string gunzipIfCompressed(const std::string& raw, const std::string& path)
{
    if (!isGzip(raw)) return raw;
    // Text compresses a few times over; a file that inflates a hundred times
    // its size is a gzip bomb more likely than a dataset, and what any file
    // may inflate to is bounded as datasets on disk are.
    const std::uint64_t limit = std::min<std::uint64_t>(
        datasetByteLimit(), std::max<std::uint64_t>(kGzipFloorBytes, kGzipMaxRatio * static_cast<std::uint64_t>(raw.size())));
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
        if (out.size() > limit) {
            inflateEnd(&z);
            throw fileError(path, "inflates to more than " + bytesText(static_cast<std::int64_t>(limit)) + " (" +
                                      std::to_string(out.size() / std::max<std::size_t>(1, raw.size())) + " times its " +
                                      bytesText(static_cast<std::int64_t>(raw.size())) +
                                      " on disk) and is refused; a dataset that large can be given uncompressed, or "
                                      "LORALAB_MAX_DATASET_BYTES raises the bound");
        }
    }
    inflateEnd(&z);
    return out;
}

bool ColumnMapping::empty() const { return pairs().empty(); }

std::vector<std::pair<std::string, std::string>> ColumnMapping::pairs() const
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [usual, column] : {std::pair<const char*, const std::string*>{"text", &text}, {"prompt", &prompt},
                                        {"completion", &answer}, {"messages", &messages}, {"chosen", &chosen}, {"rejected", &rejected}})
        if (!column->empty()) out.emplace_back(usual, *column);
    return out;
}

Dataset parseDataset(const std::string& text, const std::string& path, DatasetFormat format, const ColumnMapping& columns)
{
    refuseBinary(text, path);
    if (format == DatasetFormat::Text) {
        if (!columns.text.empty() && columns.text != "text")
            throw fileError(path, "is plain text, which has no columns; text_column \"" + columns.text + "\" applies to JSONL, Parquet and Arrow data");
        return parseText(text, path);
    }
    if (format == DatasetFormat::Auto) {
        const std::string name = stripGz(std::filesystem::path(path).filename().string());
        const bool jsonName = endsWith(name, ".jsonl") || endsWith(name, ".json");
        const auto firstChar = text.find_first_not_of(" \t\r\n");
        const bool looksJson = firstChar != std::string::npos && (text[firstChar] == '{' || (jsonName && text[firstChar] == '['));
        if (!jsonName && !looksJson) return parseText(text, path);
    }
    if (!columns.text.empty()) {
        // JSON records with their text in a column: text data, a record a line.
        Dataset d;
        d.path = path;
        d.format = DatasetFormat::Text;
        bool checked = false;
        d.lines = forEachRecord(text, path, d, [&](const Json& j, std::int64_t number) {
            if (!j.is_object()) return d.skipped.push_back({number, "not a JSON object"});
            if (!checked) {
                checkColumns(j, columns, path);
                checked = true;
            }
            const auto it = j.find(columns.text);
            if (it == j.end() || !it->is_string()) return d.skipped.push_back({number, "\"" + columns.text + "\" is not a string"});
            addTextLine(d, it->get<std::string>(), number);
        });
        if (d.examples.empty()) throw fileError(path, "holds no text in \"" + columns.text + "\"" + (d.skipped.empty() ? "" : "; " + d.skippedSummary()));
        return d;
    }
    return parseJsonl(text, path, format, columns);
}

Dataset loadDataset(const std::filesystem::path& path, DatasetFormat format, const ColumnMapping& columns)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !std::filesystem::is_symlink(path, ec))
        throw fileError(path.string(), "dataset file not found");
    const std::string kind = nonRegularFileKind(path);
    if (kind == "a directory")
        throw fileError(path.string(), "is a directory, not a dataset file (give a .jsonl, .json, text or .gz file in it)");
    if (!kind.empty()) throw fileError(path.string(), "is " + kind + ", not a dataset file; give a regular file");
    // Parquet and Arrow files are told by their first bytes, whatever their names.
    if (detectColumnarFormat(path.string()) != ColumnarFormat::None) return parseColumnar(path.string(), format, columns);
    // A dataset repository may hold CSV (the `datasets` library reads it);
    // read as lines of text it would train on commas, so it is refused.
    const std::string name = stripGz(path.filename().string());
    if (endsWith(name, ".csv") || endsWith(name, ".tsv"))
        throw fileError(path.string(), "is CSV, which LoRA Lab does not read; give the data as JSONL, Parquet or Arrow "
                                       "(datasets' to_json or to_parquet writes them)");
    return parseDataset(readMaybeGzip(path), path.string(), format, columns);
}

Dataset loadDatasetFiles(const std::vector<std::filesystem::path>& files, const std::string& label, DatasetFormat format,
                         const ColumnMapping& columns)
{
    if (files.empty()) throw Error(label + ": no data files");
    Dataset all = loadDataset(files.front(), format, columns);
    if (files.size() == 1) return all;
    all.path = label;
    const std::string firstName = files.front().filename().string();
    for (auto& s : all.skipped) s.reason = firstName + ": " + s.reason;
    // Lines (rows) are numbered through the split, as in the files written one after another.
    for (std::size_t i = 1; i < files.size(); ++i) {
        Dataset part = loadDataset(files[i], all.format, columns);
        for (auto& e : part.examples) {
            e.line += all.lines;
            all.examples.push_back(std::move(e));
        }
        for (auto& s : part.skipped) all.skipped.push_back({all.lines + s.line, files[i].filename().string() + ": " + s.reason});
        all.lines += part.lines;
    }
    return all;
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
