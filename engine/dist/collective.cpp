// c10d process groups for data-parallel training; see collective.h.
#include "engine/dist/collective.h"

#include "engine/util/error.h"
#include "engine/util/torch_compat.h"

// The Gloo backend is declared only where this is defined (LibTorch's own
// build flags carry it; PyPI's CMake config does not).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#if defined(LORALAB_WITH_CUDA) && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL
#endif

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(LORALAB_WITH_CUDA)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace loralab {
namespace {

using Clock = std::chrono::steady_clock;

int intVariable(const char* name, int fallback, int lowest)
{
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value < lowest || value > 1 << 20)
        throw Error(std::string("environment variable ") + name + "='" + text + "' is not a whole number >= " +
                    std::to_string(lowest));
    return static_cast<int>(value);
}

bool isLoopback(const std::string& address)
{
    return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

constexpr std::size_t kBucketBytes = 25u << 20;

#if LORALAB_TORCH_AT_LEAST(2, 0)
using ProcessGroupBase = c10d::Backend;
#else
using ProcessGroupBase = c10d::ProcessGroup;
#endif

} // namespace

DistributedSetup distributedFromEnvironment()
{
    DistributedSetup s;
    s.worldSize = intVariable("WORLD_SIZE", 1, 1);
    s.rank = intVariable("RANK", 0, 0);
    s.localRank = intVariable("LOCAL_RANK", s.rank, 0);
    if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) s.masterAddr = addr;
    s.masterPort = intVariable("MASTER_PORT", s.masterPort, 1);
    if (s.masterPort > 65535) throw Error("environment variable MASTER_PORT=" + std::to_string(s.masterPort) + " is not a port");
    if (s.rank >= s.worldSize)
        throw Error("environment variable RANK=" + std::to_string(s.rank) + " is not below WORLD_SIZE=" + std::to_string(s.worldSize));
    return s;
}

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "this host";
    return name;
}

struct Collective::Impl {
    DistributedSetup setup;
    std::chrono::seconds timeout;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<ProcessGroupBase> group;
    bool onGpu = false;
    std::int64_t sequence = 0; // names store keys of text collectives
    double commMs = 0.0;

    // Runs one collective, timing it and turning a failure into a message
    // that says which process failed and what to do about the run.
    template <typename F>
    auto guarded(const char* what, F&& f) -> decltype(f())
    {
        const auto start = Clock::now();
        try {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                commMs += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            } else {
                auto result = f();
                commMs += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
                return result;
            }
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            std::string detail = e.what();
            if (const auto eol = detail.find('\n'); eol != std::string::npos) detail.resize(eol);
            throw Error("rank " + std::to_string(setup.rank) + " of " + std::to_string(setup.worldSize) + " on " + hostName() +
                        ": " + what + " failed: another process of the group stopped, or did not answer within " +
                        std::to_string(timeout.count()) + " s (" + detail +
                        "); the run directory keeps its last checkpoint: resume it with --resume");
        }
    }
};

Collective::Collective(const DistributedSetup& setup, torch::Device device, std::chrono::seconds timeout)
    : m_impl(std::make_unique<Impl>())
{
    Impl& s = *m_impl;
    s.setup = setup;
    s.timeout = timeout;
    const std::string where = setup.masterAddr + ":" + std::to_string(setup.masterPort);
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<std::uint16_t>(setup.masterPort);
        options.isServer = setup.rank == 0;
        options.numWorkers = static_cast<std::size_t>(setup.worldSize);
        options.waitWorkers = false; // counted below, to say how many came
        options.timeout = timeout;
        s.store = c10::make_intrusive<c10d::TCPStore>(setup.masterAddr, options);
    } catch (const std::exception& e) {
        throw Error("rank " + std::to_string(setup.rank) + " on " + hostName() + " could not " +
                    (setup.rank == 0 ? "serve" : "reach") + " the rendezvous at " + where + " within " +
                    std::to_string(timeout.count()) + " s (MASTER_ADDR, MASTER_PORT): " + e.what());
    }
    // Every process counts itself in; all wait for WORLD_SIZE of them.
    const std::string key = "loralab/joined";
    s.store->add(key, 1);
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const std::int64_t joined = s.store->add(key, 0);
        if (joined == setup.worldSize) break;
        if (joined > setup.worldSize)
            throw Error(std::to_string(joined) + " processes joined the rendezvous at " + where + ", more than WORLD_SIZE=" +
                        std::to_string(setup.worldSize) + " (two with the same RANK?)");
        if (Clock::now() > deadline)
            throw Error("only " + std::to_string(joined) + " of WORLD_SIZE=" + std::to_string(setup.worldSize) +
                        " processes joined the rendezvous at " + where + " within " + std::to_string(timeout.count()) +
                        " s; start every rank with the same WORLD_SIZE and MASTER_ADDR");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    s.guarded("joining the process group", [&] {
#if defined(LORALAB_WITH_CUDA)
        if (device.is_cuda()) {
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            s.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s.store, setup.rank, setup.worldSize, options);
            s.onGpu = true;
            return;
        }
#endif
        (void)device;
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface)
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
        else if (isLoopback(setup.masterAddr))
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(setup.masterAddr));
        else
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, setup.rank, setup.worldSize, options);
    });
}

Collective::~Collective() = default;

int Collective::rank() const { return m_impl->setup.rank; }
int Collective::worldSize() const { return m_impl->setup.worldSize; }

void Collective::sumInPlace(const std::vector<torch::Tensor>& tensors)
{
    if (tensors.empty()) return;
    Impl& s = *m_impl;
    s.guarded("summing gradients", [&] {
        torch::NoGradGuard noGrad;
        // Consecutive tensors of one dtype and device share a flat bucket.
        std::vector<std::pair<std::size_t, std::size_t>> ranges; // [first, last) into tensors
        std::size_t first = 0, bytes = 0;
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            const bool compatible = i == first || (tensors[i].scalar_type() == tensors[first].scalar_type() &&
                                                   tensors[i].device() == tensors[first].device());
            if (!compatible || (bytes > 0 && bytes + tensors[i].nbytes() > kBucketBytes)) {
                ranges.emplace_back(first, i);
                first = i;
                bytes = 0;
            }
            bytes += tensors[i].nbytes();
        }
        ranges.emplace_back(first, tensors.size());
        std::vector<std::vector<torch::Tensor>> flats;
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (const auto& [from, to] : ranges) {
            std::vector<torch::Tensor> parts;
            for (std::size_t i = from; i < to; ++i) parts.push_back(tensors[i].reshape({-1}));
            flats.push_back({torch::cat(parts)});
            works.push_back(s.group->allreduce(flats.back()));
        }
        for (std::size_t b = 0; b < ranges.size(); ++b) {
            works[b]->wait();
            std::int64_t offset = 0;
            for (std::size_t i = ranges[b].first; i < ranges[b].second; ++i) {
                const auto n = tensors[i].numel();
                tensors[i].copy_(flats[b][0].narrow(0, offset, n).view_as(tensors[i]));
                offset += n;
            }
        }
    });
}

double Collective::sum(double value)
{
    Impl& s = *m_impl;
    return s.guarded("summing a value", [&] {
        std::vector<torch::Tensor> t{torch::tensor({value}, torch::kFloat64)};
        if (s.onGpu) t[0] = t[0].to(torch::Device(torch::kCUDA, s.setup.localRank));
        s.group->allreduce(t)->wait();
        return t[0].item<double>();
    });
}

bool Collective::any(bool value) { return sum(value ? 1.0 : 0.0) > 0.5; }

void Collective::broadcastInPlace(const std::vector<torch::Tensor>& tensors)
{
    Impl& s = *m_impl;
    s.guarded("sharing rank 0's state", [&] {
        torch::NoGradGuard noGrad;
        for (const auto& t : tensors) {
            std::vector<torch::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
            s.group->broadcast(one)->wait();
            if (!one[0].is_same(t)) t.copy_(one[0]);
        }
    });
}

std::string Collective::broadcastText(const std::string& text)
{
    Impl& s = *m_impl;
    return s.guarded("sharing rank 0's settings", [&] {
        const std::string key = "loralab/text/" + std::to_string(s.sequence++);
        if (s.setup.rank == 0) s.store->set(key, std::vector<std::uint8_t>(text.begin(), text.end()));
        const auto bytes = s.store->get(key);
        return std::string(bytes.begin(), bytes.end());
    });
}

std::vector<std::string> Collective::gatherText(const std::string& text)
{
    Impl& s = *m_impl;
    const std::string prefix = "loralab/gather/" + std::to_string(s.sequence++) + "/";
    return s.guarded("comparing settings", [&] {
        s.store->set(prefix + std::to_string(s.setup.rank), std::vector<std::uint8_t>(text.begin(), text.end()));
        std::vector<std::string> all;
        for (int r = 0; r < s.setup.worldSize; ++r) {
            const auto bytes = s.store->get(prefix + std::to_string(r));
            all.emplace_back(bytes.begin(), bytes.end());
        }
        return all;
    });
}

double Collective::takeCommMs()
{
    const double ms = m_impl->commMs;
    m_impl->commMs = 0.0;
    return ms;
}

} // namespace loralab
