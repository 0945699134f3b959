// What users' files can get wrong, and how it is reported: run configuration
// numbers that are not whole or in range, text that is not UTF-8, datasets
// that are directories or binary files, one huge line, and run directories
// claimed by two runs at once.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/data/dataset.h"
#include "engine/config/run_config.h"
#include "engine/records/run_directory.h"
#include "engine/tokenizer/sentencepiece_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/json_file.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <sys/resource.h>
#include <thread>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

bool hasProblem(const std::vector<std::string>& problems, const std::string& start)
{
    return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.rfind(start, 0) == 0; });
}

// Peak resident memory of this process so far, in KiB.
long peakResidentKib()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

// A line of `bytes` bytes of words, numbers and punctuation, no newline.
std::string longLine(std::size_t bytes, unsigned seed)
{
    static const char* kWords[] = {"the", "capital", "of", "France", "is", "Paris,", "and", "42", "rivers", "flow",
                                   "north.", "Caf\xC3\xA9", "x1", "(see", "below)", "Z", "q", "well-known", "it's", "A.I."};
    std::mt19937 rng(seed);
    std::string text;
    text.reserve(bytes + 16);
    while (text.size() < bytes) {
        text += kWords[rng() % (sizeof kWords / sizeof kWords[0])];
        text += rng() % 17 == 0 ? "  " : " "; // double spaces are never cut
    }
    text += "end";
    return text;
}

} // namespace

class InputCheckTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void run_config_integers_are_whole_and_in_range();
    void json_files_that_are_not_utf8_say_so();
    void dataset_lines_that_are_not_utf8_are_skipped_by_number();
    void datasets_that_are_directories_or_binary_are_refused();
    void sentencepiece_long_text_in_pieces_gives_the_whole_ids();
    void sentencepiece_without_dummy_prefix_is_encoded_whole();
    void one_long_line_reads_and_encodes_in_proportion();
    void run_directories_are_claimed_once();
};
REGISTER_TESTS(InputCheckTests);

void InputCheckTests::run_config_integers_are_whole_and_in_range()
{
    VERIFY_THROWS_WITH(parseRunConfig(R"({"batch_size": 4.5})", "c.json"), "c.json: batch_size: 4.5 is not a whole number",
                       "like 16");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"seed": -1})", "c.json"), "seed: -1 is negative", "from 0 to 18446744073709551615");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"seed": -1.0})", "c.json"), "seed: -1.0 is negative");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"threads": 1e10})", "c.json"), "threads: 10000000000.0 is out of range",
                       "from -2147483648 to 2147483647");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"max_steps": 1e19})", "c.json"), "max_steps: 1e+19 is out of range");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"max_steps": 9223372036854775808})", "c.json"), "max_steps", "out of range");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"eval_interval": 0.1})", "c.json"), "eval_interval: 0.1 is not a whole number");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"max_steps": "10"})", "c.json"), "max_steps", "should be like 200");
    // Whole numbers written as floats mean what they say.
    QCOMPARE(parseRunConfig(R"({"max_steps": 1e3, "batch_size": 8.0})", "c.json").maxSteps, 1000);
    QCOMPARE(parseRunConfig(R"({"seed": 18446744073709551615})", "c.json").seed, 18446744073709551615ull);
    QCOMPARE(parseRunConfig(R"({"threads": 2147483647})", "c.json").threads, 2147483647);

    // Values of the right type that make no sense are refused by validation.
    RunConfig c;
    c.vocabSize = -1;
    c.epochs = -1;
    c.maxSteps = -3;
    const auto problems = validateRunConfig(c);
    QVERIFY(hasProblem(problems, "vocab_size: must not be negative"));
    QVERIFY(hasProblem(problems, "epochs: must not be negative"));
    QVERIFY(hasProblem(problems, "max_steps: must not be negative"));
}

void InputCheckTests::json_files_that_are_not_utf8_say_so()
{
    // A Latin-1 "é" inside a string, on the second line.
    const std::string latin1 = "{\"name\": \"run\",\n \"dataset\": \"caf\xE9.jsonl\"}";
    VERIFY_THROWS_WITH(parseRunConfig(latin1, "run.json"), "run.json: is not valid UTF-8 (byte 0xe9 at offset 32, line 2)",
                       "save it as UTF-8");
    VERIFY_THROWS_WITH(parseJsonObject(std::string("{\"a\": 1}\xFF"), "config.json"), "config.json",
                       "not valid UTF-8 (byte 0xff at offset 8");
    // Well-formed text with a syntax error is still a JSON error.
    VERIFY_THROWS_WITH(parseJsonObject(std::string("{\"caf\xC3\xA9\": }"), "config.json"), "is not valid JSON");
    QCOMPARE(findInvalidUtf8("caf\xC3\xA9"), std::string_view::npos);
    QCOMPARE(findInvalidUtf8("ab\xC3("), 2u);       // a lead byte without its continuation
    QCOMPARE(findInvalidUtf8("\xED\xA0\x80"), 0u);  // a surrogate
    QCOMPARE(invalidUtf8At("ab\xC3(", 2), std::string("byte 0xc3 at offset 2"));
}

void InputCheckTests::dataset_lines_that_are_not_utf8_are_skipped_by_number()
{
    const std::string jsonl = R"({"prompt": "Q1", "completion": "A1"})" "\n"
                              "{\"prompt\": \"Q\xFF\", \"completion\": \"A\"}\n"
                              R"({"prompt": "Q3", "completion": "A3"})" "\n";
    const Dataset d = parseDataset(jsonl, "d.jsonl", DatasetFormat::Auto);
    QCOMPARE(d.examples.size(), 2u);
    QVERIFY(d.skipped.size() == 1u);
    QCOMPARE(d.skipped[0].line, 2);
    QCOMPARE(d.skipped[0].reason, std::string("not valid UTF-8 (byte 0xff at offset 13 of the line)"));

    const Dataset t = parseDataset("one\ntw\xE9lve\nthree\n", "t.txt", DatasetFormat::Text);
    QCOMPARE(t.examples.size(), 2u);
    QVERIFY(t.skipped.size() == 1u);
    QCOMPARE(t.skipped[0].line, 2);
    VERIFY_THROWS_WITH(parseDataset("\n  The only line of this file has one Latin-1 byte: caf\xE9.\n", "t.txt", DatasetFormat::Text),
                       "t.txt: holds no usable text", "line 2: not valid UTF-8 (byte 0xe9 at offset 54 of the line)");
}

void InputCheckTests::datasets_that_are_directories_or_binary_are_refused()
{
    const fs::path dir = test::scratchDir("binary-datasets");
    VERIFY_THROWS_WITH(loadDataset(dir), dir.string(), "is a directory, not a dataset file");

    // Random bytes (no NUL among them) and an executable-like file with NULs.
    std::mt19937 rng(3);
    std::string noise;
    while (noise.size() < 20000) {
        const char c = static_cast<char>(rng() % 255 + 1);
        noise.push_back(c);
    }
    writeFileAtomic(dir / "noise.txt", noise);
    VERIFY_THROWS_WITH(loadDataset(dir / "noise.txt"), "noise.txt: looks like a binary file, not text or JSONL");
    VERIFY_THROWS_WITH(parseDataset(std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10), "model.bin", DatasetFormat::Auto),
                       "model.bin: looks like a binary file", "NUL byte at offset 7");
    VERIFY_THROWS_WITH(parseDataset(std::string("\xFF\xFEh\0i\0", 6), "u16.txt", DatasetFormat::Auto), "is UTF-16 text",
                       "save it as UTF-8");
    // A text in a one-byte code page (here Greek, ISO 8859-7) is not binary but
    // not UTF-8 either.
    std::string greek;
    for (int i = 0; i < 200; ++i) greek += "\xE1\xEB\xF6\xE1 \xE2\xDE\xF4\xE1\n";
    VERIFY_THROWS_WITH(parseDataset(greek, "greek.txt", DatasetFormat::Text), "greek.txt: is not UTF-8 text",
                       "the first is byte 0xe1 at offset 0", "save it as UTF-8");
    // A Latin-1 text with the odd accent keeps its UTF-8 lines.
    std::string latin1;
    for (int i = 0; i < 50; ++i) latin1 += "The river flows north through the valley.\n";
    latin1 += "Caf\xE9 au lait.\n";
    const Dataset d = parseDataset(latin1, "latin1.txt", DatasetFormat::Text);
    QCOMPARE(d.examples.size(), 50u);
    QCOMPARE(d.skipped.size(), 1u);
    // Tabs, form feeds and terminal colour codes are text.
    QCOMPARE(parseDataset("a\tb\f\x1b[1mc\x1b[0m\n", "log.txt", DatasetFormat::Text).examples.size(), 1u);
}

// Cutting long text at spaces must give exactly the ids of one whole encoding.
void InputCheckTests::sentencepiece_long_text_in_pieces_gives_the_whole_ids()
{
    SentencePieceTokenizer tokenizer(test::fixtureModel("tiny-llama-spm") / "tokenizer.model");
    QVERIFY(tokenizer.cutsLongText());
    std::string text = longLine(20000, 11);
    text += "\n\nHuman: a  b\tc\n Assistant: d\xC3\xA9j\xC3\xA0 vu, 3.14 x2 Y\n" + longLine(3000, 12);
    tokenizer.setPieceBytes(0);
    const std::vector<std::int64_t> whole = tokenizer.encode(text);
    for (const std::size_t piece : {1u, 5u, 333u, 4096u}) {
        tokenizer.setPieceBytes(piece);
        QVERIFY(tokenizer.encode(text) == whole);
    }
}

// A model whose pieces do not start at spaces cannot be cut there: it is
// encoded whole, and the check at load time says so.
void InputCheckTests::sentencepiece_without_dummy_prefix_is_encoded_whole()
{
    const fs::path dir = test::scratchDir("spm-no-prefix");
    std::string corpus;
    for (int i = 0; i < 200; ++i) corpus += longLine(200, static_cast<unsigned>(i)) + "\n";
    writeFileAtomic(dir / "corpus.txt", corpus);
    for (const char* option : {"add_dummy_prefix", "treat_whitespace_as_suffix"}) {
        const std::string value = std::string(option) == "add_dummy_prefix" ? "false" : "true";
        trainSentencePiece({{"input", (dir / "corpus.txt").string()},
                            {"model_prefix", (dir / option).string()},
                            {"model_type", "bpe"},
                            {"vocab_size", "200"},
                            {"hard_vocab_limit", "false"},
                            {option, value},
                            {"minloglevel", "2"}});
        SentencePieceTokenizer tokenizer(dir / (std::string(option) + ".model"));
        QVERIFY(!tokenizer.cutsLongText());
        const std::string text = longLine(3000, 5);
        tokenizer.setPieceBytes(0);
        const auto whole = tokenizer.encode(text);
        tokenizer.setPieceBytes(100);
        QVERIFY(tokenizer.encode(text) == whole);
    }
}

// A dataset of one 4 MB line is read and encoded in time and memory in
// proportion to it. Given to sentencepiece whole, the line took 0.7 GB more
// memory (about 180 bytes per byte of text; 3 GB and two minutes for 50 MB
// through loralab-cli run); in pieces it takes about 15 bytes per byte.
void InputCheckTests::one_long_line_reads_and_encodes_in_proportion()
{
    const fs::path dir = test::scratchDir("long-line");
    const std::size_t bytes = 4u << 20;
    writeFileAtomic(dir / "one-line.txt", longLine(bytes, 1));
    SentencePieceTokenizer tokenizer(test::fixtureModel("tiny-llama-spm") / "tokenizer.model");
    const long before = peakResidentKib();
    const auto start = std::chrono::steady_clock::now();
    std::size_t ids = 0;
    {
        const Dataset d = loadDataset(dir / "one-line.txt");
        QVERIFY(d.examples.size() == 1u);
        ids = tokenizer.encode(d.examples[0].target + "\n").size();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long grownKib = peakResidentKib() - before;
    std::cout << ids << " ids in " << seconds << " s, peak memory grew " << grownKib / 1024 << " MiB\n";
    QVERIFY(ids > bytes / 4);
    QVERIFY(grownKib < static_cast<long>(bytes / 1024 * 32)); // at most 32 bytes per byte of text
    QVERIFY(seconds < 60.0); // about 1 s on two busy cores
}

// Threads that create runs of one name in the same second each get their own
// directory: creation claims the name, it does not check and then create.
void InputCheckTests::run_directories_are_claimed_once()
{
    const fs::path runs = test::scratchDir("run-dir-race") / "runs";
    constexpr int kThreads = 8;
    constexpr int kEach = 25;
    std::vector<std::string> made(kThreads * kEach);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            ++ready;
            while (ready.load() < kThreads) {
            } // start together
            for (int i = 0; i < kEach; ++i) made[static_cast<std::size_t>(t * kEach + i)] = RunDirectory::create(runs, "same").path().string();
        });
    for (auto& thread : threads) thread.join();
    const std::set<std::string> distinct(made.begin(), made.end());
    QCOMPARE(distinct.size(), made.size());
    for (const auto& dir : made) QVERIFY(fs::is_directory(fs::path(dir) / "checkpoints"));
    VERIFY_THROWS_WITH(RunDirectory::create("/proc/no-runs-here", "x"), "/proc/no-runs-here", "cannot create the runs folder");
}

#include "test_input_checks.moc"
