// Runs the real loralab-cli binary from a test, as a user starts it, and
// reports how it ended: exit status, what it printed, how long it took and the
// most memory it held (the kernel's peak resident set for the child).
#pragma once

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace loralab::test {

struct CliOutcome {
    int exitCode = -1;          // -1 when it did not exit normally (killed by a signal)
    std::string output;         // standard output and standard error together
    double seconds = 0.0;
    std::int64_t peakRssBytes = 0;
};

// `stdinFile` (optional) becomes the child's standard input.
inline CliOutcome runCli(const std::vector<std::string>& args, const std::string& stdinFile = {})
{
    const std::string exe = std::string(LORALAB_BINARY_DIR) + "/app/loralab-cli";
    const auto out = std::filesystem::temp_directory_path() / ("loralab-cli-" + std::to_string(::getpid()) + ".out");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, stdinFile.empty() ? "/dev/null" : stdinFile.c_str(), O_RDONLY, 0);
    CliOutcome result;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ) == 0) {
        int status = 0;
        struct rusage usage {};
        ::wait4(pid, &status, 0, &usage);
        result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        result.peakRssBytes = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
    }
    posix_spawn_file_actions_destroy(&actions);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (FILE* f = std::fopen(out.c_str(), "rb")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) result.output.append(buffer, n);
        std::fclose(f);
    }
    std::filesystem::remove(out);
    return result;
}

} // namespace loralab::test
