// TensorBoard event files: CRC-32C and protobuf bytes against known values,
// TFRecord framing read back record by record, the writer's file name and
// errors, and a recorded run's metrics written as events (the run directory
// and its event files are what tests/python/check_tensorboard.py reads with
// TensorBoard itself).
#include "engine_test.h"
#include "test_paths.h"

#include "engine/export/crc32c.h"
#include "engine/export/protobuf_wire.h"
#include "engine/export/run_events.h"
#include "engine/export/tensorboard_writer.h"
#include "engine/records/run_directory.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using loralab::test::scratchDir;
using namespace loralab;

// The records of an event file: each frame's length and both CRCs checked.
void readRecords(const fs::path& path, std::vector<std::string>& out)
{
    const std::string bytes = readTextFile(path);
    out.clear();
    std::size_t pos = 0;
    const auto u32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        std::memcpy(&v, bytes.data() + at, 4);
        return v;
    };
    while (pos < bytes.size()) {
        QVERIFY(bytes.size() - pos >= 12);
        std::uint64_t length = 0;
        std::memcpy(&length, bytes.data() + pos, 8);
        QCOMPARE(u32(pos + 8), maskedCrc32c(bytes.data() + pos, 8));
        QVERIFY(bytes.size() - pos - 12 >= length + 4);
        const std::string data = bytes.substr(pos + 12, static_cast<std::size_t>(length));
        QCOMPARE(u32(pos + 12 + static_cast<std::size_t>(length)), maskedCrc32c(data.data(), data.size()));
        out.push_back(data);
        pos += 16 + static_cast<std::size_t>(length);
    }
}

// Event fields by number (wall_time 1, step 2, file_version 3, summary 5).
struct Event {
    double wallTime = 0;
    std::int64_t step = 0;
    std::string fileVersion;
    std::map<std::string, float> scalars;
    std::map<std::string, std::string> texts;
};

Event parseEvent(const std::string& bytes)
{
    Event e;
    ProtoReader r(bytes, "event");
    while (r.next()) {
        if (r.field() == 1) e.wallTime = r.fixed64Double();
        else if (r.field() == 2) e.step = static_cast<std::int64_t>(r.varint());
        else if (r.field() == 3) e.fileVersion = std::string(r.bytes());
        else if (r.field() == 5) {
            ProtoReader summary(r.bytes(), "summary");
            while (summary.next()) {
                ProtoReader value(summary.bytes(), "value");
                std::string tag;
                float simple = NAN;
                std::string text;
                while (value.next()) {
                    if (value.field() == 1) tag = std::string(value.bytes());
                    else if (value.field() == 2) simple = value.fixed32Float();
                    else if (value.field() == 8) {
                        ProtoReader tensor(value.bytes(), "tensor");
                        while (tensor.next()) {
                            if (tensor.field() == 8) text = std::string(tensor.bytes());
                            else tensor.skip();
                        }
                    } else value.skip();
                }
                if (std::isnan(simple)) e.texts[tag] = text;
                else e.scalars[tag] = simple;
            }
        } else r.skip();
    }
    return e;
}

class TensorboardTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void crc32c_known_values();
    void protobuf_wire_bytes();
    void tensorboard_writer_records();
    void tensorboard_unwritable_folder();
    void tensorboard_run_events();
};
REGISTER_TESTS(TensorboardTests);

void TensorboardTests::crc32c_known_values()
{
    // The check value of CRC-32C, and RFC 3720's 32 zero bytes / 32 0xFF bytes.
    QCOMPARE(crc32c(std::string_view("123456789")), 0xE3069283u);
    QCOMPARE(crc32c(std::string(32, '\0')), 0x8A9136AAu);
    QCOMPARE(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
    const std::uint32_t crc = crc32c(std::string_view("123456789"));
    QCOMPARE(maskedCrc32c("123456789", 9), ((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
}

void TensorboardTests::protobuf_wire_bytes()
{
    ProtoWriter w;
    w.addVarint(1, 150); // the protobuf documentation's example: 08 96 01
    w.addString(2, "testing");
    w.addInt64(3, -1); // negative int64: ten bytes
    w.addFloat(4, 1.0f);
    const std::string expected = std::string("\x08\x96\x01", 3) + "\x12\x07testing" + "\x18" +
                                 std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 10) + std::string("\x25\x00\x00\x80\x3F", 5);
    QVERIFY(w.bytes() == expected);
    ProtoReader r(w.bytes(), "test");
    QVERIFY(r.next());
    QCOMPARE(r.varint(), 150u);
    QVERIFY(r.next());
    QVERIFY(r.bytes() == "testing");
    QVERIFY(r.next());
    QCOMPARE(static_cast<std::int64_t>(r.varint()), -1);
    QVERIFY(r.next());
    QCOMPARE(r.fixed32Float(), 1.0f);
    QVERIFY(!r.next());
    // Cut short, it is an Error naming the source, not a read past the end.
    ProtoReader cut(std::string_view(w.bytes()).substr(0, 6), "cut.model");
    QVERIFY(cut.next());
    cut.varint();
    QVERIFY(cut.next());
    VERIFY_THROWS_WITH(cut.bytes(), "cut.model", "runs past the end");
}

void TensorboardTests::tensorboard_writer_records()
{
    const fs::path dir = scratchDir("tensorboard-writer") / "events";
    fs::path file;
    {
        TensorBoardWriter writer(dir, 1767225600.5);
        file = writer.path();
        writer.addScalar("train/loss", 3, 2.5, 1767225601.25);
        writer.addScalars(4, {{"a/x", 0.1}, {"a/y", -7.0}}, 1767225602.0);
        writer.addText("config", 0, "hello *world*", 1767225603.0);
        writer.flush();
        QCOMPARE(writer.recordsWritten(), 4);
    }
    const std::string name = file.filename().string();
    QVERIFY(name.rfind("events.out.tfevents.1767225600.", 0) == 0);
    QVERIFY(name.find("." + std::to_string(::getpid()) + ".") != std::string::npos);
    std::vector<std::string> records;
    CALL_CHECKS(readRecords(file, records));
    QVERIFY(records.size() == 4);
    const Event first = parseEvent(records[0]);
    QVERIFY(first.fileVersion == "brain.Event:2");
    QCOMPARE(first.wallTime, 1767225600.5);
    const Event loss = parseEvent(records[1]);
    QCOMPARE(loss.step, 3);
    QCOMPARE(loss.wallTime, 1767225601.25);
    QCOMPARE(loss.scalars.at("train/loss"), 2.5f);
    const Event pair = parseEvent(records[2]);
    QCOMPARE(pair.scalars.size(), 2u);
    QCOMPARE(pair.scalars.at("a/x"), 0.1f);
    QCOMPARE(pair.scalars.at("a/y"), -7.0f);
    QVERIFY(parseEvent(records[3]).texts.at("config") == "hello *world*");
    // A second writer in the same folder and second gets a file of its own.
    TensorBoardWriter again(dir, 1767225600.5);
    QVERIFY(again.path() != file);
}

void TensorboardTests::tensorboard_unwritable_folder()
{
    const fs::path dir = scratchDir("tensorboard-unwritable");
    writeFileAtomic(dir / "a-file", "x");
    VERIFY_THROWS_WITH(TensorBoardWriter(dir / "a-file" / "events"), (dir / "a-file" / "events").string(), "cannot create");
}

// A run as the runner records it: steps with every field set to values that
// differ from step to step, evaluations every `evalEvery` steps (and at step
// 0), samples at the end.
RunRecords recordRun(const fs::path& parent, const std::string& name, Objective objective, int steps, int evalEvery, int worldSize)
{
    RunConfig config;
    config.name = name;
    config.objective = objective;
    config.maxSteps = steps;
    const RunDirectory dir = RunDirectory::create(parent, name);
    dir.writeConfig(runConfigToJson(config));
    for (int s = 0; s <= steps; ++s) {
        if (s > 0) {
            StepRecord r;
            r.objective = objective;
            r.step = s;
            r.totalSteps = steps;
            r.epoch = s / 17.0;
            r.loss = 4.2 * std::exp(-s / 37.0) + 0.013 * std::sin(s * 1.7);
            r.learningRate = 2e-3 * 0.5 * (1 + std::cos(M_PI * s / steps));
            r.gradNorm = 1.0 / (1.0 + 0.1 * s) + 0.001 * s;
            r.forwardMs = 11.5 + 0.37 * (s % 5);
            r.backwardMs = 23.25 + 0.11 * (s % 7);
            r.optimizerMs = 1.75 + 0.01 * s;
            r.commMs = worldSize > 1 ? 0.5 + 0.02 * s : 0.0;
            r.stepMs = r.forwardMs + r.backwardMs + r.optimizerMs + r.commMs;
            r.tokens = 512 + 3 * s;
            r.tokensPerSecond = r.tokens / (r.stepMs / 1000.0);
            r.memoryBytes = 20 * 1024 * 1024 + 4097 * s;
            r.peakMemoryBytes = 64 * 1024 * 1024 + 12289 * s;
            r.processMemoryBytes = 900LL * 1024 * 1024 + 65537LL * s;
            r.measured = {1000003 + s, 2000003 + 2 * s, 3000017 + 3 * s, 4000037 + 5 * s};
            r.estimate = {1000001, 2000001, 3000001, 4000001 + 7 * s};
            r.elapsedSeconds = 0.04 * s + 0.001 * s * s;
            r.etaSeconds = 0.04 * (steps - s);
            r.worldSize = worldSize;
            if (objective == Objective::Dpo) {
                r.rewardChosen = 0.01 * s;
                r.rewardRejected = -0.02 * s;
                r.rewardMargin = r.rewardChosen - r.rewardRejected;
                r.preferenceAccuracy = std::min(1.0, 0.5 + 0.03 * s);
            }
            dir.appendMetric(toJson(r));
        }
        if (s % evalEvery == 0) {
            EvalRecord e;
            e.objective = objective;
            e.step = s;
            e.epoch = s / 17.0;
            e.loss = 4.0 * std::exp(-s / 41.0) + 0.2;
            e.perplexity = std::exp(e.loss);
            e.tokens = 2048;
            e.bestValue = e.loss;
            e.improved = true;
            if (objective == Objective::Dpo) {
                e.preferenceAccuracy = 0.5 + 0.01 * s;
                e.rewardMargin = 0.03 * s;
            }
            dir.appendMetric(toJson(e));
        }
    }
    std::vector<std::string> samples;
    for (int i = 0; i < 3; ++i) {
        SampleRecord sample;
        sample.objective = objective;
        sample.index = i * 5;
        sample.prompt = "\n\nHuman: What is the capital of country " + std::to_string(i) + "?\n\nAssistant:";
        sample.target = " It is city " + std::to_string(i) + ".";
        if (objective == Objective::Dpo) sample.rejected = " I do not know.";
        sample.baseOutput = i == 1 ? "" : " The *capital* is | unknown\nsecond line";
        sample.tunedOutput = sample.target;
        samples.push_back(toJson(sample));
    }
    dir.writeSamples(samples);
    return readRunRecords(dir.path().string());
}

void TensorboardTests::tensorboard_run_events()
{
    // The runs stay in the scratch folder for tests/python/check_tensorboard.py.
    const fs::path root = scratchDir("tensorboard-runs");
    const double start = 1767225600.125;
    nlohmann::json expected = {{"start_time", start}, {"runs", nlohmann::json::array()}};
    for (const auto& [name, objective, worldSize] :
         {std::tuple{"sft", Objective::Sft, 1}, std::tuple{"dpo", Objective::Dpo, 2}}) {
        const RunRecords run = recordRun(root / "runs", name, objective, objective == Objective::Dpo ? 12 : 40, 10, worldSize);
        QVERIFY(run.unreadableLines == 0);
        const fs::path events = fs::path(run.dir) / "tensorboard";
        const fs::path file = writeRunEvents(run, events, start);
        expected["runs"].push_back({{"run_dir", run.dir}, {"events", events.string()}, {"method", runKindText(objective, Method::Lora)}});

        std::vector<std::string> records;
        CALL_CHECKS(readRecords(file, records));
        std::vector<Event> parsed;
        for (const auto& r : records) parsed.push_back(parseEvent(r));
        // file_version, config, one record per step and per evaluation, samples.
        QVERIFY(parsed.size() == 3 + run.steps.size() + run.evals.size());
        QVERIFY(parsed[1].texts.count("config") == 1);
        QVERIFY(parsed.back().texts.count("samples") == 1);
        QVERIFY(parsed.back().texts.at("samples").find("    Human: What is the capital of country 2?") != std::string::npos);
        std::size_t stepsSeen = 0;
        for (const auto& e : parsed) {
            if (!e.scalars.count("train/loss")) continue;
            const StepRecord& s = run.steps[stepsSeen++];
            QCOMPARE(e.step, s.step);
            QCOMPARE(e.wallTime, start + s.elapsedSeconds);
            QCOMPARE(e.scalars.at("train/loss"), static_cast<float>(s.loss));
            QCOMPARE(e.scalars.at("memory/peak_bytes"), static_cast<float>(s.peakMemoryBytes));
            QCOMPARE(e.scalars.count("dpo/reward_margin"), objective == Objective::Dpo ? 1u : 0u);
            QCOMPARE(e.scalars.count("time/comm_ms"), worldSize > 1 ? 1u : 0u);
        }
        QCOMPARE(stepsSeen, run.steps.size());
    }
    writeFileAtomic(root / "expected.json", expected.dump(2));
}

} // namespace

#include "test_tensorboard.moc"
