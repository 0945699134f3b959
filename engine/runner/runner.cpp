// The experiment runner; see runner.h. A run reads as: prepare model and data,
// answer sample prompts with the base model, then step / evaluate / checkpoint
// until done or stopped, restore the best weights, answer again, summarise.
#include "engine/runner/runner.h"

#include "engine/dist/collective.h"
#include "engine/dist/local_ranks.h"
#include "engine/runner/early_stopping.h"
#include "engine/runner/objective.h"
#include "engine/runner/run_directory.h"
#include "engine/runner/run_samples.h"
#include "engine/runner/run_setup.h"
#include "engine/train/checkpoint_store.h"
#include "engine/train/memory.h"
#include "engine/util/error.h"
#include "engine/util/torch_compat.h"
#include "engine/util/units.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

namespace loralab {
namespace {

using Clock = std::chrono::steady_clock;

// Where the run is in its data: epoch and position in that epoch's order,
// which is a permutation drawn from (seed, epoch) alone, so a resumed run
// sees exactly the examples an uninterrupted one would.
class DataCursor {
public:
    DataCursor(std::size_t size, std::uint64_t seed) : m_size(size), m_seed(seed) { shuffle(); }

    std::vector<std::size_t> next(std::size_t count)
    {
        std::vector<std::size_t> out;
        while (out.size() < count) {
            if (m_position >= m_size) {
                ++m_epoch;
                m_position = 0;
                shuffle();
            }
            out.push_back(m_order[m_position++]);
        }
        return out;
    }

    double epoch() const { return static_cast<double>(m_epoch) + static_cast<double>(m_position) / static_cast<double>(m_size); }
    nlohmann::json state() const { return {{"epoch", m_epoch}, {"position", m_position}}; }
    void restore(const nlohmann::json& j)
    {
        m_epoch = j.at("epoch").get<std::int64_t>();
        m_position = j.at("position").get<std::size_t>();
        shuffle();
    }

private:
    void shuffle()
    {
        m_order.resize(m_size);
        std::iota(m_order.begin(), m_order.end(), 0);
        std::mt19937_64 rng(m_seed * 1000003ull + static_cast<std::uint64_t>(m_epoch));
        std::shuffle(m_order.begin(), m_order.end(), rng);
    }

    std::size_t m_size;
    std::uint64_t m_seed;
    std::int64_t m_epoch = 0;
    std::size_t m_position = 0;
    std::vector<std::size_t> m_order;
};

struct Totals {
    std::int64_t steps = 0;
    double forwardMs = 0, backwardMs = 0, optimizerMs = 0, stepMs = 0;
    std::int64_t tokens = 0;
    std::int64_t peakMemory = 0;
    std::int64_t processPeakMemory = 0;
    MemoryBreakdown measuredAtPeak;
    double firstLoss = 0, lastLoss = 0;

    void add(const StepRecord& r)
    {
        if (steps == 0) firstLoss = r.loss;
        ++steps;
        forwardMs += r.forwardMs;
        backwardMs += r.backwardMs;
        optimizerMs += r.optimizerMs;
        stepMs += r.stepMs;
        tokens += r.tokens;
        if (r.peakMemoryBytes >= peakMemory) {
            peakMemory = r.peakMemoryBytes;
            measuredAtPeak = r.measured;
        }
        processPeakMemory = std::max(processPeakMemory, r.processMemoryBytes);
        lastLoss = r.loss;
    }
};

std::int64_t totalStepsFor(const RunConfig& c, std::size_t trainCount)
{
    if (c.maxSteps > 0) return c.maxSteps;
    const double perStep = static_cast<double>(c.batchSize * c.gradAccum);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(trainCount) / perStep)));
}

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// The configuration a resumed run continues with: its own, as its config.json
// holds it, with the threads and device of `requested` and, to continue a
// finished run, a larger max_steps or epochs. A request that differs in
// anything else would be another run, and is refused by key.
RunConfig resumedConfig(const RunConfig& requested, const std::string& resumeDir)
{
    // What may change from one session of a run to the next.
    const auto takeSessionSettings = [](RunConfig& to, const RunConfig& from) {
        to.threads = from.threads;
        to.device = from.device;
        to.maxSteps = from.maxSteps;
        to.epochs = from.epochs;
        to.processes = from.processes;
        to.distTimeout = from.distTimeout;
    };
    const std::string path = (std::filesystem::path(resumeDir) / "config.json").string();
    RunConfig stored = loadRunConfig(path);
    RunConfig comparable = requested;
    takeSessionSettings(comparable, stored);
    if (const auto keys = differingRunOptions(stored, comparable); !keys.empty())
        throw fileError(path, "a resumed run keeps its configuration, but the request changes " + joined(keys) +
                                  "; only max_steps, epochs, threads, device, processes and dist_timeout may change "
                                  "(start a new run for the rest)");
    takeSessionSettings(stored, requested);
    return stored;
}

// With processes > 1 in a process that no launcher started, that process
// starts the other ranks itself and trains as rank 0; null otherwise. They run
// the loralab-cli beside this program, or the one LORALAB_CLI names.
std::unique_ptr<LocalRanks> startLocalRanks(const RunConfig& config, const std::string& resumeDir, int threadsEach)
{
    if (config.processes <= 1 || distributedFromEnvironment().enabled()) return nullptr;
    const char* named = std::getenv("LORALAB_CLI");
    const std::string cli = named && *named ? std::string(named)
                                            : (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "loralab-cli").string();
    if (!std::filesystem::exists(cli))
        throw Error("processes " + std::to_string(config.processes) + ": the other processes run " + cli +
                    ", which is not there; start the run with loralab-cli run --nproc N or torchrun instead");
    auto ranks = std::make_unique<LocalRanks>(config.processes);
    std::vector<std::string> argv = {cli, "run"};
    if (resumeDir.empty()) {
        const std::string file = ranks->folder() + "/config.json";
        writeFileAtomic(file, runConfigToJson(config));
        argv.push_back(file);
    } else {
        argv.insert(argv.end(), {"--resume", resumeDir, "--max-steps", std::to_string(config.maxSteps), "--device", config.device});
    }
    argv.insert(argv.end(), {"--nproc", std::to_string(config.processes), "--threads", std::to_string(threadsEach)});
    ranks->start(argv);
    return ranks;
}

// A process that is one rank of a data-parallel group (started by a launcher,
// WORLD_SIZE > 1 in its environment, or rank 0 of `local`) joins it, takes the
// GPU of its LOCAL_RANK, and checks that every rank runs the same
// configuration; null for a single process.
std::unique_ptr<Collective> joinGroupIfLaunched(const RunConfig& config, torch::Device& device, const LocalRanks* local)
{
    const DistributedSetup setup = local ? local->setup() : distributedFromEnvironment();
    if (!setup.enabled()) return nullptr;
    if (config.batchSize * config.gradAccum < setup.worldSize)
        throw Error("WORLD_SIZE=" + std::to_string(setup.worldSize) + " processes need at least as many examples per step; " +
                    "batch_size x grad_accum is " + std::to_string(config.batchSize * config.gradAccum));
    if (device.is_cuda()) {
        if (setup.localRank >= compat::cudaDeviceCount())
            throw Error("LOCAL_RANK=" + std::to_string(setup.localRank) + " names a GPU this machine does not have (" +
                        std::to_string(compat::cudaDeviceCount()) + " visible)");
        device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(setup.localRank));
    }
    auto group = std::make_unique<Collective>(setup, device, std::chrono::seconds(config.distTimeout));
    // The configuration must be the same everywhere; how many threads each uses may differ.
    RunConfig comparable = config;
    comparable.threads = 0;
    const auto configs = group->gatherText(runConfigToJson(comparable));
    for (std::size_t r = 1; r < configs.size(); ++r)
        if (configs[r] != configs[0])
            throw Error("rank " + std::to_string(r) + " runs another configuration than rank 0 (" +
                        joined(differingRunOptions(parseRunConfig(configs[0], "rank 0"), parseRunConfig(configs[r], "rank " + std::to_string(r)))) +
                        " differ); start every rank with the same one");
    return group;
}

// Everything one run holds while it goes.
class Run {
public:
    Run(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir,
        torch::Device device, Collective* group)
        : m_config(config), m_control(control), m_callbacks(callbacks), m_resume(!resumeDir.empty()), m_group(group),
          m_device(device), m_model(prepareModel(config, m_device)),
          m_data(prepareData(config, m_model.model.tokenizer.get())),
          m_early(config.patience, config.minDelta, config.earlyStoppingMetric == "accuracy")
    {
        CausalLMImpl& net = *m_model.model.net;
        const Tokenizer* tokenizer = m_model.model.tokenizer.get();
        const std::int64_t context = m_model.model.config.maxPositions;
        if (context > 0 && config.maxLen > context)
            throw Error("max_len " + std::to_string(config.maxLen) + " is longer than the context of " + config.model + " (" +
                        std::to_string(context) + " tokens, max_position_embeddings); lower max_len");
        if (!tokenizer) throw Error(config.model + " has no tokenizer, so it cannot read a dataset; use a model directory");
        if (config.method == RunMethod::Dpo)
            m_objective = makeDpoObjective(net, m_data, *tokenizer, config, m_device);
        else
            m_objective = makeSftObjective(net, m_data, tokenizer->padId() >= 0 ? tokenizer->padId() : 0, m_device);
        m_totalSteps = totalStepsFor(config, m_objective->trainCount());
        TrainConfig tc;
        tc.method = trainingMethod(config.method);
        tc.adam = {config.learningRate, config.beta1, config.beta2, config.adamEps, config.weightDecay};
        tc.maxGradNorm = config.maxGradNorm;
        tc.schedule = parseSchedule(config.schedule);
        tc.warmupSteps = config.warmupSteps;
        tc.totalSteps = m_totalSteps;
        m_trainer = std::make_unique<Trainer>(m_model.model.net, tc);
        m_trainer->joinGroup(m_group);
        m_cursor = std::make_unique<DataCursor>(m_objective->trainCount(), config.seed);
        m_estimate = estimateMemory(net, config, std::min(config.maxLen, m_objective->longestSequence()));
        m_held = heldMemory(net);
        // The weights are in memory already; what a step adds must fit beside them.
        const std::int64_t more = m_estimate.total() - m_estimate.weightBytes;
        if (const std::int64_t free = availableMemory(m_device); free > 0 && more > free)
            throw Error("a training step needs about " + bytesText(more) + " beside the weights (gradients " +
                        bytesText(m_estimate.gradientBytes) + ", optimizer state " + bytesText(m_estimate.optimizerBytes) +
                        ", activations " + bytesText(m_estimate.activationBytes) + " at batch_size " +
                        std::to_string(config.batchSize) + " x max_len " + std::to_string(config.maxLen) + "), but " +
                        memoryPlace(m_device) + " has " + bytesText(free) +
                        " free; lower batch_size or max_len, or train with LoRA or in bf16");
        if (m_data.noValidation) m_config.earlyStopping = false;
        // Everything above can refuse the configuration; only now does the run
        // get a directory. In a group, rank 0 alone writes it.
        if (writes()) {
            m_dir.emplace(m_resume ? RunDirectory::open(resumeDir) : RunDirectory::create(config.runsDir, config.name));
            m_store.emplace(m_dir->checkpoints());
        }
    }

    RunResult execute();

private:
    // A single process, or rank 0 of a group: the one that writes the run directory.
    bool writes() const { return !m_group || m_group->rank() == 0; }
    void event(const std::string& message)
    {
        if (m_dir) m_dir->logEvent(message);
        if (m_callbacks.onEvent) m_callbacks.onEvent(message);
    }
    void resume();
    void restoreState(const nlohmann::json& state, bool restartPatience);
    // Between steps: the window's changes, and in a group what all ranks agree on.
    void betweenSteps();
    void agreeBetweenSteps();
    // What this run acts on between steps: its own requests, or in a group
    // the group's, so that every rank stops, pauses and resumes at one step.
    bool cancelRequested() const { return m_group ? m_agreed.cancel : m_control.cancel.load(); }
    bool stopRequested() const { return m_group ? m_agreed.stopKeepBest : m_control.stopKeepBest.load(); }
    bool pauseRequested() const { return m_group ? m_agreed.paused : m_control.paused.load(); }
    nlohmann::json checkpointState() const
    {
        return {{"cursor", m_cursor->state()},
                {"early_stopping", {{"has_best", m_early.hasBest()}, {"best", m_early.best()}, {"since_best", m_early.evalsSinceBest()}}},
                {"best_step", m_bestStep},
                {"best_val_loss", m_bestValLoss}};
    }
    // Wall time of the run so far: earlier sessions, and this one without its pauses.
    double elapsedSeconds() const
    {
        return m_priorSeconds + std::chrono::duration<double>(Clock::now() - m_start).count() - m_pausedSeconds;
    }
    void saveCheckpoint(const std::string& label);
    void resumeFromLast();
    bool waitWhilePaused();
    void applyControlChanges();
    StepRecord recordStep(const ObjectiveStep& s, const MemoryReading& memory);
    EvalRecord evaluate();
    void sampleBase();
    void finishSamples();
    RunSummary summarise() const;

    RunConfig m_config;
    RunControl& m_control;
    const RunCallbacks& m_callbacks;
    bool m_resume;
    Collective* m_group; // null in a single process
    struct {
        bool cancel = false, stopKeepBest = false, paused = false;
    } m_agreed; // the group's requests at the last agreement
    torch::Device m_device;
    PreparedModel m_model;
    PreparedData m_data;
    std::unique_ptr<Objective> m_objective;
    std::unique_ptr<Trainer> m_trainer;
    std::unique_ptr<DataCursor> m_cursor;
    EarlyStopping m_early;
    std::optional<RunDirectory> m_dir;    // created once the configuration is accepted
    std::optional<CheckpointStore> m_store;
    MemoryBreakdown m_estimate;
    MemoryBreakdown m_held; // weights, and the gradients of what trains (the optimizer's state grows at its first step)
    std::int64_t m_totalSteps = 0;
    std::int64_t m_bestStep = 0;
    std::int64_t m_lastSaved = -1;
    double m_lastValLoss = -1.0;
    double m_bestValLoss = -1.0;
    double m_bestAccuracy = -1.0;
    double m_priorSeconds = 0.0; // wall time of the sessions before a resume
    double m_pausedSeconds = 0.0;
    StopReason m_stopReason = StopReason::Completed;
    std::vector<SampleRecord> m_samples;
    std::deque<double> m_recentStepMs;
    Totals m_totals;
    Clock::time_point m_start = Clock::now();
};

void Run::saveCheckpoint(const std::string& label)
{
    // Every checkpoint carries what a resume needs (optimizer moments, data
    // position, early-stopping state): "best" and "last" may be one directory,
    // and either may be the one a continued run starts from.
    const std::int64_t step = m_trainer->stepCount();
    if (label == "last") m_lastSaved = step;
    if (!writes()) return;
    m_store->commit(label, step, [&](const std::filesystem::path& dir) {
        m_trainer->saveCheckpoint(dir, checkpointState(), /*withOptimizer=*/true, m_model.sourceDir, m_model.spec);
    });
}

void Run::resumeFromLast()
{
    const auto last = m_store->resolve("last");
    if (!last) throw fileError(m_dir->checkpoints().string(), "holds no complete 'last' checkpoint to resume from");
    const nlohmann::json extra = m_trainer->loadCheckpoint(*last);
    const RunRecords before = readRunDirectory(m_dir->path().string());
    // A finished run stays as it is unless it is given more steps to take;
    // one stopped after its last step but before its summary finishes now.
    const bool trainedAll = m_trainer->stepCount() >= m_totalSteps;
    if (trainedAll && before.hasSummary)
        throw Error(m_dir->path().string() + ": the run already took its " + std::to_string(m_trainer->stepCount()) +
                    " steps (max_steps " + std::to_string(m_totalSteps) +
                    "); continue it with a larger max_steps (loralab-cli run --resume DIR --max-steps N)");
    // An early-stopped run that is continued gets its patience afresh; it
    // would otherwise stop again at its first evaluation.
    const bool restartPatience = m_config.earlyStopping && extra.at("early_stopping").at("since_best").get<std::int64_t>() >= m_config.patience;
    restoreState(extra, restartPatience);
    if (before.hasSummary) m_priorSeconds = before.summary.seconds;
    m_dir->truncateMetricsAfter(m_lastSaved);
    // What the earlier sessions recorded counts on: step totals, the last
    // validation results, and the wall time of a session killed before its summary.
    const RunRecords kept = readRunDirectory(m_dir->path().string());
    for (const auto& r : kept.steps) m_totals.add(r);
    for (const auto& e : kept.evals) {
        m_lastValLoss = e.loss;
        m_bestAccuracy = std::max(m_bestAccuracy, e.preferenceAccuracy);
        if (m_bestValLoss < 0 && e.step == m_bestStep && e.improved) m_bestValLoss = e.loss;
    }
    if (!before.hasSummary && !kept.steps.empty()) m_priorSeconds = kept.steps.back().elapsedSeconds;
    event("resumed from " + last->filename().string() + " at step " + std::to_string(m_lastSaved));
    if (trainedAll) event("every step was trained before the run stopped; it finishes now (evaluation, samples, summary)");
    if (restartPatience) event("early stopping's patience starts again (" + std::to_string(m_config.patience) + " evaluations)");
    const RunConfig stored = loadRunConfig((m_dir->path() / "config.json").string());
    if (stored.maxSteps != m_config.maxSteps || stored.epochs != m_config.epochs) {
        m_dir->writeConfig(runConfigToJson(m_config));
        event("continued to " + std::to_string(m_totalSteps) + " steps");
    }
}

void Run::restoreState(const nlohmann::json& state, bool restartPatience)
{
    m_cursor->restore(state.at("cursor"));
    const auto& es = state.at("early_stopping");
    m_early.restore(es.at("has_best").get<bool>(), es.at("best").get<double>(),
                    restartPatience ? 0 : es.at("since_best").get<std::int64_t>());
    m_bestStep = state.value("best_step", std::int64_t{0});
    m_bestValLoss = state.value("best_val_loss", -1.0);
    m_lastSaved = m_trainer->stepCount();
}

void Run::resume()
{
    // Rank 0 resumes from the run directory; in a group it then hands every
    // other process its weights, optimizer moments and data position, or the
    // reason it could not resume, so that all stop with the same message.
    std::string refusal;
    if (writes()) {
        try {
            resumeFromLast();
        } catch (const Error& e) {
            if (!m_group) throw;
            refusal = e.what();
        }
    }
    if (!m_group) return;
    refusal = m_group->broadcastText(refusal);
    if (!refusal.empty()) throw Error(refusal);
    m_trainer->takeStateFromRankZero();
    restoreState(nlohmann::json::parse(m_group->broadcastText(checkpointState().dump())), false);
}

void Run::betweenSteps()
{
    applyControlChanges();
    if (m_group) agreeBetweenSteps();
}

void Run::agreeBetweenSteps()
{
    // A cancel, stop or pause asked of any one process holds for all; the
    // settings changed in rank 0's window (patience, evaluation interval,
    // early stopping) hold everywhere.
    const nlohmann::json mine = {{"cancel", m_control.cancel.load()},     {"stop", m_control.stopKeepBest.load()},
                                 {"pause", m_control.paused.load()},      {"patience", m_early.patience()},
                                 {"eval_interval", m_config.evalInterval}, {"early_stopping", m_config.earlyStopping}};
    const std::vector<std::string> all = m_group->gatherText(mine.dump());
    m_agreed = {};
    for (const std::string& text : all) {
        const auto rank = nlohmann::json::parse(text);
        m_agreed.cancel = m_agreed.cancel || rank.at("cancel").get<bool>();
        m_agreed.stopKeepBest = m_agreed.stopKeepBest || rank.at("stop").get<bool>();
        m_agreed.paused = m_agreed.paused || rank.at("pause").get<bool>();
    }
    if (m_group->rank() == 0) return;
    const auto first = nlohmann::json::parse(all.at(0));
    m_early.setPatience(first.at("patience").get<std::int64_t>());
    m_config.evalInterval = first.at("eval_interval").get<std::int64_t>();
    m_config.earlyStopping = first.at("early_stopping").get<bool>();
    m_control.earlyStopping.store(m_config.earlyStopping);
}

bool Run::waitWhilePaused()
{
    if (!pauseRequested()) return true;
    // Pausing leaves a checkpoint behind, so the window can sample from the
    // model as it is while the run waits.
    if (m_lastSaved != m_trainer->stepCount()) saveCheckpoint("last");
    event("paused at step " + std::to_string(m_trainer->stepCount()));
    if (m_callbacks.onPaused && m_store) m_callbacks.onPaused(m_store->resolve("last").value_or(std::filesystem::path()).string());
    const auto pausedAt = Clock::now();
    // A group keeps agreeing while it waits, well within its timeout.
    while (pauseRequested() && !cancelRequested() && !stopRequested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(m_group ? 200 : 50));
        betweenSteps();
    }
    m_pausedSeconds += std::chrono::duration<double>(Clock::now() - pausedAt).count();
    if (cancelRequested() || stopRequested()) return false;
    event("resumed");
    return true;
}

void Run::applyControlChanges()
{
    const auto patience = m_control.patience.exchange(-1);
    if (patience >= 0 && patience != m_early.patience()) {
        m_early.setPatience(patience);
        event("patience set to " + std::to_string(patience));
    }
    const auto interval = m_control.evalInterval.exchange(-1);
    if (interval > 0 && interval != m_config.evalInterval) {
        m_config.evalInterval = interval;
        event("evaluation interval set to " + std::to_string(interval) + " steps");
    }
    m_config.earlyStopping = m_control.earlyStopping.load();
}

StepRecord Run::recordStep(const ObjectiveStep& s, const MemoryReading& memory)
{
    StepRecord r;
    r.method = m_config.method;
    r.step = m_trainer->stepCount();
    r.totalSteps = m_totalSteps;
    r.epoch = m_cursor->epoch();
    r.loss = s.result.loss;
    r.learningRate = s.result.learningRate;
    r.gradNorm = s.result.gradNorm;
    r.forwardMs = s.result.forwardMs;
    r.backwardMs = s.result.backwardMs;
    r.optimizerMs = s.result.optimizerMs;
    r.stepMs = s.result.stepMs;
    r.commMs = s.result.commMs;
    r.worldSize = m_group ? m_group->worldSize() : 1;
    r.tokens = s.inputTokens;
    r.tokensPerSecond = s.result.stepMs > 0 ? 1000.0 * static_cast<double>(s.inputTokens) / s.result.stepMs : 0.0;
    r.memoryBytes = memory.currentBytes;
    r.peakMemoryBytes = memory.peakBytes;
    r.processMemoryBytes = memory.processBytes;
    r.measured = m_held;
    r.measured.optimizerBytes = m_trainer->optimizerStateBytes();
    r.measured.activationBytes = std::max<std::int64_t>(0, memory.peakBytes - r.measured.weightBytes -
                                                               r.measured.gradientBytes - r.measured.optimizerBytes);
    r.estimate = m_estimate;
    r.elapsedSeconds = elapsedSeconds();
    m_recentStepMs.push_back(s.result.stepMs);
    if (m_recentStepMs.size() > 20) m_recentStepMs.pop_front();
    const double avg = std::accumulate(m_recentStepMs.begin(), m_recentStepMs.end(), 0.0) / static_cast<double>(m_recentStepMs.size());
    r.etaSeconds = avg * static_cast<double>(m_totalSteps - r.step) / 1000.0;
    r.rewardChosen = s.rewardChosen;
    r.rewardRejected = s.rewardRejected;
    r.rewardMargin = s.rewardMargin;
    r.preferenceAccuracy = s.accuracy;
    return r;
}

EvalRecord Run::evaluate()
{
    ObjectiveEval e = m_objective->evaluate(m_config.evalBatches, m_config.batchSize,
                                            m_group ? EvalShard{m_group->rank(), m_group->worldSize()} : EvalShard{});
    if (m_group) { // each process scored its share of the batches: combine them as one would have
        const double tokens = m_group->sum(static_cast<double>(e.tokens));
        const double scale = tokens > 0 ? 1.0 / tokens : 0.0;
        const double weight = static_cast<double>(e.tokens);
        e.loss = m_group->sum(e.loss * weight) * scale;
        if (m_config.method == RunMethod::Dpo) {
            e.accuracy = m_group->sum(e.accuracy * weight) * scale;
            e.rewardMargin = m_group->sum(e.rewardMargin * weight) * scale;
        }
        e.tokens = std::llround(tokens);
    }
    EvalRecord r;
    r.method = m_config.method;
    r.step = m_trainer->stepCount();
    r.epoch = m_cursor->epoch();
    r.loss = e.loss;
    r.perplexity = std::exp(std::min(e.loss, 50.0));
    r.tokens = e.tokens;
    r.preferenceAccuracy = e.accuracy;
    r.rewardMargin = e.rewardMargin;
    const bool byAccuracy = m_config.earlyStoppingMetric == "accuracy" && e.accuracy >= 0;
    const EarlyStopping::Decision d = m_early.observe(byAccuracy ? e.accuracy : e.loss);
    r.improved = d.improved;
    r.bestValue = m_early.best();
    r.evalsSinceBest = d.evalsSinceBest;
    r.evalsLeft = m_config.earlyStopping ? d.evalsLeft : -1;
    m_lastValLoss = e.loss;
    m_bestAccuracy = std::max(m_bestAccuracy, e.accuracy);
    if (m_dir) m_dir->appendMetric(toJson(r));
    if (m_callbacks.onEval) m_callbacks.onEval(r);
    if (d.improved) {
        // The best is the step early stopping counts as an improvement, whose
        // checkpoint is kept; with min_delta a later loss may be slightly
        // lower without being it.
        m_bestStep = r.step;
        m_bestValLoss = e.loss;
        // At step 0 a full fine-tuning checkpoint would only copy the base model.
        if (r.step > 0 || m_config.method != RunMethod::Full) saveCheckpoint("best");
    }
    return r;
}

void Run::sampleBase()
{
    if (!writes()) return; // samples are rank 0's to write
    const auto& examples = m_data.sampleExamples();
    const std::size_t n = std::min<std::size_t>(examples.size(), static_cast<std::size_t>(m_config.samples));
    if (n == 0) return;
    CausalLMImpl& net = *m_model.model.net;
    std::vector<std::string> prompts;
    for (std::size_t i = 0; i < n; ++i) {
        SampleRecord s;
        s.method = m_config.method;
        s.index = static_cast<std::int64_t>(i);
        s.prompt = m_data.text() ? examples[i].target.substr(0, examples[i].target.size() / 2) : examples[i].prompt;
        s.target = m_data.text() ? examples[i].target.substr(examples[i].target.size() / 2) : examples[i].target;
        s.rejected = examples[i].rejected;
        prompts.push_back(s.prompt);
        m_samples.push_back(std::move(s));
    }
    setLoraEnabled(net, false);
    const auto answers = answerPrompts(net, *m_model.model.tokenizer, prompts, samplingOptionsFor(m_config, !m_data.text()));
    setLoraEnabled(net, true);
    for (std::size_t i = 0; i < answers.size(); ++i) m_samples[i].baseOutput = answers[i];
    std::vector<std::string> lines;
    for (const auto& s : m_samples) lines.push_back(toJson(s));
    m_dir->writeSamples(lines);
}

void Run::finishSamples()
{
    if (m_samples.empty() || !writes()) return;
    std::vector<std::string> prompts;
    for (const auto& s : m_samples) prompts.push_back(s.prompt);
    const auto answers = answerPrompts(*m_model.model.net, *m_model.model.tokenizer, prompts,
                                       samplingOptionsFor(m_config, !m_data.text()));
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < m_samples.size(); ++i) {
        if (i < answers.size()) m_samples[i].tunedOutput = answers[i];
        lines.push_back(toJson(m_samples[i]));
        if (m_callbacks.onSample) m_callbacks.onSample(m_samples[i]);
    }
    m_dir->writeSamples(lines);
}

RunSummary Run::summarise() const
{
    RunSummary s;
    s.runDir = m_dir ? m_dir->path().string() : std::string();
    s.model = m_config.model;
    s.method = m_config.method;
    for (auto& [name, p] : m_model.model.net->uniqueParameters()) s.totalParams += p.numel();
    s.trainableParams = m_trainer->trainableParams();
    s.steps = m_totals.steps;
    const double n = std::max<std::int64_t>(1, m_totals.steps);
    s.avgForwardMs = m_totals.forwardMs / n;
    s.avgBackwardMs = m_totals.backwardMs / n;
    s.avgOptimizerMs = m_totals.optimizerMs / n;
    s.avgStepMs = m_totals.stepMs / n;
    s.tokensPerSecond = m_totals.stepMs > 0 ? 1000.0 * static_cast<double>(m_totals.tokens) / m_totals.stepMs : 0.0;
    s.peakMemoryBytes = m_totals.peakMemory;
    s.processPeakMemoryBytes = m_totals.processPeakMemory;
    s.measured = m_totals.measuredAtPeak;
    s.estimate = m_estimate;
    s.firstTrainLoss = m_totals.firstLoss;
    s.finalTrainLoss = m_totals.lastLoss;
    s.finalValLoss = m_lastValLoss;
    s.bestValLoss = m_bestValLoss;
    s.bestValAccuracy = m_bestAccuracy;
    s.bestStep = m_bestStep;
    s.stopReason = m_stopReason;
    s.baseExactMatch = exactMatchRate(m_samples, false);
    s.tunedExactMatch = m_stopReason != StopReason::Cancelled ? exactMatchRate(m_samples, true) : -1.0;
    s.seconds = elapsedSeconds();
    s.pausedSeconds = m_pausedSeconds;
    return s;
}

RunResult Run::execute()
{
    if (m_dir && m_callbacks.onRunDir) m_callbacks.onRunDir(m_dir->path().string());
    if (m_dir && !m_resume) m_dir->writeConfig(runConfigToJson(m_config));
    if (m_resume)
        resume(); // refuses a finished run before anything is written
    else if (m_group)
        m_trainer->takeStateFromRankZero(); // the same starting adapter everywhere
    for (const auto& note : m_data.notes) event(note);
    if (m_resume) {
        if (m_dir)
            for (const auto& s : readRunDirectory(m_dir->path().string()).samples) m_samples.push_back(s);
    } else {
        event("started: " + std::string(runMethodName(m_config.method)) + " on " + m_config.model + ", " + std::to_string(m_totalSteps) + " steps, " +
              std::to_string(m_trainer->trainableParams()) + " trainable parameters" +
              (m_group ? ", " + std::to_string(m_group->worldSize()) + " processes" : std::string()));
        sampleBase();
        if (m_config.evalAtStart && !m_data.noValidation) evaluate();
    }
    bool evaluatedLast = false;
    while (m_trainer->stepCount() < m_totalSteps) {
        betweenSteps();
        if (cancelRequested()) {
            m_stopReason = StopReason::Cancelled;
            break;
        }
        if (stopRequested() || !waitWhilePaused()) {
            m_stopReason = cancelRequested() ? StopReason::Cancelled : StopReason::UserStop;
            break;
        }
        // Every process draws the same global batch and takes its share of it.
        auto indices = m_cursor->next(static_cast<std::size_t>(m_config.batchSize * m_config.gradAccum));
        if (m_group) indices = shardOf(indices, m_group->rank(), m_group->worldSize());
        resetPeakMemory(m_device);
        ObjectiveStep s = m_objective->step(*m_trainer, indices, m_config.batchSize);
        if (m_group) s.inputTokens = std::llround(m_group->sum(static_cast<double>(s.inputTokens))); // the group's throughput
        if (!s.result.finite) {
            m_stopReason = StopReason::NonFiniteLoss;
            event("stopped: the loss or gradient became " + std::string(std::isnan(s.result.loss) ? "NaN" : "infinite") +
                  " at step " + std::to_string(m_trainer->stepCount() + 1) + "; no update was made and the last good "
                  "checkpoint is kept");
            break;
        }
        const StepRecord record = recordStep(s, readMemory(m_device));
        m_totals.add(record);
        if (m_dir) m_dir->appendMetric(toJson(record));
        if (m_callbacks.onStep) m_callbacks.onStep(record);

        const std::int64_t step = record.step;
        evaluatedLast = false;
        if (!m_data.noValidation && m_config.evalInterval > 0 && step % m_config.evalInterval == 0) {
            const EvalRecord e = evaluate();
            evaluatedLast = true;
            if (m_config.earlyStopping && m_early.shouldStop()) {
                m_stopReason = StopReason::EarlyStopping;
                event("early stopping at step " + std::to_string(step) + ": no improvement in " +
                      std::to_string(e.evalsSinceBest) + " evaluations; best was step " + std::to_string(m_bestStep));
                break;
            }
        }
        if (m_config.checkpointInterval > 0 && step % m_config.checkpointInterval == 0) saveCheckpoint("last");
    }
    if (m_stopReason != StopReason::NonFiniteLoss) {
        if (!evaluatedLast && !m_data.noValidation && m_trainer->stepCount() > 0 && m_stopReason != StopReason::Cancelled) evaluate();
        if (m_lastSaved != m_trainer->stepCount() && m_trainer->stepCount() > 0) saveCheckpoint("last");
    }
    // Finish with the best weights when validation picked a step other than the last.
    if (m_bestStep == 0 && m_early.hasBest() && m_trainer->stepCount() > 0)
        event("no evaluation improved on the untrained model");
    if (const auto best = m_store ? m_store->resolve("best") : std::nullopt; best && m_bestStep != m_trainer->stepCount()) {
        loadTrainedWeights(*m_model.model.net, trainingMethod(m_config.method), *best);
        event("restored the best checkpoint (step " + std::to_string(m_bestStep) + ")");
    }
    if (m_stopReason != StopReason::Cancelled) finishSamples();
    RunResult result;
    result.summary = summarise();
    result.samples = m_samples;
    if (m_dir) {
        m_dir->writeSummary(toJson(result.summary));
        m_store->prune();
    }
    event("finished: " + std::string(stopReasonName(m_stopReason)) + " after " + std::to_string(m_totals.steps) + " steps");
    return result;
}

} // namespace

RunResult runExperiment(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir)
{
    const RunConfig effective = resumeDir.empty() ? config : resumedConfig(config, resumeDir);
    checkRunConfig(effective);
    // Processes of one group on this machine share its cores.
    const int threads = effective.threads > 0 || effective.processes <= 1
                            ? effective.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / effective.processes);
    setThreadCount(threads);
    torch::manual_seed(effective.seed);
    control.earlyStopping.store(effective.earlyStopping);
    torch::Device device = resolveDevice(effective.device);
    const std::unique_ptr<LocalRanks> ranks = startLocalRanks(effective, resumeDir, threads);
    try {
        const std::unique_ptr<Collective> group = joinGroupIfLaunched(effective, device, ranks.get());
        // The run's own CPU tensors, apart from anything else the process does.
        const TensorMemoryScope tensors;
        Run run(effective, control, callbacks, resumeDir, device, group.get());
        return run.execute();
    } catch (const Error& e) {
        // What the other processes said is often the cause; a rank that is
        // failing gets a moment to exit first.
        if (ranks) ranks->wait(std::chrono::seconds(2));
        if (const std::string why = ranks ? ranks->failures() : std::string(); !why.empty()) throw Error(std::string(e.what()) + "\n" + why);
        throw;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        if (const std::string oom = outOfMemoryMessage(what); !oom.empty())
            throw Error(oom + " during the run; lower batch_size or max_len. Checkpoints written so far are kept");
        throw Error("the run stopped on an internal error: " + what.substr(0, 400));
    } catch (const std::bad_alloc&) {
        throw Error("out of memory during the run; lower batch_size or max_len. Checkpoints written so far are kept");
    }
}

} // namespace loralab
