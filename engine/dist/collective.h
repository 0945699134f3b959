// Data-parallel training across processes on PyTorch's own distributed engine
// (c10d): a rendezvous through a TCPStore at MASTER_ADDR:MASTER_PORT, then a
// Gloo process group (CPU tensors) or an NCCL one (one GPU per process). Ranks
// learn who they are from the variables torchrun sets (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), so the same binary runs under
// `loralab-cli run --nproc N`, torchrun, or any launcher that sets them.
// c10d's headers stay in collective.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <torch/types.h>
#include <vector>

namespace loralab {

struct DistributedSetup {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0; // which GPU of this machine, with one process per GPU
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    bool enabled() const { return worldSize > 1; }
};

// The setup torchrun's variables describe; a single process when WORLD_SIZE is
// unset. A malformed value is an Error naming the variable.
DistributedSetup distributedFromEnvironment();

// This machine's host name, for messages that say which rank stopped where.
std::string hostName();

// One process's membership in the group. Every collective is called by every
// rank in the same order; a rank that dies or hangs makes the others fail
// within `timeout` with an Error that names the group and what went wrong.
class Collective {
public:
    // Joins: rank 0 serves the store, and every rank waits until all
    // worldSize processes have arrived (at most `timeout`).
    Collective(const DistributedSetup& setup, torch::Device device, std::chrono::seconds timeout);
    ~Collective();
    Collective(const Collective&) = delete;
    Collective& operator=(const Collective&) = delete;

    int rank() const;
    int worldSize() const;

    // Sums each tensor across ranks, in place. Tensors are packed into buckets
    // of about 25 MB; every bucket is sent before the first is waited for.
    void sumInPlace(const std::vector<torch::Tensor>& tensors);
    double sum(double value);
    bool any(bool value);
    // Rank 0's tensors (or text) replace everyone else's.
    void broadcastInPlace(const std::vector<torch::Tensor>& tensors);
    std::string broadcastText(const std::string& text);
    // Every rank's `text`, in rank order, on every rank.
    std::vector<std::string> gatherText(const std::string& text);

    // Milliseconds spent in collectives since the last call.
    double takeCommMs();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The contiguous share of `items` that `rank` of `worldSize` takes: every item
// belongs to exactly one rank, in order, and shares differ by one at most.
template <typename T>
std::vector<T> shardOf(const std::vector<T>& items, int rank, int worldSize)
{
    const std::size_t n = items.size();
    const auto at = [&](int r) { return n * static_cast<std::size_t>(r) / static_cast<std::size_t>(worldSize); };
    return std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(at(rank)),
                          items.begin() + static_cast<std::ptrdiff_t>(at(rank + 1)));
}

} // namespace loralab
