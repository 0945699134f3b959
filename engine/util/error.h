// Errors the engine reports to its callers. Every failure that comes from user
// input (a file, a config, a dataset line) is an Error whose message names the
// file and the problem, so the CLI and the window can show it as it is.
#pragma once

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

} // namespace loralab
