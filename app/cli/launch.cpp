// Starting and watching the ranks of a local data-parallel group; see launch.h.
#include "launch.h"

#include "engine/dist/collective.h"
#include "engine/dist/local_ranks.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace loralab::cli {
namespace {

using Clock = std::chrono::steady_clock;

// This process's own command line, as it was started.
std::vector<std::string> ownCommandLine()
{
    const std::string raw = readTextFile("/proc/self/cmdline");
    std::vector<std::string> out;
    for (std::size_t start = 0; start < raw.size();) {
        const std::size_t end = raw.find('\0', start);
        out.push_back(raw.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

volatile std::sig_atomic_t g_interrupted = 0;
volatile std::sig_atomic_t g_terminated = 0;
// Ctrl-C reaches the ranks from the terminal by itself; SIGTERM (a window or a
// scheduler stopping the launcher) is passed on to them as an interrupt.
void noteInterrupt(int signal)
{
    g_interrupted = 1;
    if (signal == SIGTERM) g_terminated = 1;
}

} // namespace

bool isLaunchedWorker() { return distributedFromEnvironment().enabled(); }

int launchWorkers(int processes, int timeoutSeconds)
{
    const std::vector<std::string> command = ownCommandLine();
    const char* addr = std::getenv("MASTER_ADDR");
    const char* port = std::getenv("MASTER_PORT");
    DistributedSetup setup;
    setup.worldSize = processes;
    if (addr && *addr) setup.masterAddr = addr;
    setup.masterPort = port && *port ? distributedFromEnvironment().masterPort : freeLoopbackPort();

    // Ctrl-C reaches every rank (they share the terminal's process group): each
    // stops after its step and saves; the launcher waits for them. SIGTERM is
    // passed on to them as an interrupt.
    struct sigaction quiet {};
    quiet.sa_handler = noteInterrupt;
    sigemptyset(&quiet.sa_mask);
    struct sigaction oldInt {}, oldTerm {};
    ::sigaction(SIGINT, &quiet, &oldInt);
    ::sigaction(SIGTERM, &quiet, &oldTerm);

    std::vector<pid_t> pids;
    const std::string host = hostName();
    for (int rank = 0; rank < processes; ++rank) {
        try {
            pids.push_back(spawnProcess("/proc/self/exe", command, rankEnvironment(setup, rank)));
        } catch (const Error&) {
            for (const pid_t p : pids) ::kill(p, SIGTERM);
            throw;
        }
    }
    std::cerr << "started " << processes << " processes on " << host << " (rendezvous " << setup.masterAddr << ":" << setup.masterPort << ")\n";

    // Wait for all; once one fails, the others get the group's timeout (plus
    // a margin) to notice and stop on their own, then they are ended.
    int result = 0;
    std::vector<bool> running(pids.size(), true);
    std::size_t left = pids.size();
    std::optional<Clock::time_point> deadline;
    bool forwarded = false;
    while (left > 0) {
        if (g_terminated && !forwarded) {
            for (std::size_t r = 0; r < pids.size(); ++r)
                if (running[r]) ::kill(pids[r], SIGINT);
            forwarded = true;
        }
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, deadline ? WNOHANG : 0);
        if (pid > 0) {
            const auto it = std::find(pids.begin(), pids.end(), pid);
            if (it == pids.end()) continue;
            const auto rank = static_cast<std::size_t>(it - pids.begin());
            running[rank] = false;
            --left;
            const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            if (failed && result == 0) {
                result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (result != 130 || !g_interrupted)
                    std::cerr << "rank " << rank << " of " << processes << " (pid " << pid << ") on " << host << " "
                              << describeExitStatus(status) << "; the other ranks stop within " << timeoutSeconds << " s\n";
                deadline = Clock::now() + std::chrono::seconds(timeoutSeconds + 10);
            }
            continue;
        }
        if (pid < 0 && errno == EINTR) continue;
        if (deadline && Clock::now() > *deadline) {
            for (std::size_t r = 0; r < pids.size(); ++r)
                if (running[r]) {
                    std::cerr << "rank " << r << " did not stop by itself; ending it\n";
                    ::kill(pids[r], SIGKILL);
                }
            deadline.reset();
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::sigaction(SIGINT, &oldInt, nullptr);
    ::sigaction(SIGTERM, &oldTerm, nullptr);
    return result;
}

} // namespace loralab::cli
