// File helpers shared by the engine: whole-file reads with clear errors, a
// read-only memory map, and atomic writes (temporary file, fsync, rename) so a
// crash never leaves a half-written file behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

namespace loralab {

// What one read may bring into memory at most (1 GiB): configuration,
// tokenizer and prompt files are far smaller; datasets set their own bound.
constexpr std::uint64_t kMaxReadBytes = 1ull << 30;

// Reads a whole regular file. A FIFO, a device, a socket or a directory is
// refused by name without blocking on it; a file larger than `maxBytes` is
// refused with its size before anything is read.
std::string readTextFile(const std::filesystem::path& path, std::uint64_t maxBytes = kMaxReadBytes);
// What `path` is when it is not a regular file ("a FIFO (named pipe)", "a
// character device", "a directory", ...), or "" for a regular file (links
// followed). Throws loralab::Error when it does not exist.
std::string nonRegularFileKind(const std::filesystem::path& path);
// Reads a stream (standard input) to its end, refusing more than `maxBytes`.
std::string readStreamBounded(std::istream& in, const std::string& name, std::uint64_t maxBytes);

// Writes `contents` to `path` through a temporary file in the same directory,
// flushed to disk and renamed over the target.
void writeFileAtomic(const std::filesystem::path& path, std::string_view contents);

// Streams a file into place atomically: bytes go to a temporary file beside
// the target; commit() flushes and renames it. Destroyed without commit(),
// the temporary file is removed and the target is untouched.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(const std::filesystem::path& path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, std::size_t size);
    void commit();

private:
    std::filesystem::path m_path;
    std::filesystem::path m_tmp;
    int m_fd = -1;
};

// Appends one line (a '\n' is added) and flushes it to the kernel; used for
// JSONL logs, where a killed process leaves at most a partial last line.
void appendLine(const std::filesystem::path& path, std::string_view line);

// fsync on a directory, so that a rename inside it survives a power cut.
void syncDirectory(const std::filesystem::path& dir);

class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

    // Tells the kernel the given byte range will not be read again soon, so a
    // large checkpoint converted tensor by tensor does not stay resident twice.
    void release(std::size_t offset, std::size_t length) const;

private:
    std::string m_path;
    const std::uint8_t* m_data = nullptr;
    std::size_t m_size = 0;
};

} // namespace loralab
