// Folder locks; see run_lock.h.
#include "engine/records/run_lock.h"

#include "engine/util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace loralab {
namespace fs = std::filesystem;

namespace {

const char* const kLockFile = ".lock";

std::string thisHost()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "this host";
    return name;
}

// What the holder wrote: "pid 1234 on host" (empty while it is being written).
std::string holderOf(int fd)
{
    char buf[300] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text.empty() ? "another process" : text;
}

int openLockFile(const fs::path& dir)
{
    // O_NOFOLLOW: a link planted as .lock is refused rather than followed.
    const int fd = ::open((dir / kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw fileError((dir / kLockFile).string(), std::string("cannot open the folder's lock: ") + std::strerror(errno));
    return fd;
}

} // namespace

FolderLock FolderLock::acquire(const fs::path& dir, const std::string& what)
{
    const int fd = openLockFile(dir);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = holderOf(fd);
        ::close(fd);
        if (err == EWOULDBLOCK)
            throw fileError(dir.string(), holder + " " + what + " this folder now; wait for it to finish or stop it first");
        throw fileError(dir.string(), std::string("cannot lock the folder: ") + std::strerror(err));
    }
    const std::string text = "pid " + std::to_string(::getpid()) + " on " + thisHost() + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        // The lock holds without the note; the next process just cannot name us.
    }
    return FolderLock(fd);
}

FolderLock::FolderLock(FolderLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

FolderLock::~FolderLock()
{
    if (m_fd >= 0) ::close(m_fd); // closing releases the lock
}

std::optional<std::string> folderLockHolder(const fs::path& dir)
{
    const int fd = ::open((dir / kLockFile).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt; // never locked
    std::optional<std::string> holder;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) holder = holderOf(fd);
    ::close(fd); // also drops the shared lock taken to probe
    return holder;
}

} // namespace loralab
