// TensorBoard event files (which Weights & Biases and other trackers import):
// a file events.out.tfevents.<seconds>.<host>.<pid>.<n> of TFRecord records,
// each an Event message (wall time, step, and a Summary of tagged scalars or
// texts). Written by hand, without TensorFlow or protobuf libraries.
//
// Every record goes to the file in one write as it is added, whole, so a
// reader of a file still being written (TensorBoard polls it) reads every
// complete record, and a killed process leaves a readable file whose last
// record may at worst be cut (readers stop there). flush() makes what was
// written durable on disk (fsync). No LibTorch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

// Seconds since the Unix epoch, with microseconds: an Event's wall_time.
double wallClockSeconds();

struct TensorBoardScalar {
    std::string tag; // "train/loss"; '/' groups charts in TensorBoard
    double value = 0.0; // stored as float32 (simple_value), as TensorBoard keeps scalars
};

class TensorBoardWriter {
public:
    // Creates `dir` when needed and a new event file in it, named from
    // `startTime` (seconds), the host name and the process id, and writes the
    // file_version record first. An unwritable folder is an Error naming it.
    explicit TensorBoardWriter(const std::filesystem::path& dir, double startTime = wallClockSeconds());
    ~TensorBoardWriter();
    TensorBoardWriter(const TensorBoardWriter&) = delete;
    TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

    const std::filesystem::path& path() const { return m_path; }

    void addScalar(const std::string& tag, std::int64_t step, double value, double wallTime = wallClockSeconds());
    // Several scalars of one step as one record: a reader sees all or none.
    void addScalars(std::int64_t step, const std::vector<TensorBoardScalar>& values, double wallTime = wallClockSeconds());
    // Markdown text, as TensorBoard's text plugin shows it: a string tensor
    // with plugin_name "text".
    void addText(const std::string& tag, std::int64_t step, const std::string& text, double wallTime = wallClockSeconds());
    void flush();

    std::int64_t recordsWritten() const { return m_records; }

private:
    void appendRecord(const std::string& eventBytes);

    std::filesystem::path m_path;
    int m_fd = -1;
    std::int64_t m_records = 0;
};

// One TFRecord: uint64 length, masked CRC-32C of the length, the data, masked
// CRC-32C of the data (all little-endian).
std::string tfRecord(const std::string& data);

} // namespace loralab
