// A short run of the tiny GPT-NeoX fixture on a small dialogue set, for the
// runner's tests: the configuration, and the losses a run recorded.
#pragma once

#include "test_paths.h"

#include "engine/records/metrics.h"
#include "engine/config/run_config.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

namespace loralab::test {

namespace fs = std::filesystem;

// A small dialogue set the tiny model can make progress on.
inline fs::path writeDialogues(const fs::path& dir)
{
    const char* facts[][2] = {{"France", "Paris"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Japan", "Tokyo"},
                              {"Peru", "Lima"},    {"Kenya", "Nairobi"}, {"Chile", "Santiago"}, {"Egypt", "Cairo"}};
    std::string text;
    for (int round = 0; round < 6; ++round)
        for (const auto& f : facts) {
            nlohmann::json j;
            const std::string q = std::string("\n\nHuman: What is the capital of ") + f[0] + "?\n\nAssistant:";
            j["chosen"] = q + " The capital of " + f[0] + " is " + f[1] + ".";
            j["rejected"] = q + " I do not know.";
            text += j.dump() + "\n";
        }
    writeFileAtomic(dir / "dialogues.jsonl", text);
    return dir / "dialogues.jsonl";
}

// The tiny GPT-NeoX fixture with its second block left out, in scratch folder `name`.
inline fs::path oneBlockModel(const std::string& name)
{
    const fs::path dir = scratchDir(name);
    for (const auto& entry : fs::directory_iterator(fixtureModel("tiny-gpt-neox")))
        fs::copy(entry.path(), dir / entry.path().filename(), fs::copy_options::overwrite_existing);
    nlohmann::json config = nlohmann::json::parse(readTextFile(dir / "config.json"));
    config["num_hidden_layers"] = 1;
    writeFileAtomic(dir / "config.json", config.dump(2));
    return dir;
}

inline RunConfig smallRun(const std::string& name)
{
    const fs::path dir = scratchDir(name);
    RunConfig c;
    c.name = name;
    c.model = fixtureModel("tiny-gpt-neox").string();
    c.dataset = writeDialogues(dir).string();
    c.validationFraction = 0.2;
    c.runsDir = (dir / "runs").string();
    c.maxSteps = 8;
    c.batchSize = 4;
    c.maxLen = 64;
    c.learningRate = 5e-3;
    c.loraDropout = 0.1;
    c.evalInterval = 4;
    c.checkpointInterval = 4;
    c.samples = 0;
    c.evalAtStart = false;
    c.threads = 1;
    c.device = "cpu";
    return c;
}

// A run whose memory is measured: the embedded model on WikiText chunked to
// the full max_len (every batch as long as the estimate assumes), `steps`
// steps, no evaluation, samples or checkpoints, in `runsDir`.
inline RunConfig memoryRun(const std::string& runsDir, std::int64_t batchSize, std::int64_t maxLen, std::int64_t steps)
{
    RunConfig c;
    c.dataset = "default:wikitext";
    c.batchSize = batchSize;
    c.maxLen = maxLen;
    c.maxSteps = steps;
    c.evalInterval = 0;
    c.evalAtStart = false;
    c.samples = 0;
    c.checkpointInterval = 0;
    c.tensorboard = false;
    c.threads = 2;
    c.device = "cpu";
    c.runsDir = runsDir;
    return c;
}

inline std::vector<double> stepLosses(const std::string& runDir)
{
    std::vector<double> out;
    for (const auto& r : readRunRecords(runDir).steps) out.push_back(r.loss);
    return out;
}

} // namespace loralab::test
