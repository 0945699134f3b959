// Starting and watching the ranks of a local data-parallel group; see launch.h.
#include "launch.h"

#include "engine/dist/collective.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <netinet/in.h>
#include <optional>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace loralab::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A port no one listens on now, for the rendezvous (MASTER_PORT, when the
// environment does not name one).
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw Error(std::string("cannot open a socket for the rendezvous: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!ok) throw Error(std::string("cannot find a free port for the rendezvous: ") + std::strerror(errno));
    return ntohs(address.sin_port);
}

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

std::string describeStatus(int status)
{
    if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
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
    const std::string exe = "/proc/self/exe";
    const char* addr = std::getenv("MASTER_ADDR");
    const char* portText = std::getenv("MASTER_PORT");
    const std::string master = addr && *addr ? addr : "127.0.0.1";
    const std::string port = portText && *portText ? std::string(portText) : std::to_string(freePort());

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
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e) {
            const std::string v = *e;
            const auto name = v.substr(0, v.find('='));
            if (name != "RANK" && name != "WORLD_SIZE" && name != "LOCAL_RANK" && name != "MASTER_ADDR" && name != "MASTER_PORT")
                env.push_back(v);
        }
        env.push_back("RANK=" + std::to_string(rank));
        env.push_back("LOCAL_RANK=" + std::to_string(rank));
        env.push_back("WORLD_SIZE=" + std::to_string(processes));
        env.push_back("MASTER_ADDR=" + master);
        env.push_back("MASTER_PORT=" + port);
        std::vector<char*> envp, argv;
        for (auto& v : env) envp.push_back(v.data());
        envp.push_back(nullptr);
        std::vector<std::string> args = command;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        if (::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
            for (const pid_t p : pids) ::kill(p, SIGTERM);
            throw Error("could not start rank " + std::to_string(rank) + ": " + std::strerror(errno));
        }
        pids.push_back(pid);
    }
    std::cerr << "started " << processes << " processes on " << host << " (rendezvous " << master << ":" << port << ")\n";

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
                              << describeStatus(status) << "; the other ranks stop within " << timeoutSeconds << " s\n";
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
