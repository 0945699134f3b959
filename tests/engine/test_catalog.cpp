// The one experiment value and the runs catalog: planning, the state of a run
// as its folder shows it, the continuation rule, the catalog's listing and
// JSON; records that older versions wrote; named choices; the folder lock;
// the checkpoint module's finding and opening; sample prompts of text runs.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/checkpoint/checkpoint.h"
#include "engine/checkpoint/checkpoint_store.h"
#include "engine/experiment/experiment.h"
#include "engine/experiment/run_catalog.h"
#include "engine/records/run_lock.h"
#include "engine/run/run_samples.h"
#include "engine/run/run_setup.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

// A run folder as a run leaves it: config.json, the metrics of `steps`
// steps, and a summary when `state` says it ended.
fs::path writeRunFolder(const fs::path& dir, RunState state, std::int64_t steps)
{
    fs::create_directories(dir / "checkpoints");
    RunConfig c;
    c.name = dir.filename().string();
    writeFileAtomic(dir / "config.json", runConfigToJson(c));
    std::string metrics;
    for (std::int64_t s = 1; s <= steps; ++s) {
        StepRecord r;
        r.step = s;
        r.loss = 2.0;
        metrics += toJson(r) + "\n";
    }
    writeFileAtomic(dir / "metrics.jsonl", metrics);
    if (hasEnded(state)) {
        RunSummary summary;
        summary.steps = steps;
        summary.state = state;
        summary.error = state == RunState::Failed ? "the data went away" : "";
        writeFileAtomic(dir / "summary.json", toJson(summary) + "\n");
    }
    return dir;
}

std::string stateName(RunState s) { return choiceName(s); }

} // namespace

class CatalogTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void planned_sweep_is_not_started();
    void comparison_is_a_sweep_over_method();
    void run_states_and_continuation_from_folders();
    void catalog_lists_runs_and_experiments_with_states();
    void summary_absent_values_are_null();
    void configurations_of_older_versions_read();
    void choices_are_listed_and_refused_by_name();
    void folder_lock_refuses_a_second_holder();
    void checkpoints_are_found_and_opened_once();
    void sample_prompts_of_text_runs_are_not_empty();
};
REGISTER_TESTS(CatalogTests);

void CatalogTests::planned_sweep_is_not_started()
{
    RunConfig base;
    base.name = "grid";
    const Experiment e = planExperiment(base, {parseSweepAxis("lora_r=4,8"), parseSweepAxis("learning_rate=1e-3,2e-3")});
    QCOMPARE(e.runs.size(), std::size_t{4});
    QVERIFY(!e.lone());
    for (const ExperimentRun& r : e.runs) {
        QCOMPARE(r.state, RunState::NotStarted);
        QCOMPARE(r.next, RunAction::Start);
        QCOMPARE(continuationOf(r), RunAction::Start);
        QCOMPARE(outcomeText(r), std::string("not started"));
        QVERIFY(r.dir.empty());
    }
    QCOMPARE(e.runs[1].label, std::string("lora_r=4, learning_rate=0.002"));
    QCOMPARE(e.runs[1].config.name, e.runs[1].label);
    // No axes: one run, in the runs folder itself.
    const Experiment lone = planExperiment(base, {});
    QVERIFY(lone.lone());
    QCOMPARE(lone.runs.front().label, std::string("grid"));
    QCOMPARE(varyingOptions(e), (std::vector<std::string>{"lora_r", "learning_rate"}));
}

void CatalogTests::comparison_is_a_sweep_over_method()
{
    RunConfig base;
    base.name = "cmp";
    const Experiment e = planExperiment(base, {SweepAxis{"method", {"\"lora\"", "\"full\""}}}, "cmp-compare");
    QCOMPARE(e.name, std::string("cmp-compare"));
    QCOMPARE(e.runs.size(), std::size_t{2});
    QCOMPARE(e.runs[0].label, std::string("lora"));
    QCOMPARE(e.runs[1].label, std::string("full"));
    QCOMPARE(e.runs[0].config.method, Method::Lora);
    QCOMPARE(e.runs[1].config.method, Method::Full);
    QCOMPARE(e.runs[1].config.objective, Objective::Sft);
}

void CatalogTests::run_states_and_continuation_from_folders()
{
    const fs::path root = test::scratchDir("catalog-states");
    const fs::path done = writeRunFolder(root / "done", RunState::Completed, 8);
    const fs::path killed = writeRunFolder(root / "killed", RunState::Interrupted, 5);
    const fs::path cancelled = writeRunFolder(root / "cancelled", RunState::Cancelled, 3);
    const fs::path failed = writeRunFolder(root / "failed", RunState::Failed, 2);
    const fs::path nan = writeRunFolder(root / "nan", RunState::NonFiniteLoss, 4);

    const auto read = [](const fs::path& dir) { return readExperiment(dir.string()).runs.front(); };
    QCOMPARE(read(done).state, RunState::Completed);
    QCOMPARE(read(done).next, RunAction::Keep);
    QCOMPARE(read(done).stepsDone, std::int64_t{8});
    QCOMPARE(read(killed).state, RunState::Interrupted);
    QCOMPARE(read(killed).stepsDone, std::int64_t{5}); // from the end of metrics.jsonl
    QCOMPARE(read(killed).next, RunAction::Resume);
    QCOMPARE(outcomeText(read(killed)), std::string("interrupted after 5 steps"));
    QCOMPARE(read(cancelled).next, RunAction::Resume);
    QCOMPARE(outcomeText(read(cancelled)), std::string("cancelled after 3 steps"));
    QCOMPARE(read(failed).next, RunAction::Resume);
    QCOMPARE(outcomeText(read(failed)), std::string("failed: the data went away"));
    QCOMPARE(read(nan).next, RunAction::Keep);
    {
        // A run another process holds is running, and not another's to continue.
        const FolderLock held = FolderLock::acquire(killed);
        QCOMPARE(read(killed).state, RunState::Running);
        QCOMPARE(read(killed).next, RunAction::Keep);
        QVERIFY(folderLockHolder(killed).has_value());
    }
    QCOMPARE(read(killed).state, RunState::Interrupted);
    QVERIFY(!folderLockHolder(killed).has_value());
}

void CatalogTests::catalog_lists_runs_and_experiments_with_states()
{
    const fs::path runs = test::scratchDir("catalog-list");
    RunConfig base;
    base.name = "sweep";
    base.runsDir = runs.string();
    Experiment e = planExperiment(base, {parseSweepAxis("lora_r=2,4"), parseSweepAxis("learning_rate=1e-3,2e-3")});
    e.dir = (runs / "20261201-000000-sweep").string();
    fs::create_directories(e.dir);
    const RunState states[] = {RunState::Completed, RunState::Cancelled, RunState::Interrupted};
    for (std::size_t i = 0; i < 3; ++i) e.runs[i].dir = writeRunFolder(fs::path(e.dir) / ("run" + std::to_string(i)), states[i], 2).string();
    writeExperimentFile(e);
    writeRunFolder(runs / "20261201-000001-lone", RunState::EarlyStopping, 6);
    fs::create_directories(runs / "not-a-run"); // neither: left out

    const std::vector<CatalogEntry> entries = listRuns(runs.string());
    QCOMPARE(entries.size(), std::size_t{2});
    const auto sweep = std::find_if(entries.begin(), entries.end(), [](const CatalogEntry& c) { return c.experiment; });
    QVERIFY(sweep != entries.end());
    QCOMPARE(sweep->contents.runs.size(), std::size_t{4});
    QCOMPARE(sweep->contents.runs[0].state, RunState::Completed);
    QCOMPARE(sweep->contents.runs[1].state, RunState::Cancelled);
    QCOMPARE(sweep->contents.runs[2].state, RunState::Interrupted);
    QCOMPARE(sweep->contents.runs[3].state, RunState::NotStarted);
    QVERIFY(sweep->continuable);
    QCOMPARE(entryOutcomeText(*sweep), std::string("1 of 4 runs finished"));

    const auto json = nlohmann::json::parse(catalogJson(entries));
    const auto& js = *std::find_if(json.begin(), json.end(), [](const nlohmann::json& j) { return j["kind"] == "experiment"; });
    QCOMPARE(js["runs"].size(), std::size_t{4});
    for (std::size_t i = 0; i < 4; ++i) QCOMPARE(js["runs"][i]["state"].get<std::string>(), stateName(sweep->contents.runs[i].state));
    QCOMPARE(js["runs"][3]["can_continue"].get<bool>(), true);
    QCOMPARE(js["runs"][0]["can_continue"].get<bool>(), false);

    // Titles from notes.json name the runs wherever they are shown.
    writeNotes(sweep->contents.runs[0].dir, {"baseline", "kept"});
    Experiment titled = readExperiment(sweep->dir);
    applyTitles(titled);
    QCOMPARE(titled.runs[0].label, std::string("baseline"));
    QCOMPARE(readNotes(sweep->contents.runs[0].dir).notes, std::string("kept"));
}

void CatalogTests::summary_absent_values_are_null()
{
    RunSummary s;
    s.bestStep = 3;
    const auto j = nlohmann::json::parse(toJson(s));
    QVERIFY(j["best_val_loss"].is_null());
    QVERIFY(j["final_val_loss"].is_null());
    QVERIFY(j["tuned_exact_match"].is_null());
    // Files of older versions wrote -1 for "no value": it reads as absent.
    const RunSummary old = runSummaryFromJson(R"({"best_val_loss": -1.0, "final_val_loss": 2.5, "stop_reason": "completed"})");
    QVERIFY(!old.bestValLoss.has_value());
    QVERIFY(old.finalValLoss.has_value());
    QCOMPARE(*old.finalValLoss, 2.5);
    QCOMPARE(runSummaryFromJson(R"({"stop_reason": "melted"})").state, RunState::Failed);
}

void CatalogTests::configurations_of_older_versions_read()
{
    const RunConfig c = parseRunConfig(R"({"method": "dpo", "dpo_loss": "ipo"})", "old.json");
    QCOMPARE(c.objective, Objective::Dpo);
    QCOMPARE(c.method, Method::Lora);
    QCOMPARE(c.dpoLoss, DpoLoss::Ipo);
    const StepRecord r = stepRecordFromJson(R"({"type": "step", "run": "dpo", "step": 2})");
    QCOMPARE(r.objective, Objective::Dpo);
    QCOMPARE(r.step, std::int64_t{2});
    // Both fields are written, so the files say what they hold.
    const auto j = nlohmann::json::parse(runConfigToJson(c));
    QCOMPARE(j["objective"].get<std::string>(), std::string("dpo"));
    QCOMPARE(j["method"].get<std::string>(), std::string("lora"));
}

void CatalogTests::choices_are_listed_and_refused_by_name()
{
    QCOMPARE(runOptionChoices("schedule"), (std::vector<std::string>{"constant", "constant_with_warmup", "linear", "cosine"}));
    QCOMPARE(runOptionChoices("dtype"), (std::vector<std::string>{"fp32", "bf16", "fp16"}));
    QVERIFY(runOptionChoices("lora_r").empty());
    RunConfig c;
    VERIFY_THROWS_WITH(setRunOption(c, "schedule", "sometimes"), "schedule", "constant, constant_with_warmup, linear or cosine",
                       "sometimes");
    VERIFY_THROWS_WITH(parseRunConfig(R"({"text_mode": "pages"})", "bad.json"), "bad.json", "text_mode", "chunk or lines");
    setRunOption(c, "schedule", "linear");
    QCOMPARE(c.schedule, Schedule::Linear);
    QCOMPARE(runOptionJson(c, "schedule"), std::string("\"linear\""));
    // A DPO reference of adapters switched off needs adapters.
    c.objective = Objective::Dpo;
    c.method = Method::Full;
    c.dpoReference = DpoReference::Base;
    const auto problems = validateRunConfig(c);
    QVERIFY(std::any_of(problems.begin(), problems.end(), [](const std::string& p) { return p.rfind("dpo_reference:", 0) == 0; }));
}

void CatalogTests::folder_lock_refuses_a_second_holder()
{
    const fs::path dir = test::scratchDir("folder-lock");
    std::optional<FolderLock> first(FolderLock::acquire(dir));
    VERIFY_THROWS_WITH(FolderLock::acquire(dir), dir.string(), "pid " + std::to_string(::getpid()), "trains in this folder");
    const auto holder = folderLockHolder(dir);
    QVERIFY(holder && holder->find("pid ") != std::string::npos);
    first.reset();
    // Released (as a killed process's lock is by the kernel): free again.
    QVERIFY(!folderLockHolder(dir));
    const FolderLock again = FolderLock::acquire(dir);
    Q_UNUSED(again);
}

void CatalogTests::checkpoints_are_found_and_opened_once()
{
    const fs::path run = writeRunFolder(test::scratchDir("checkpoint-module") / "run", RunState::Completed, 4);
    CheckpointStore store(run / "checkpoints");
    const auto adapter = [](const fs::path& dir) {
        writeFileAtomic(dir / "adapter_config.json", R"({"peft_type": "LORA", "r": 4, "target_modules": ["dense"]})");
    };
    store.commit("last", 4, adapter);
    // No best yet: "best, else last" is the last.
    QVERIFY(!findRunCheckpoint(run, CheckpointPick::Best));
    QCOMPARE(findRunCheckpoint(run, CheckpointPick::BestElseLast)->filename().string(), std::string("step-000004"));
    store.commit("best", 2, adapter);
    const Checkpoint c = openCheckpoint(run);
    QCOMPARE(c.kind, CheckpointKind::Adapter);
    QCOMPARE(c.step, std::int64_t{2});
    QCOMPARE(c.runDir, run);
    QVERIFY(c.run.has_value());
    QCOMPARE(baseModelOf(c), c.run->model);
    QCOMPARE(findRunCheckpoint(run, std::int64_t{4})->filename().string(), std::string("step-000004"));
    QVERIFY(!findRunCheckpoint(run, std::int64_t{3}));
    // A checkpoint folder opened directly knows its run.
    const Checkpoint direct = openCheckpoint(run / "checkpoints" / "step-000004");
    QCOMPARE(direct.runDir, run);
    QCOMPARE(direct.step, std::int64_t{4});
    const fs::path empty = test::scratchDir("checkpoint-module-empty");
    VERIFY_THROWS_WITH(openCheckpoint(empty), empty.string(), "neither an adapter");
}

void CatalogTests::sample_prompts_of_text_runs_are_not_empty()
{
    PreparedData data;
    data.train.format = DatasetFormat::Text;
    data.validation.format = DatasetFormat::Text;
    for (const char* text : {" The cat sat on the mat and looked at the door .", " Kyiv is the capital of Ukraine .", " = Heading = "}) {
        Example e;
        e.target = text;
        data.validation.examples.push_back(e);
    }
    RunConfig config;
    config.dataset = "default:wikitext";
    const std::vector<SampleRecord> samples = samplePrompts(data, 8, config);
    QCOMPARE(samples.size(), std::size_t{3});
    for (std::size_t i = 0; i < samples.size(); ++i) {
        QVERIFY2(!samples[i].prompt.empty(), samples[i].target.c_str());
        QVERIFY(!samples[i].target.empty());
        // The text is cut in two at a word, nothing lost.
        QCOMPARE(samples[i].prompt + samples[i].target, data.validation.examples[i].target);
        QVERIFY(samples[i].target.front() == ' ');
    }
}

#include "test_catalog.moc"
