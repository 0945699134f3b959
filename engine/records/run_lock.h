// One process at a time trains in a run folder (or runs an experiment folder):
// an advisory lock (flock) on <folder>/.lock, held while it works. The
// kernel drops the lock when the process ends, however it ends, so a lock
// left by a killed process never blocks a resume. The file says who holds it
// (pid and host), for the message the next process gives. No LibTorch here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace loralab {

class FolderLock {
public:
    // Takes the lock of `dir`, or throws loralab::Error naming the folder and
    // the process that holds it. `what` says what the holder does ("trains in").
    static FolderLock acquire(const std::filesystem::path& dir, const std::string& what = "trains in");
    FolderLock(FolderLock&& other) noexcept;
    FolderLock& operator=(FolderLock&& other) noexcept;
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;
    ~FolderLock();

private:
    explicit FolderLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

// "pid 1234 on host-name" when another open lock of `dir` is held (by any
// process, this one included), nothing when the folder is free.
std::optional<std::string> folderLockHolder(const std::filesystem::path& dir);

} // namespace loralab
