// trainRun: the process around one run (threads, seed, device, the ranks of
// a data-parallel group, the run folder's lock, the run's own memory count)
// and the errors it reports; see runner.h. The loop itself is run.cpp.
#include "engine/run/runner.h"

#include "engine/dist/collective.h"
#include "engine/dist/local_ranks.h"
#include "engine/records/run_lock.h"
#include "engine/run/resume.h"
#include "engine/run/run.h"
#include "engine/train/memory.h"
#include "engine/util/error.h"
#include "engine/util/files.h"
#include "engine/util/torch_compat.h"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace loralab {
namespace {

std::string joinedKeys(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// With processes > 1 in a process that no launcher started, that process
// starts the other ranks itself and trains as rank 0; null otherwise. They run
// the loralab-cli beside this program, or the one LORALAB_CLI names.
std::unique_ptr<LocalRanks> startLocalRanks(const RunConfig& config, const std::string& resumeDir, int threadsEach)
{
    if (config.processes <= 1 || distributedFromEnvironment().enabled()) return nullptr;
    const char* named = std::getenv("LORALAB_CLI");
    const std::string cli = named && *named ? std::string(named)
                                            : (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "loralab-cli").string();
    if (!std::filesystem::exists(cli))
        throw Error("processes " + std::to_string(config.processes) + ": the other processes run " + cli +
                    ", which is not there; start the run with loralab-cli run --nproc N or torchrun instead");
    auto ranks = std::make_unique<LocalRanks>(config.processes);
    std::vector<std::string> argv = {cli, "run"};
    if (resumeDir.empty()) {
        const std::string file = ranks->folder() + "/config.json";
        writeFileAtomic(file, runConfigToJson(config));
        argv.push_back(file);
    } else {
        argv.insert(argv.end(), {"--resume", resumeDir, "--max-steps", std::to_string(config.maxSteps), "--device", config.device});
    }
    argv.insert(argv.end(), {"--nproc", std::to_string(config.processes), "--threads", std::to_string(threadsEach)});
    ranks->start(argv);
    return ranks;
}

// A process that is one rank of a data-parallel group (started by a launcher,
// WORLD_SIZE > 1 in its environment, or rank 0 of `local`) joins it, takes the
// GPU of its LOCAL_RANK, and checks that every rank runs the same
// configuration; null for a single process.
std::unique_ptr<Collective> joinGroupIfLaunched(const RunConfig& config, torch::Device& device, const LocalRanks* local)
{
    const DistributedSetup setup = local ? local->setup() : distributedFromEnvironment();
    if (!setup.enabled()) return nullptr;
    if (config.batchSize * config.gradAccum < setup.worldSize)
        throw Error("WORLD_SIZE=" + std::to_string(setup.worldSize) + " processes need at least as many examples per step; " +
                    "batch_size x grad_accum is " + std::to_string(config.batchSize * config.gradAccum));
    if (device.is_cuda()) {
        if (setup.localRank >= compat::cudaDeviceCount())
            throw Error("LOCAL_RANK=" + std::to_string(setup.localRank) + " names a GPU this machine does not have (" +
                        std::to_string(compat::cudaDeviceCount()) + " visible)");
        device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(setup.localRank));
    }
    auto group = std::make_unique<Collective>(setup, device, std::chrono::seconds(config.distTimeout));
    // The configuration must be the same everywhere; how many threads each uses may differ.
    RunConfig comparable = config;
    comparable.threads = 0;
    const auto configs = group->gatherText(runConfigToJson(comparable));
    for (std::size_t r = 1; r < configs.size(); ++r)
        if (configs[r] != configs[0])
            throw Error("rank " + std::to_string(r) + " runs another configuration than rank 0 (" +
                        joinedKeys(differingRunOptions(parseRunConfig(configs[0], "rank 0"), parseRunConfig(configs[r], "rank " + std::to_string(r)))) +
                        " differ); start every rank with the same one");
    return group;
}

} // namespace

RunResult trainRun(const RunConfig& config, RunControl& control, const RunCallbacks& callbacks, const std::string& resumeDir)
{
    // A run folder is one process's at a time: the one that writes it takes
    // its lock before anything else, so a second resume is refused at once.
    std::optional<FolderLock> lock;
    if (!resumeDir.empty() && distributedFromEnvironment().rank == 0) {
        if (!std::filesystem::is_directory(resumeDir)) throw fileError(resumeDir, "run directory not found");
        lock.emplace(FolderLock::acquire(resumeDir));
    }
    const RunConfig effective = resumeDir.empty() ? config : resumedConfig(config, resumeDir);
    checkRunConfig(effective);
    // Processes of one group on this machine share its cores.
    const int threads = effective.threads > 0 || effective.processes <= 1
                            ? effective.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / effective.processes);
    setThreadCount(threads);
    torch::manual_seed(effective.seed);
    control.earlyStopping.store(effective.earlyStopping);
    torch::Device device = resolveDevice(effective.device);
    const std::unique_ptr<LocalRanks> ranks = startLocalRanks(effective, resumeDir, threads);
    try {
        const std::unique_ptr<Collective> group = joinGroupIfLaunched(effective, device, ranks.get());
        // The run's own CPU tensors, apart from anything else the process does.
        const TensorMemoryScope tensors;
        Run run(effective, control, callbacks, resumeDir, device, group.get(), std::move(lock));
        return run.execute();
    } catch (const Error& e) {
        // What the other processes said is often the cause; a rank that is
        // failing gets a moment to exit first.
        if (ranks) ranks->wait(std::chrono::seconds(2));
        if (const std::string why = ranks ? ranks->failures() : std::string(); !why.empty()) throw Error(std::string(e.what()) + "\n" + why);
        throw;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        if (const std::string oom = outOfMemoryMessage(what); !oom.empty())
            throw Error(oom + " during the run; lower batch_size or max_len. Checkpoints written so far are kept");
        throw Error("the run stopped on an internal error: " + what.substr(0, 400));
    } catch (const std::bad_alloc&) {
        throw Error("out of memory during the run; lower batch_size or max_len. Checkpoints written so far are kept");
    }
}

} // namespace loralab
