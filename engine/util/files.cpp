// File helpers: see files.h.
#include "engine/util/files.h"

#include "engine/util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
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

std::string readTextFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const bool exists = std::filesystem::exists(path);
        throw fileError(path.string(), exists ? "cannot be opened for reading" : "file not found");
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw fileError(path.string(), "is a directory, not a file");
    // Read straight into a string of the file's size: going through a
    // stringstream holds the text twice (and its growth up to three times).
    std::string text;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    // A file that grew since (or a pipe, whose size reads as 0) is read on to its end.
    std::ostringstream rest;
    if (in && in.peek() != std::char_traits<char>::eof()) {
        rest << in.rdbuf();
        text += rest.str();
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
