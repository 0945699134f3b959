// Starting the real loralab-cli from a test, as a user's shell would: its own
// process, output to a file, and polling for it to finish or for a condition;
// or running it to the end and reporting its exit status, output, time and the
// most memory it held (the kernel's peak resident set for the child).
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <functional>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace loralab::test {

// Starts build/app/loralab-cli with `args`, stdout and stderr going to
// `logFile` and standard input read from `inputFile`; returns its pid, or -1.
inline pid_t startCli(const std::vector<std::string>& args, const std::string& logFile = "/dev/null",
                      const std::string& inputFile = "/dev/null", const std::vector<std::string>& extraEnv = {})
{
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string v = *e;
        const std::string name = v.substr(0, v.find('=') + 1);
        const bool replaced = std::any_of(extraEnv.begin(), extraEnv.end(), [&](const std::string& x) { return x.rfind(name, 0) == 0; });
        if (!replaced) env.push_back(v);
    }
    env.insert(env.end(), extraEnv.begin(), extraEnv.end());
    std::vector<char*> envp;
    for (auto& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    const std::string exe = std::string(LORALAB_BINARY_DIR) + "/app/loralab-cli";
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, inputFile.c_str(), O_RDONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

// Polls every 10 ms until `ready` holds (true) or the process exits (false,
// its status in `status`); gives up, returning false with status -1, after
// `seconds`.
inline bool waitForOrExit(pid_t pid, const std::function<bool()>& ready, int& status, double seconds)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (ready()) return true;
        if (::waitpid(pid, &status, WNOHANG) == pid) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    status = -1;
    return false;
}

// Waits for the process to exit, killing it after `seconds`; its status, or -1 if it had to be killed.
inline int waitForExit(pid_t pid, double seconds)
{
    int status = 0;
    if (!waitForOrExit(pid, [] { return false; }, status, seconds) && status != -1) return status;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

struct CliOutcome {
    int exitCode = -1;          // -1 when it did not exit normally (killed by a signal)
    std::string output;         // standard output and standard error together
    double seconds = 0.0;
    std::int64_t peakRssBytes = 0;
};

// Runs it to the end; `inputFile` becomes its standard input, and `extraEnv`
// ("NAME=value") is added to (or replaces in) its environment.
inline CliOutcome runCli(const std::vector<std::string>& args, const std::string& inputFile = "/dev/null",
                         const std::vector<std::string>& extraEnv = {})
{
    const auto log = std::filesystem::temp_directory_path() / ("loralab-cli-" + std::to_string(::getpid()) + ".out");
    CliOutcome result;
    const auto start = std::chrono::steady_clock::now();
    if (const pid_t pid = startCli(args, log.string(), inputFile, extraEnv); pid > 0) {
        int status = 0;
        struct rusage usage {};
        ::wait4(pid, &status, 0, &usage);
        result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        result.peakRssBytes = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (FILE* f = std::fopen(log.c_str(), "rb")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) result.output.append(buffer, n);
        std::fclose(f);
    }
    std::filesystem::remove(log);
    return result;
}

} // namespace loralab::test
