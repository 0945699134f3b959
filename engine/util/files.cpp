// File helpers: see files.h.
#include "engine/util/files.h"

#include "engine/util/error.h"
#include "engine/util/units.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <algorithm>
#include <fstream>
#include <istream>
#include <random>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace loralab {
namespace {

std::string errnoText() { return std::strerror(errno); }

void writeAll(int fd, std::string_view data, const std::string& path)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw fileError(path, "cannot write: " + errnoText());
        }
        done += static_cast<std::size_t>(n);
    }
}

} // namespace

std::string nonRegularFileKind(const std::filesystem::path& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) throw fileError(path.string(), "file not found");
        if (errno == ELOOP) throw fileError(path.string(), "is a loop of symbolic links");
        throw fileError(path.string(), "cannot be read: " + errnoText());
    }
    if (S_ISREG(st.st_mode)) return "";
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(st.st_mode)) return "a character device";
    if (S_ISBLK(st.st_mode)) return "a block device";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    return "not a regular file";
}

std::string readTextFile(const std::filesystem::path& path, std::uint64_t maxBytes)
{
    // Checked before opening: opening a FIFO blocks until a writer comes.
    if (const std::string kind = nonRegularFileKind(path); !kind.empty())
        throw fileError(path.string(), "is " + kind + ", not a regular file");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw fileError(path.string(), "cannot be opened for reading: " + errnoText());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw fileError(path.string(), "is not a regular file");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > maxBytes) {
        ::close(fd);
        throw fileError(path.string(), "is " + bytesText(static_cast<std::int64_t>(size)) + ", more than the " +
                                           bytesText(static_cast<std::int64_t>(maxBytes)) + " this read allows");
    }
    // Read straight into a string of the file's size (a stream would hold the
    // text twice); a file that grew since is read on, within the bound.
    std::string text(static_cast<std::size_t>(size), '\0');
    std::size_t done = 0;
    const auto fail = [&](const std::string& why) {
        ::close(fd);
        return fileError(path.string(), why);
    };
    while (done < text.size()) {
        const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw fail("cannot be read: " + errnoText());
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    char more[1 << 16];
    while (true) {
        const ssize_t n = ::read(fd, more, sizeof more);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw fail("cannot be read: " + errnoText());
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > maxBytes)
            throw fail("grew past the " + bytesText(static_cast<std::int64_t>(maxBytes)) + " this read allows while it was read");
        text.append(more, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

std::string readStreamBounded(std::istream& in, const std::string& name, std::uint64_t maxBytes)
{
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > maxBytes)
            throw fileError(name, "holds more than the " + bytesText(static_cast<std::int64_t>(maxBytes)) + " a read allows");
    }
    return text;
}

void syncDirectory(const std::filesystem::path& dir)
{
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

AtomicFileWriter::AtomicFileWriter(const std::filesystem::path& path) : m_path(path)
{
    const auto dir = path.parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    std::random_device rd;
    m_tmp = path;
    m_tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (m_fd < 0) throw fileError(path.string(), "cannot create temporary file: " + errnoText());
}

AtomicFileWriter::~AtomicFileWriter()
{
    if (m_fd >= 0) {
        ::close(m_fd);
        ::unlink(m_tmp.c_str());
    }
}

void AtomicFileWriter::write(const void* data, std::size_t size)
{
    writeAll(m_fd, std::string_view(static_cast<const char*>(data), size), m_path.string());
}

void AtomicFileWriter::commit()
{
    if (::fsync(m_fd) != 0) throw fileError(m_path.string(), "cannot flush to disk: " + errnoText());
    ::close(m_fd);
    m_fd = -1;
    if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
        const std::string why = errnoText();
        ::unlink(m_tmp.c_str());
        throw fileError(m_path.string(), "cannot rename into place: " + why);
    }
    syncDirectory(m_path.parent_path());
}

void writeFileAtomic(const std::filesystem::path& path, std::string_view contents)
{
    AtomicFileWriter writer(path);
    writer.write(contents.data(), contents.size());
    writer.commit();
}

void appendLine(const std::filesystem::path& path, std::string_view line)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) throw fileError(path.string(), "cannot open for appending: " + errnoText());
    std::string buffer(line);
    buffer.push_back('\n');
    try {
        writeAll(fd, buffer, path.string());
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

MappedFile::MappedFile(const std::filesystem::path& path) : m_path(path.string())
{
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0)
        throw fileError(m_path, errno == ENOENT ? "file not found" : "cannot be opened: " + errnoText());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        throw fileError(m_path, "cannot stat: " + errnoText());
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw fileError(m_path, "is not a regular file");
    }
    m_size = static_cast<std::size_t>(st.st_size);
    if (m_size > 0) {
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            throw fileError(m_path, "cannot be memory-mapped: " + errnoText());
        }
        m_data = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd);
}

MappedFile::~MappedFile()
{
    if (m_data) ::munmap(const_cast<std::uint8_t*>(m_data), m_size);
}

void MappedFile::release(std::size_t offset, std::size_t length) const
{
    if (!m_data || length == 0) return;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t begin = (offset + page - 1) / page * page; // whole pages only
    const std::size_t end = std::min(m_size, offset + length) / page * page;
    if (end > begin) ::madvise(const_cast<std::uint8_t*>(m_data) + begin, end - begin, MADV_DONTNEED);
}

} // namespace loralab
