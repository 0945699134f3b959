// Files a hostile (or unlucky) user hands the parsers: JSON nested a hundred
// thousand deep, FIFOs and devices where files should be, a gzip bomb, a
// checkpoints folder that links elsewhere, damaged model files. Each is a
// clear message naming the file and the problem, and nothing outside the run
// is touched. LibTorch-free: these run under the sanitizers in CI.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/checkpoint/checkpoint_store.h"
#include "engine/config/run_config.h"
#include "engine/data/dataset.h"
#include "engine/lora/adapter_config.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// `text` gzip-compressed, as a .gz file holds it.
std::string gzipped(const std::string& text)
{
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

} // namespace

class HostileFileTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void deeply_nested_json_is_refused_without_a_crash();
    void fifos_devices_and_directories_are_refused_by_name();
    void gzip_bomb_is_refused_within_its_bound();
    void oversized_files_are_refused_before_they_are_read();
    void checkpoints_that_link_elsewhere_are_refused_and_pruning_keeps_what_others_wrote();
    void weak_answers_name_the_key();
};
REGISTER_TESTS(HostileFileTests);

void HostileFileTests::deeply_nested_json_is_refused_without_a_crash()
{
    const std::string deep = nested(100000);
    VERIFY_THROWS_WITH(parseRunConfig(R"({"name": )" + deep + "}", "deep.json"), "deep.json", "nests deeper than 64");
    RunConfig c;
    VERIFY_THROWS_WITH(setRunOption(c, "lora_targets", deep), "lora_targets", "nests deeper");
    // A value of the wrong type is quoted short, and so is a token the parser stops at.
    std::string list;
    for (int i = 0; i < 2500; ++i) list += (i ? ",1" : "1");
    const std::string wide = R"({"name": [)" + list + "]}";
    const std::string longNumber = R"({"name": )" + std::string(5000, '1') + "}";
    for (const std::string& text : {wide, longNumber}) {
        try {
            parseRunConfig(text, "wide.json");
            QFAIL("a list or a 5000-digit number as name was accepted");
        } catch (const Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.size() < 400, message.c_str());
            QVERIFY2(message.find("wide.json") != std::string::npos && message.find("...") != std::string::npos, message.c_str());
        }
    }
}

void HostileFileTests::fifos_devices_and_directories_are_refused_by_name()
{
    const fs::path dir = test::scratchDir("hostile-fifo");
    const fs::path fifo = dir / "data.jsonl";
    QCOMPARE(::mkfifo(fifo.c_str(), 0644), 0);
    // Refused without opening it (opening a FIFO would wait for a writer forever).
    VERIFY_THROWS_WITH(loadDataset(fifo), fifo.string(), "is a FIFO (named pipe)");
    VERIFY_THROWS_WITH(readTextFile(fifo), "is a FIFO");
    VERIFY_THROWS_WITH(loadDataset("/dev/zero"), "/dev/zero", "character device");
    VERIFY_THROWS_WITH(readTextFile("/dev/zero"), "/dev/zero", "character device");
    VERIFY_THROWS_WITH(loadDataset(dir), "is a directory");
    const fs::path loop = dir / "loop.jsonl";
    fs::create_symlink(loop, loop);
    VERIFY_THROWS_WITH(loadDataset(loop), loop.string(), "loop of symbolic links");
}

void HostileFileTests::gzip_bomb_is_refused_within_its_bound()
{
    const fs::path dir = test::scratchDir("hostile-gzip");
    const std::string line = R"({"prompt": "\n\nHuman: hi\n\nAssistant:", "completion": " hello"})" "\n";
    std::string text;
    while (text.size() < 4 * 1024 * 1024) text += line;
    const std::string bomb = gzipped(text);
    QVERIFY(bomb.size() * 100 < text.size()); // it inflates more than a hundredfold
    writeFileAtomic(dir / "bomb.jsonl.gz", bomb);
    ::setenv("LORALAB_MAX_DATASET_BYTES", "1000000", 1);
    VERIFY_THROWS_WITH(loadDataset(dir / "bomb.jsonl.gz"), "bomb.jsonl.gz", "inflates to more than", "LORALAB_MAX_DATASET_BYTES");
    ::unsetenv("LORALAB_MAX_DATASET_BYTES");
    // Within the bound it reads as any dataset.
    writeFileAtomic(dir / "small.jsonl.gz", gzipped(line + line));
    QCOMPARE(loadDataset(dir / "small.jsonl.gz").examples.size(), std::size_t{2});
}

void HostileFileTests::oversized_files_are_refused_before_they_are_read()
{
    const fs::path file = test::scratchDir("hostile-size") / "big.json";
    writeFileAtomic(file, std::string(10000, ' '));
    VERIFY_THROWS_WITH(readTextFile(file, 1000), file.string(), "more than the");
    QCOMPARE(readTextFile(file, 10000).size(), std::size_t{10000});
}

void HostileFileTests::checkpoints_that_link_elsewhere_are_refused_and_pruning_keeps_what_others_wrote()
{
    const fs::path root = test::scratchDir("hostile-links");
    const fs::path elsewhere = root / "database";
    fs::create_directories(elsewhere / "step-000999");
    writeFileAtomic(elsewhere / "db.partial", "precious");
    fs::create_directories(root / "run");
    fs::create_directory_symlink(elsewhere, root / "run" / "checkpoints");
    VERIFY_THROWS_WITH(CheckpointStore(root / "run" / "checkpoints"), "symbolic link");
    QVERIFY(fs::exists(elsewhere / "step-000999"));
    QVERIFY(fs::exists(elsewhere / "db.partial"));

    // In a run's own folder, pruning removes only what a store wrote.
    const fs::path own = root / "own" / "checkpoints";
    CheckpointStore store(own);
    store.commit("last", 1, [](const fs::path& d) { writeFileAtomic(d / "a.txt", "1"); });
    store.commit("last", 2, [](const fs::path& d) { writeFileAtomic(d / "a.txt", "2"); });
    writeFileAtomic(own / "db.partial", "someone else's");
    fs::create_directories(own / "mine-too");
    fs::create_directories(own / "step-000007.partial-1");
    store.prune();
    QVERIFY(!fs::exists(own / "step-000001"));         // no label points at it
    QVERIFY(fs::exists(own / "step-000002"));          // "last"
    QVERIFY(!fs::exists(own / "step-000007.partial-1")); // an interrupted write
    QVERIFY(fs::exists(own / "db.partial"));
    QVERIFY(fs::exists(own / "mine-too"));
}

void HostileFileTests::weak_answers_name_the_key()
{
    const fs::path dir = test::scratchDir("hostile-weak");
    // rotary_pct out of range names the key and the value.
    auto config = nlohmann::json::parse(readTextFile(test::fixtureModel("tiny-gpt-neox") / "config.json"));
    config["rotary_pct"] = 5;
    fs::create_directories(dir / "model");
    writeFileAtomic(dir / "model" / "config.json", config.dump());
    VERIFY_THROWS_WITH(loadModelConfig((dir / "model").string()), "rotary_pct 5", "(0, 1]");
    // Two tokens of one id.
    auto tokenizer = nlohmann::json::parse(readTextFile(test::fixtureModel("tiny-gpt-neox") / "tokenizer.json"));
    auto& vocab = tokenizer["model"]["vocab"];
    auto first = vocab.begin();
    auto second = std::next(first);
    second.value() = first.value();
    writeFileAtomic(dir / "tokenizer.json", tokenizer.dump());
    VERIFY_THROWS_WITH(BpeTokenizer::fromFile(dir / "tokenizer.json"), "gives id", first.key(), second.key());
    // An adapter value of the wrong type names its field.
    VERIFY_THROWS_WITH(parseAdapterConfig(R"({"r": 4, "lora_alpha": "x", "target_modules": ["dense"]})", "adapter_config.json"),
                       "adapter_config.json", "field 'lora_alpha' should be a number", "\"x\"");
    // A vocabulary of 1e11 tokens is refused as config.json's would be.
    RunConfig c;
    c.vocabSize = 100000000000LL;
    const auto problems = validateRunConfig(c);
    QVERIFY(std::any_of(problems.begin(), problems.end(), [](const std::string& p) { return p.rfind("vocab_size:", 0) == 0; }));
    // An adapter of another base: a warning that names both.
    AdapterConfig adapter;
    adapter.baseModel = "Qwen/Qwen2-0.5B";
    const std::string warning = adapterBaseWarning(adapter, "/runs/a", "/models/tiny-llama-spm");
    QVERIFY(warning.find("Qwen/Qwen2-0.5B") != std::string::npos && warning.find("tiny-llama-spm") != std::string::npos);
    QVERIFY(adapterBaseWarning(adapter, "/runs/a", "/cache/Qwen2-0.5B").empty());
}

#include "test_hostile_files.moc"
