// Starting the real loralab-cli from a test, as a user's shell would: its own
// process, output to a file, and polling for it to finish or for a condition.
#pragma once

#include <chrono>
#include <fcntl.h>
#include <functional>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace loralab::test {

// Starts build/app/loralab-cli with `args`, stdout and stderr going to
// `logFile`; returns its pid, or -1.
inline pid_t startCli(const std::vector<std::string>& args, const std::string& logFile = "/dev/null")
{
    const std::string exe = std::string(LORALAB_BINARY_DIR) + "/app/loralab-cli";
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
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

} // namespace loralab::test
