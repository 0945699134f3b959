// Starting the ranks of a group on this machine; see local_ranks.h.
#include "engine/dist/local_ranks.h"

#include "engine/util/error.h"
#include "engine/util/files.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace loralab {
namespace {

bool isGroupVariable(const std::string& name)
{
    return name == "RANK" || name == "WORLD_SIZE" || name == "LOCAL_RANK" || name == "MASTER_ADDR" || name == "MASTER_PORT";
}

// The last non-empty line of a rank's log.
std::string lastLine(const std::string& path)
{
    std::string text;
    try {
        text = readTextFile(path);
    } catch (const Error&) {
        return {};
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const std::size_t start = text.rfind('\n');
    return start == std::string::npos ? text : text.substr(start + 1);
}

} // namespace

int freeLoopbackPort()
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

std::vector<std::string> rankEnvironment(const DistributedSetup& setup, int rank)
{
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string v = *e;
        if (!isGroupVariable(v.substr(0, v.find('=')))) env.push_back(v);
    }
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    env.push_back("WORLD_SIZE=" + std::to_string(setup.worldSize));
    env.push_back("MASTER_ADDR=" + setup.masterAddr);
    env.push_back("MASTER_PORT=" + std::to_string(setup.masterPort));
    return env;
}

pid_t spawnProcess(const std::string& program, const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                   const std::string& logFile)
{
    std::vector<std::string> args = argv, env = environment;
    std::vector<char*> argp, envp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);
    for (auto& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    if (!logFile.empty()) {
        ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    }
    pid_t pid = 0;
    const int error = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argp.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw Error("could not start " + program + ": " + std::strerror(error));
    return pid;
}

std::string describeExitStatus(int status)
{
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

LocalRanks::LocalRanks(int processes)
{
    m_setup.worldSize = processes;
    m_setup.masterAddr = "127.0.0.1";
    m_setup.masterPort = freeLoopbackPort();
    std::string pattern = (std::filesystem::temp_directory_path() / "loralab-ranks-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw Error("cannot create a folder for the other processes' files in " +
                                                std::filesystem::temp_directory_path().string() + ": " + std::strerror(errno));
    m_folder = pattern;
}

LocalRanks::~LocalRanks()
{
    wait(std::chrono::seconds(10));
    for (std::size_t i = 0; i < m_pids.size(); ++i)
        if (m_status[i] < 0) ::kill(m_pids[i], SIGKILL);
    reap(true);
    std::error_code ignored;
    std::filesystem::remove_all(m_folder, ignored);
}

void LocalRanks::start(const std::vector<std::string>& argv)
{
    for (int rank = 1; rank < m_setup.worldSize; ++rank) {
        const std::string log = m_folder + "/rank-" + std::to_string(rank) + ".log";
        m_pids.push_back(spawnProcess(argv.at(0), argv, rankEnvironment(m_setup, rank), log));
        m_status.push_back(-1);
    }
}

void LocalRanks::reap(bool block)
{
    for (std::size_t i = 0; i < m_pids.size(); ++i) {
        if (m_status[i] >= 0) continue;
        int status = 0;
        pid_t got;
        do got = ::waitpid(m_pids[i], &status, block ? 0 : WNOHANG);
        while (got < 0 && errno == EINTR);
        if (got == m_pids[i]) m_status[i] = status;
    }
}

void LocalRanks::wait(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        reap(false);
        bool running = false;
        for (const int s : m_status) running = running || s < 0;
        if (!running || std::chrono::steady_clock::now() >= deadline) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string LocalRanks::failures()
{
    reap(false);
    std::string text;
    for (std::size_t i = 0; i < m_pids.size(); ++i) {
        const int status = m_status[i];
        if (status < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) continue;
        const int rank = static_cast<int>(i) + 1;
        const std::string said = lastLine(m_folder + "/rank-" + std::to_string(rank) + ".log");
        text += (text.empty() ? "" : "\n") + std::string("rank ") + std::to_string(rank) + " (pid " + std::to_string(m_pids[i]) + ") " +
                describeExitStatus(status) + (said.empty() ? "" : ": " + said);
    }
    return text;
}

} // namespace loralab
