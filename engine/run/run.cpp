// The run loop; see run.h.
#include "engine/run/run.h"

#include "engine/run/memory_fit.h"

#include "engine/checkpoint/load_checkpoint.h"
#include "engine/dist/collective.h"
#include "engine/experiment/run_catalog.h"
#include "engine/model/model_summary.h"
#include "engine/run/resume.h"
#include "engine/run/run_samples.h"
#include "engine/util/error.h"
#include "engine/util/units.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

namespace loralab {
namespace {

std::int64_t totalStepsOf(const RunConfig& c, std::size_t trainCount)
{
    if (c.maxSteps > 0) return c.maxSteps;
    const double perStep = static_cast<double>(c.batchSize * c.gradAccum);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(c.epochs * static_cast<double>(trainCount) / perStep)));
}

} // namespace

Run::Run(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir,
         torch::Device device, Collective* group, std::optional<FolderLock> lock)
    : m_config(config), m_control(control), m_resume(!resumeDir.empty()), m_group(group), m_device(device),
      m_steering(group ? groupSteering(control, *group) : localSteering(control)), m_model(prepareModel(config, m_device)),
      m_data(prepareData(config, m_model.model.tokenizer.get()))
{
    CausalLMImpl& net = *m_model.model.net;
    const Tokenizer* tokenizer = m_model.model.tokenizer.get();
    const std::int64_t context = m_model.model.config.maxPositions;
    if (context > 0 && config.maxLen > context)
        throw Error("max_len " + std::to_string(config.maxLen) + " is longer than the context of " + config.model + " (" +
                    std::to_string(context) + " tokens, max_position_embeddings); lower max_len");
    if (!tokenizer) throw Error(config.model + " has no tokenizer, so it cannot read a dataset; use a model directory");
    if (config.objective == Objective::Dpo)
        m_objective = makeDpoObjective(net, m_data, *tokenizer, config, m_device);
    else
        m_objective = makeSftObjective(net, m_data, tokenizer->paddingId(), m_device);
    m_totalSteps = totalStepsOf(config, m_objective->trainCount());
    TrainConfig tc;
    tc.method = config.method;
    tc.adam = {config.learningRate, config.beta1, config.beta2, config.adamEps, config.weightDecay};
    tc.maxGradNorm = config.maxGradNorm;
    tc.schedule = config.schedule;
    tc.warmupSteps = config.warmupSteps;
    tc.totalSteps = m_totalSteps;
    m_trainer = std::make_unique<Trainer>(m_model.model.net, tc);
    m_trainer->joinGroup(m_group);
    m_progress = std::make_unique<RunProgress>(m_objective->trainCount(), config);
    const std::int64_t T = std::min(config.maxLen, m_objective->longestSequence());
    m_estimate = estimateMemory(net, config, T, m_device);
    m_held = heldMemory(net);
    // The weights are in memory already; what a step adds must fit beside
    // them. Refused with what would make it fit.
    MemoryPlanOptions plan;
    plan.sequenceLength = T;
    plan.heldWeightBytes = m_estimate.weightBytes;
    plan.estimate = m_estimate;
    plan.leversAlways = false;
    if (const MemoryFit fit = planMemory(config, plan); !fit.fits) throw Error(fit.refusal(config));
    if (m_data.noValidation) m_config.earlyStopping = false;
    // Everything above can refuse the configuration; only now does the run
    // get a directory. In a group, rank 0 alone writes it.
    const bool writes = !m_group || m_group->rank() == 0;
    if (!writes)
        m_sink = nullSink();
    else if (m_resume)
        m_sink = fileSink(RunDirectory::open(resumeDir), callbacks, std::move(lock));
    else
        m_sink = fileSink(RunDirectory::create(runsDirOf(config), config.name), callbacks);
}

double Run::elapsedSeconds() const
{
    return m_progress->priorSeconds + std::chrono::duration<double>(Clock::now() - m_start).count() - m_progress->pausedSeconds;
}

void Run::saveCheckpoint(const std::string& label)
{
    // Every checkpoint carries what a resume needs (optimizer moments, data
    // position, early-stopping state): "best" and "last" may be one directory,
    // and either may be the one a continued run starts from.
    const std::int64_t step = m_trainer->stepCount();
    if (label == "last") m_progress->lastSaved = step;
    CheckpointStore* store = m_sink->checkpoints();
    if (!store) return;
    store->commit(label, step, [&](const std::filesystem::path& dir) {
        m_trainer->saveCheckpoint(dir, m_progress->checkpointState(), /*withOptimizer=*/true, m_model.sourceDir, m_model.spec);
    });
}

bool Run::resume()
{
    // Rank 0 resumes from the run directory; in a group it then hands every
    // other process its weights, optimizer moments and data position, or the
    // reason it could not resume, so that all stop with the same message.
    std::string refusal;
    bool restored = false;
    if (m_sink->directory()) {
        try {
            restored = resumeFromLast(*m_sink, *m_trainer, *m_progress, m_config, m_totalSteps);
        } catch (const Error& e) {
            if (!m_group) throw;
            refusal = e.what();
        }
    }
    if (!m_group) return restored;
    refusal = m_group->broadcastText(refusal);
    if (!refusal.empty()) throw Error(refusal);
    restored = m_group->broadcastText(restored ? "1" : "0") == "1";
    m_trainer->takeStateFromRankZero();
    if (restored)
        m_progress->restore(nlohmann::json::parse(m_group->broadcastText(m_progress->checkpointState().dump())), false,
                            m_trainer->stepCount());
    return restored;
}

SteeringRequests Run::betweenSteps()
{
    RunSettings settings{m_progress->early.patience(), m_config.evalInterval, m_config.earlyStopping};
    const SteeringRequests requests = m_steering->poll(settings);
    if (settings.patience != m_progress->early.patience()) {
        m_progress->early.setPatience(settings.patience);
        m_sink->event("patience set to " + std::to_string(settings.patience));
    }
    if (settings.evalInterval != m_config.evalInterval) {
        m_config.evalInterval = settings.evalInterval;
        m_sink->event("evaluation interval set to " + std::to_string(settings.evalInterval) + " steps");
    }
    m_config.earlyStopping = settings.earlyStopping && !m_data.noValidation;
    return requests;
}

bool Run::waitWhilePaused(SteeringRequests& requests)
{
    if (!requests.pause) return true;
    // Pausing leaves a checkpoint behind, so the window can sample from the
    // model as it is while the run waits.
    if (m_progress->lastSaved != m_trainer->stepCount()) saveCheckpoint("last");
    m_sink->event("paused at step " + std::to_string(m_trainer->stepCount()));
    if (CheckpointStore* store = m_sink->checkpoints()) m_sink->paused(store->resolve("last").value_or(std::filesystem::path()).string());
    const auto pausedAt = Clock::now();
    while (requests.pause && !requests.cancel && !requests.stop) {
        std::this_thread::sleep_for(m_steering->pollInterval());
        requests = betweenSteps();
    }
    m_progress->pausedSeconds += std::chrono::duration<double>(Clock::now() - pausedAt).count();
    if (requests.cancel || requests.stop) return false;
    m_sink->event("resumed");
    return true;
}

StepRecord Run::recordStep(const ObjectiveStep& s, const MemoryReading& memory)
{
    StepRecord r;
    r.objective = m_config.objective;
    r.method = m_config.method;
    r.step = m_trainer->stepCount();
    r.totalSteps = m_totalSteps;
    r.epoch = m_progress->cursor.epoch();
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
    r.usefulTokens = s.usefulTokens;
    r.usefulTokensPerSecond = s.result.stepMs > 0 ? 1000.0 * static_cast<double>(s.usefulTokens) / s.result.stepMs : 0.0;
    r.memoryBytes = memory.currentBytes;
    r.peakMemoryBytes = memory.peakBytes;
    r.processMemoryBytes = memory.processBytes;
    r.measured = m_held;
    r.measured.optimizerBytes = m_trainer->optimizerStateBytes();
    r.measured.activationBytes =
        std::max<std::int64_t>(0, memory.peakBytes - r.measured.weightBytes - r.measured.gradientBytes - r.measured.optimizerBytes);
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
        if (m_config.objective == Objective::Dpo) {
            e.accuracy = m_group->sum(e.accuracy * weight) * scale;
            e.rewardMargin = m_group->sum(e.rewardMargin * weight) * scale;
        }
        e.tokens = std::llround(tokens);
    }
    RunProgress& p = *m_progress;
    EvalRecord r;
    r.objective = m_config.objective;
    r.method = m_config.method;
    r.step = m_trainer->stepCount();
    r.epoch = p.cursor.epoch();
    r.loss = e.loss;
    r.perplexity = std::exp(std::min(e.loss, 50.0));
    r.tokens = e.tokens;
    r.preferenceAccuracy = e.accuracy;
    r.rewardMargin = e.rewardMargin;
    const bool byAccuracy = m_config.earlyStoppingMetric == StopMetric::Accuracy && e.accuracy >= 0;
    const EarlyStopping::Decision d = p.early.observe(byAccuracy ? e.accuracy : e.loss);
    r.improved = d.improved;
    r.bestValue = p.early.hasBest() ? p.early.best() : std::numeric_limits<double>::quiet_NaN(); // null in the file
    r.evalsSinceBest = d.evalsSinceBest;
    r.evalsLeft = m_config.earlyStopping ? d.evalsLeft : -1;
    p.lastValLoss = e.loss;
    if (e.accuracy >= 0) p.bestAccuracy = std::max(p.bestAccuracy.value_or(e.accuracy), e.accuracy);
    m_sink->eval(r);
    if (d.improved) {
        // The best is the step early stopping counts as an improvement, whose
        // checkpoint is kept; with min_delta a later loss may be slightly
        // lower without being it.
        p.bestStep = r.step;
        p.bestValLoss = e.loss;
        // At step 0 a full fine-tuning checkpoint would only copy the base model.
        if (r.step > 0 || m_config.method != Method::Full) saveCheckpoint("best");
    }
    return r;
}

void Run::sampleBase()
{
    if (!m_sink->directory()) return; // samples are rank 0's to write
    m_samples = samplePrompts(m_data, m_config.samples, m_config);
    if (m_samples.empty()) return;
    std::vector<std::string> prompts;
    for (const auto& s : m_samples) prompts.push_back(s.prompt);
    CausalLMImpl& net = *m_model.model.net;
    std::vector<std::string> answers;
    {
        const AdaptersOff base(net);
        answers = answerPrompts(net, *m_model.model.tokenizer, prompts, samplingOptionsFor(m_config, !m_data.text()));
    }
    for (std::size_t i = 0; i < answers.size(); ++i) m_samples[i].baseOutput = answers[i];
    m_sink->samples(m_samples, false);
}

void Run::finishSamples()
{
    if (m_samples.empty() || !m_sink->directory()) return;
    std::vector<std::string> prompts;
    for (const auto& s : m_samples) prompts.push_back(s.prompt);
    const auto answers =
        answerPrompts(*m_model.model.net, *m_model.model.tokenizer, prompts, samplingOptionsFor(m_config, !m_data.text()));
    for (std::size_t i = 0; i < m_samples.size() && i < answers.size(); ++i) m_samples[i].tunedOutput = answers[i];
    m_sink->samples(m_samples, true);
}

RunSummary Run::summarise() const
{
    const RunProgress& p = *m_progress;
    RunSummary s;
    s.runDir = m_sink->directory() ? m_sink->directory()->path().string() : std::string();
    s.model = m_config.model;
    s.objective = m_config.objective;
    s.method = m_config.method;
    s.totalParams = countParameters(*m_model.model.net).total; // quantized base weights counted as the weights they stand for
    s.trainableParams = m_trainer->trainableParams();
    s.steps = p.totals.steps;
    const double n = static_cast<double>(std::max<std::int64_t>(1, p.totals.steps));
    s.avgForwardMs = p.totals.forwardMs / n;
    s.avgBackwardMs = p.totals.backwardMs / n;
    s.avgOptimizerMs = p.totals.optimizerMs / n;
    s.avgStepMs = p.totals.stepMs / n;
    s.tokensPerSecond = p.totals.stepMs > 0 ? 1000.0 * static_cast<double>(p.totals.tokens) / p.totals.stepMs : 0.0;
    s.usefulTokensPerSecond = p.totals.stepMs > 0 ? 1000.0 * static_cast<double>(p.totals.usefulTokens) / p.totals.stepMs : 0.0;
    s.peakMemoryBytes = p.totals.peakMemory;
    s.processPeakMemoryBytes = p.totals.processPeakMemory;
    s.measured = p.totals.measuredAtPeak;
    s.estimate = m_estimate;
    s.firstTrainLoss = p.totals.firstLoss;
    s.finalTrainLoss = p.totals.lastLoss;
    s.finalValLoss = p.lastValLoss;
    s.bestValLoss = p.bestValLoss;
    s.bestValAccuracy = p.bestAccuracy;
    s.bestStep = p.bestStep;
    s.state = m_state;
    s.baseExactMatch = exactMatchRate(m_samples, false);
    if (m_state != RunState::Cancelled) s.tunedExactMatch = exactMatchRate(m_samples, true);
    s.seconds = elapsedSeconds();
    s.pausedSeconds = p.pausedSeconds;
    return s;
}

RunResult Run::execute()
{
    RunProgress& p = *m_progress;
    const RecordingScope recording(m_control);
    m_sink->opened(m_config, m_resume);
    // A resume refuses a finished run before anything is written; one
    // without a checkpoint begins again.
    const bool restored = m_resume && resume();
    if (!restored && m_group) m_trainer->takeStateFromRankZero(); // the same starting adapter everywhere
    for (const auto& note : m_model.notes) m_sink->event(note);
    for (const auto& note : m_data.notes) m_sink->event(note);
    if (restored) {
        if (const RunDirectory* dir = m_sink->directory()) m_samples = readRunRecords(dir->path().string()).samples;
    } else {
        m_sink->event("started: " + std::string(choiceName(m_config.objective)) + " " + choiceName(m_config.method) + " on " +
                      m_config.model + ", " + std::to_string(m_totalSteps) + " steps, " +
                      std::to_string(m_trainer->trainableParams()) + " trainable parameters" +
                      (m_group ? ", " + std::to_string(m_group->worldSize()) + " processes" : std::string()));
        sampleBase();
        if (m_config.evalAtStart && !m_data.noValidation) evaluate();
    }
    bool evaluatedLast = false;
    while (m_trainer->stepCount() < m_totalSteps) {
        SteeringRequests requests = betweenSteps();
        if (requests.cancel) {
            m_state = RunState::Cancelled;
            break;
        }
        if (requests.stop || !waitWhilePaused(requests)) {
            m_state = requests.cancel ? RunState::Cancelled : RunState::UserStop;
            break;
        }
        // Every process draws the same global batch and takes its share of it.
        auto indices = p.cursor.next(static_cast<std::size_t>(m_config.batchSize * m_config.gradAccum));
        if (m_group) indices = shardOf(indices, m_group->rank(), m_group->worldSize());
        resetPeakMemory(m_device);
        ObjectiveStep s = m_objective->step(*m_trainer, indices, m_config.batchSize);
        if (m_group) { // the group's throughput
            s.inputTokens = std::llround(m_group->sum(static_cast<double>(s.inputTokens)));
            s.usefulTokens = std::llround(m_group->sum(static_cast<double>(s.usefulTokens)));
        }
        if (!s.result.finite) {
            m_state = RunState::NonFiniteLoss;
            m_sink->event("stopped: the loss or gradient became " + std::string(std::isnan(s.result.loss) ? "NaN" : "infinite") +
                          " at step " + std::to_string(m_trainer->stepCount() + 1) +
                          "; no update was made and the last good checkpoint is kept");
            break;
        }
        const StepRecord record = recordStep(s, readMemory(m_device));
        p.totals.add(record);
        m_sink->step(record);

        const std::int64_t step = record.step;
        evaluatedLast = false;
        if (!m_data.noValidation && m_config.evalInterval > 0 && step % m_config.evalInterval == 0) {
            const EvalRecord e = evaluate();
            evaluatedLast = true;
            if (m_config.earlyStopping && p.early.shouldStop()) {
                m_state = RunState::EarlyStopping;
                m_sink->event("early stopping at step " + std::to_string(step) + ": no improvement in " +
                              std::to_string(e.evalsSinceBest) + " evaluations; best was step " + std::to_string(p.bestStep));
                break;
            }
        }
        if (m_config.checkpointInterval > 0 && step % m_config.checkpointInterval == 0) saveCheckpoint("last");
    }
    if (m_state != RunState::NonFiniteLoss) {
        if (!evaluatedLast && !m_data.noValidation && m_trainer->stepCount() > 0 && m_state != RunState::Cancelled) evaluate();
        if (p.lastSaved != m_trainer->stepCount() && m_trainer->stepCount() > 0) saveCheckpoint("last");
    }
    // Finish with the best weights when validation picked a step other than the last.
    if (p.bestStep == 0 && p.early.hasBest() && m_trainer->stepCount() > 0) m_sink->event("no evaluation improved on the untrained model");
    const auto best = m_sink->checkpoints() ? m_sink->checkpoints()->resolve("best") : std::nullopt;
    if (best && p.bestStep != m_trainer->stepCount()) {
        loadCheckpointWeights(*m_model.model.net, openCheckpoint(*best));
        m_sink->event("restored the best checkpoint (step " + std::to_string(p.bestStep) + ")");
    }
    if (m_state != RunState::Cancelled) finishSamples();
    RunResult result;
    result.summary = summarise();
    result.samples = m_samples;
    m_sink->summary(result.summary);
    m_sink->event("finished: " + std::string(choiceName(m_state)) + " after " + std::to_string(p.totals.steps) + " steps");
    return result;
}

} // namespace loralab
