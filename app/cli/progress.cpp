// Progress printing; see progress.h.
#include "progress.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace loralab::cli {
namespace {

std::atomic<RunControl*> g_control{nullptr};
std::atomic<int> g_signal{0};

extern "C" void onInterrupt(int sig)
{
    // Only async-signal-safe calls here: atomics, signal() for this signal, write(), _exit().
    g_signal.store(sig);
    RunControl* c = g_control.load();
    if (c) c->cancel.store(true);
    std::signal(sig, SIG_DFL);
    if (!c || !c->recording.load()) {
        // Loading a model or data (perhaps blocked reading a file): nothing
        // is written yet, so the process ends now, as the signal would.
        static const char kNow[] = "\ninterrupted before training began; nothing to save\n";
        const ssize_t written = ::write(STDERR_FILENO, kNow, sizeof kNow - 1);
        (void)written;
        ::_exit(128 + sig);
    }
    static const char kNote[] = "\nstopping after the current step (the run is saved); interrupt again to quit at once\n";
    const ssize_t written = ::write(STDERR_FILENO, kNote, sizeof kNote - 1);
    (void)written; // nothing to do if stderr is gone
}

std::string fixed(double v, int digits)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

} // namespace

std::string formatBytes(std::int64_t bytes)
{
    const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    return mib >= 1024.0 ? fixed(mib / 1024.0, 2) + " GiB" : fixed(mib, 0) + " MiB";
}

std::string formatDuration(double seconds)
{
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
    if (s >= 60) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
    return std::to_string(s) + "s";
}

RunCallbacks printingCallbacks(int stepEvery, const std::string& label)
{
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const auto tag = [label](Objective objective, Method method) {
        return "[" + (label.empty() ? runKindText(objective, method) : label) + "] ";
    };
    RunCallbacks c;
    c.onStep = [tty, stepEvery, tag](const StepRecord& r) {
        if (r.step % stepEvery != 0 && r.step != r.totalSteps) return;
        std::string line = tag(r.objective, r.method) + "step " + std::to_string(r.step) + "/" + std::to_string(r.totalSteps) + "  loss " +
                           fixed(r.loss, 4) + "  lr " + fixed(r.learningRate * 1e4, 3) + "e-4  " +
                           fixed(r.tokensPerSecond, 0) + " tok/s  fwd " + fixed(r.forwardMs, 0) + " ms  bwd " +
                           fixed(r.backwardMs, 0) + " ms  peak " + formatBytes(r.peakMemoryBytes) + "  ETA " +
                           formatDuration(r.etaSeconds);
        if (r.objective == Objective::Dpo) line += "  margin " + fixed(r.rewardMargin, 3) + "  acc " + fixed(r.preferenceAccuracy, 2);
        std::cerr << (tty ? "\r\033[K" : "") << line << (tty ? "" : "\n") << std::flush;
    };
    c.onEval = [tty, tag](const EvalRecord& e) {
        std::cerr << (tty ? "\r\033[K" : "") << tag(e.objective, e.method) << "eval at step " << e.step << ": val loss " << fixed(e.loss, 4)
                  << "  ppl " << fixed(e.perplexity, 2);
        if (e.preferenceAccuracy >= 0) std::cerr << "  accuracy " << fixed(e.preferenceAccuracy, 3) << "  margin " << fixed(e.rewardMargin, 3);
        if (!std::isfinite(e.loss))
            std::cerr << "  (not finite: not an improvement)";
        else if (e.improved)
            std::cerr << "  (best)";
        else if (std::isfinite(e.bestValue))
            std::cerr << "  (best " + fixed(e.bestValue, 4) + ")";
        if (e.evalsLeft >= 0) std::cerr << "  " << e.evalsLeft << " evals left before early stopping";
        std::cerr << "\n";
    };
    c.onEvent = [tty](const std::string& m) { std::cerr << (tty ? "\r\033[K" : "") << m << "\n"; };
    c.onRunDir = [](const std::string& dir) { std::cerr << "run directory: " << dir << "\n"; };
    return c;
}

InterruptGuard::InterruptGuard(RunControl& control)
{
    g_signal.store(0);
    g_control.store(&control);
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
}

InterruptGuard::~InterruptGuard()
{
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_control.store(nullptr);
}

int InterruptGuard::signal() const { return g_signal.load(); }

int InterruptGuard::interruptedStatus(const std::string& runDir, bool resumable) const
{
    const int sig = signal();
    if (sig == 0) return 0;
    std::cerr << "interrupted by " << (sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal")
              << ": the run stopped early and is saved in " << runDir;
    if (resumable) std::cerr << " (continue it with: loralab-cli run --resume " << runDir << ")";
    std::cerr << "\n";
    return 128 + sig;
}

void printSummary(const RunSummary& s)
{
    std::cout << "run " << s.runDir << "\n"
              << "  method            " << runKindText(s.objective, s.method) << "  (" << choiceName(s.state) << " after " << s.steps << " steps, "
              << formatDuration(s.seconds) << ")\n"
              << "  parameters        " << s.totalParams << " total, " << s.trainableParams << " trainable\n"
              << "  step time         fwd " << fixed(s.avgForwardMs, 1) << " ms, bwd " << fixed(s.avgBackwardMs, 1)
              << " ms, optimizer " << fixed(s.avgOptimizerMs, 1) << " ms, step " << fixed(s.avgStepMs, 1) << " ms ("
              << fixed(s.tokensPerSecond, 0) << " tokens/s, " << fixed(s.usefulTokensPerSecond, 0) << " of them in the loss)\n"
              << "  peak memory       " << formatBytes(s.peakMemoryBytes) << " held by tensors: weights "
              << formatBytes(s.measured.weightBytes) << ", gradients " << formatBytes(s.measured.gradientBytes) << ", optimizer "
              << formatBytes(s.measured.optimizerBytes) << ", activations " << formatBytes(s.measured.activationBytes) << "\n"
              << "  estimate          " << formatBytes(s.estimate.total()) << ": weights " << formatBytes(s.estimate.weightBytes)
              << ", gradients " << formatBytes(s.estimate.gradientBytes) << ", optimizer " << formatBytes(s.estimate.optimizerBytes)
              << ", activations " << formatBytes(s.estimate.activationBytes) << "\n"
              << "  process (RSS)     " << formatBytes(s.processPeakMemoryBytes) << " at most (libraries, caches and all)\n"
              << "  train loss        " << fixed(s.firstTrainLoss, 4) << " -> " << fixed(s.finalTrainLoss, 4) << "\n";
    if (s.bestValLoss)
        std::cout << "  validation loss   final " << fixed(s.finalValLoss.value_or(*s.bestValLoss), 4) << ", best "
                  << fixed(*s.bestValLoss, 4) << " (step " << s.bestStep << ")\n";
    if (s.bestValAccuracy) std::cout << "  preference acc.   best " << fixed(*s.bestValAccuracy, 3) << "\n";
}

void printSamples(const std::vector<SampleRecord>& samples)
{
    for (const auto& s : samples) {
        std::string prompt = s.prompt;
        if (prompt.size() > 300) prompt = "..." + prompt.substr(prompt.size() - 300);
        std::cout << "---- example " << s.index << "\nINPUT      " << prompt << "\nTARGET     " << s.target
                  << "\nBASE       " << s.baseOutput << "\nFINE-TUNED " << s.tunedOutput << "\n";
    }
}

void printMemoryFit(const MemoryFit& fit, const RunConfig& config)
{
    std::cout << "memory           " << runKindText(config.objective, config.method) << " at batch_size " << config.batchSize
              << " x " << fit.sequenceLength << " tokens, " << choiceName(config.dtype)
              << (config.baseQuantization != BaseQuantization::None ? std::string(", ") + choiceName(config.baseQuantization) + " base" : "")
              << (config.activationCheckpointing > 0 ? ", activation_checkpointing " + std::to_string(config.activationCheckpointing) : "")
              << "\n  " << fit.verdict() << "\n";
    if (fit.levers.empty() && fit.combined.empty()) return;
    std::cout << (fit.fits ? "  each lever alone:\n" : "  what would make it fit, each lever alone:\n");
    for (const auto& line : fit.leverLines()) std::cout << "    " << line << "\n";
}

nlohmann::json memoryFitJson(const MemoryFit& fit)
{
    const auto breakdown = [](const MemoryBreakdown& m) { return nlohmann::json::parse(toJson(m)); };
    nlohmann::json levers = nlohmann::json::array();
    for (const auto* list : {&fit.levers, &fit.combined})
        for (const auto& l : *list) levers.push_back({{"setting", l.setting}, {"estimate", breakdown(l.estimate)}, {"fits", l.fits}});
    return {{"estimate", breakdown(fit.estimate)}, {"sequence_length", fit.sequenceLength}, {"place", fit.place},
            {"available_bytes", fit.budgetBytes}, {"fits", fit.fits}, {"levers", levers}};
}

} // namespace loralab::cli
