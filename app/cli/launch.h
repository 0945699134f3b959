// `loralab-cli run --nproc N`: starts N copies of this command as the ranks of
// one data-parallel group on this machine (torchrun's variables set for each:
// MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), waits for them, and
// when one fails, names it and ends the others within the group's timeout.
#pragma once


namespace loralab::cli {

// Runs this process's own command line again as `processes` ranks; returns
// the exit status for the whole: 0 when every rank finished, the first
// failure's status otherwise (130 after Ctrl-C).
int launchWorkers(int processes, int timeoutSeconds);

// True in a process that a launcher started as one rank of a group.
bool isLaunchedWorker();

} // namespace loralab::cli
