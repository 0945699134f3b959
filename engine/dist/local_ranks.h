// The other ranks of a data-parallel group on this machine, started by a
// process that trains as rank 0 itself: the window (and `loralab-cli sweep`)
// run a configuration with processes > 1 this way, so that rank 0's run
// reports to them live. Each other rank is `loralab-cli run` with torchrun's
// variables (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK).
#pragma once

#include "engine/dist/collective.h"

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace loralab {

// A TCP port on the loopback address that nothing listens on now.
int freeLoopbackPort();

// This process's environment without torchrun's variables, and then those
// that make a process `rank` of `setup`'s group.
std::vector<std::string> rankEnvironment(const DistributedSetup& setup, int rank);

// Starts `program` with `argv` (argv[0] is the name it is called by) and
// `environment`; its output goes to `logFile` when one is named. Throws Error
// naming the program.
pid_t spawnProcess(const std::string& program, const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                   const std::string& logFile = "");

// "exited with status 1" or "was killed by signal 9 (Killed)".
std::string describeExitStatus(int status);

class LocalRanks {
public:
    // A group of `processes` on the loopback address, with this process as
    // rank 0 of setup(); nothing is started yet.
    explicit LocalRanks(int processes);
    // Waits for the ranks a little (they end with rank 0), then kills any
    // left, and removes their logs.
    ~LocalRanks();
    LocalRanks(const LocalRanks&) = delete;
    LocalRanks& operator=(const LocalRanks&) = delete;

    const DistributedSetup& setup() const { return m_setup; }
    // A folder that lives as long as this object, for files the ranks read.
    const std::string& folder() const { return m_folder; }
    // Starts ranks 1 .. processes - 1, each running `argv` (argv[0] is the
    // program); their output goes to logs in folder().
    void start(const std::vector<std::string>& argv);
    // Waits up to `timeout` for every rank to exit.
    void wait(std::chrono::milliseconds timeout);
    // One line per rank that ended badly so far: how, and the last line it
    // printed. Empty when none did.
    std::string failures();

private:
    void reap(bool block);

    DistributedSetup m_setup;
    std::string m_folder;
    std::vector<pid_t> m_pids;
    std::vector<int> m_status; // -1 while running
};

} // namespace loralab
