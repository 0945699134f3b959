// Datasets as users bring them: raw WikiText (one paragraph per line, " = Heading = "
// lines) and plain text; Anthropic HH-RLHF dialogues (JSONL or JSONL.gz with
// "chosen" / "rejected"); and already-split {"input", "target"},
// {"prompt", "completion"} or {"prompt", "chosen", "rejected"} JSONL; the
// same layouts as columns of a Parquet or Arrow IPC file (as the Hugging Face
// cache holds WikiText: a "text" column); and chat data: OpenAI-style
// {"messages"}, ShareGPT {"conversations"} and Alpaca {"instruction",
// "input", "output"}, which a run renders with the model's chat template.
// Malformed lines (rows) are skipped and reported with their numbers.
#pragma once

#include "engine/config/choices.h"
#include "engine/data/chat/conversation.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

enum class DatasetFormat {
    Auto,
    Text,             // plain text or raw WikiText, one paragraph per line
    HhRlhf,           // {"chosen", "rejected"}
    InputTarget,      // {"input", "target"}
    PromptCompletion, // {"prompt", "completion"}
    Preference,       // {"prompt", "chosen", "rejected"}
    Chat,             // {"messages"}, {"conversations"} or {"instruction", "output"}
};

template <>
struct ChoiceList<DatasetFormat> {
    static constexpr const char* what = "dataset_format";
    static constexpr std::array<std::pair<DatasetFormat, const char*>, 7> items = {
        {{DatasetFormat::Auto, "auto"}, {DatasetFormat::Text, "text"}, {DatasetFormat::HhRlhf, "hh-rlhf"},
         {DatasetFormat::InputTarget, "input-target"}, {DatasetFormat::PromptCompletion, "prompt-completion"},
         {DatasetFormat::Preference, "preference"}, {DatasetFormat::Chat, "chat"}}};
};

struct Example {
    std::string prompt;   // dialogue up to and including the last "Assistant:"; empty for text
    std::string target;   // the answer (or the whole text line for text data)
    std::string rejected; // the rejected answer, when the data has one
    std::int64_t line = 0; // 1-based line in the source file
    // Chat data: the whole dialogue, which a run renders with the model's
    // chat template; prompt and target then hold its Human/Assistant text up
    // to the last assistant message and that message (for previews and
    // models without a template).
    Conversation conversation;
    // A preference pair in messages form: prompt + rejected answer, beside
    // `conversation` (prompt + chosen answer).
    Conversation rejectedConversation;

    bool isChat() const { return !conversation.empty(); }
};

// Which columns (JSON keys) hold what, for data whose names are not the usual
// ones: each set name is read as the usual one ("text", "prompt",
// "completion", "messages", "chosen", "rejected"), and a column of the usual
// name beside it is ignored. Empty: the usual names.
struct ColumnMapping {
    std::string text;
    std::string prompt;
    std::string answer;
    std::string messages;
    std::string chosen;
    std::string rejected;

    bool empty() const;
    // (the usual name, the column set for it) for each one that is set.
    std::vector<std::pair<std::string, std::string>> pairs() const;
};

struct SkippedLine {
    std::int64_t line = 0;
    std::string reason;
};

struct Dataset {
    std::string path;
    DatasetFormat format = DatasetFormat::Text;
    std::vector<Example> examples;
    std::vector<SkippedLine> skipped;
    std::int64_t lines = 0; // lines (rows, records) read, blank and skipped ones too

    bool isText() const { return format == DatasetFormat::Text; }
    bool isChat() const { return format == DatasetFormat::Chat; }
    bool hasRejected() const;
    // "12 malformed lines skipped (lines 4, 9, 17, ...)" or "".
    std::string skippedSummary() const;
};

// Reads a dataset file (.gz is decompressed). Auto detects the format from the
// file name and the first well-formed JSON line. A dataset with no usable
// example is an Error that says why; so is a directory, a binary file and a
// text that is not UTF-8 (UTF-16, or a one-byte code page). A line that is
// not valid UTF-8 is skipped, with its reason, like any malformed line.
// Parquet and Arrow files are known by their first bytes: a "text" column
// reads as text data (a row a line), else the columns of a JSONL layout.
// Bounds on what a dataset file brings into memory: its size on disk (and
// what a .gz inflates to) at most kMaxDatasetBytes, or the bytes
// LORALAB_MAX_DATASET_BYTES says; and a .gz at most kGzipMaxRatio times its
// compressed size (but kGzipFloorBytes always), which text never nears and a
// gzip bomb passes at once.
constexpr std::uint64_t kMaxDatasetBytes = 16ull << 30;
constexpr std::uint64_t kGzipMaxRatio = 100;
constexpr std::uint64_t kGzipFloorBytes = 256ull << 20;

Dataset loadDataset(const std::filesystem::path& path, DatasetFormat format = DatasetFormat::Auto,
                    const ColumnMapping& columns = {});

// The files of one split read as one dataset (a sharded Parquet split, the
// JSONL files of several folders), in order; `label` names it in messages
// ("Anthropic/hh-rlhf harmless-base train"). Every file must have the
// format of the first. A skipped line of a later file names its file.
Dataset loadDatasetFiles(const std::vector<std::filesystem::path>& files, const std::string& label,
                         DatasetFormat format = DatasetFormat::Auto, const ColumnMapping& columns = {});

// Same, from text already in memory (for tests and the fuzzers); `path` labels messages.
Dataset parseDataset(const std::string& text, const std::string& path, DatasetFormat format, const ColumnMapping& columns = {});

// Splits an HH dialogue at its last "\n\nAssistant:". The prompt keeps
// "Assistant:" at its end; the answer is the rest, stripped. Returns false
// when the text has no Assistant turn.
bool splitDialogue(const std::string& dialogue, std::string& prompt, std::string& answer);

// The whole contents of a file, gunzipped when it is gzip.
std::string readMaybeGzip(const std::filesystem::path& path);
// `bytes` decompressed when they are gzip, else unchanged; `path` labels errors.
std::string gunzipIfCompressed(const std::string& bytes, const std::string& path);

// Deterministically splits examples into train and validation parts.
void splitTrainValidation(const std::vector<Example>& all, double validationFraction, std::uint64_t seed,
                          std::vector<Example>& train, std::vector<Example>& validation);

} // namespace loralab
