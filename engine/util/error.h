// Errors the engine reports to its callers. Every failure that comes from user
// input (a file, a config, a dataset line) is an Error whose message names the
// file and the problem, so the CLI and the window can show it as it is.
#pragma once

#include "engine/util/units.h"

#include <cctype>
#include <stdexcept>
#include <string>

namespace loralab {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "<path>: <problem>", the form every file-related error takes.
inline Error fileError(const std::string& path, const std::string& problem)
{
    return Error(path + ": " + problem);
}

// LibTorch's report of a failed allocation, as one line for people: "out of
// memory: 32.0 GiB was asked for (CPU)". Empty when `what` is not one. LibTorch
// says "DefaultCPUAllocator: can't allocate memory: you tried to allocate
// 34359738368 bytes" on the CPU and "CUDA out of memory. Tried to allocate
// 20.00 GiB" on a GPU.
inline std::string outOfMemoryMessage(const std::string& what)
{
    const bool cpu = what.find("can't allocate memory") != std::string::npos;
    const bool gpu = what.find("out of memory") != std::string::npos;
    if (!cpu && !gpu) return {};
    std::string asked;
    for (const char* marker : {"tried to allocate ", "Tried to allocate "}) {
        const auto at = what.find(marker);
        if (at == std::string::npos) continue;
        const auto start = at + std::string(marker).size();
        auto end = start;
        while (end < what.size() && (std::isalnum(static_cast<unsigned char>(what[end])) || what[end] == '.' || what[end] == ' ') &&
               what.compare(end, 2, ". ") != 0 && what[end] != '(')
            ++end;
        asked = what.substr(start, end - start);
        while (!asked.empty() && (asked.back() == ' ' || asked.back() == '.')) asked.pop_back();
        const std::string number = asked.size() > 6 && asked.compare(asked.size() - 6, 6, " bytes") == 0
                                       ? asked.substr(0, asked.size() - 6) : std::string();
        if (!number.empty() && number.size() < 19 && number.find_first_not_of("0123456789") == std::string::npos)
            asked = bytesText(std::stoll(number));
        break;
    }
    return "out of memory" + (asked.empty() ? std::string() : ": " + asked + " was asked for") + (gpu && !cpu ? " on the GPU" : "");
}

} // namespace loralab
