// TensorBoard event files; see tensorboard_writer.h. Field numbers follow
// TensorFlow's event.proto, summary.proto, tensor.proto and
// tensor_shape.proto (all public), and TensorBoard's text plugin metadata.
#include "engine/export/tensorboard_writer.h"

#include "engine/export/crc32c.h"
#include "engine/export/protobuf_wire.h"
#include "engine/util/error.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace loralab {
namespace {

namespace fs = std::filesystem;

// event.proto: Event
constexpr int kEventWallTime = 1;    // double
constexpr int kEventStep = 2;        // int64
constexpr int kEventFileVersion = 3; // string
constexpr int kEventSummary = 5;     // Summary
// summary.proto: Summary { repeated Value value = 1; }
constexpr int kSummaryValue = 1;
// Summary.Value
constexpr int kValueTag = 1;         // string
constexpr int kValueSimpleValue = 2; // float
constexpr int kValueTensor = 8;      // TensorProto
constexpr int kValueMetadata = 9;    // SummaryMetadata
// SummaryMetadata { PluginData plugin_data = 1; ... DataClass data_class = 4; }
constexpr int kMetadataPluginData = 1;
constexpr int kMetadataDataClass = 4;
constexpr int kDataClassTensor = 2;
constexpr int kPluginDataName = 1; // string
// tensor.proto: TensorProto
constexpr int kTensorDtype = 1;     // DataType enum
constexpr int kTensorShape = 2;     // TensorShapeProto (no dims: a scalar)
constexpr int kTensorStringVal = 8; // repeated bytes
constexpr int kDtString = 7;        // types.proto: DT_STRING

constexpr const char* kFileVersion = "brain.Event:2";

std::string errnoText() { return std::strerror(errno); }

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

ProtoWriter eventHeader(std::int64_t step, double wallTime)
{
    ProtoWriter event;
    event.addDouble(kEventWallTime, wallTime);
    event.addInt64(kEventStep, step);
    return event;
}

} // namespace

double wallClockSeconds()
{
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) / 1e6;
}

std::string tfRecord(const std::string& data)
{
    std::string out;
    out.reserve(data.size() + 16);
    const std::uint64_t length = data.size();
    char lengthBytes[8];
    for (int i = 0; i < 8; ++i) lengthBytes[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
    const auto appendU32 = [&out](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    };
    out.append(lengthBytes, 8);
    appendU32(maskedCrc32c(lengthBytes, 8));
    out += data;
    appendU32(maskedCrc32c(data.data(), data.size()));
    return out;
}

TensorBoardWriter::TensorBoardWriter(const fs::path& dir, double startTime)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw fileError(dir.string(), "cannot create the folder for TensorBoard events: " + (ec ? ec.message() : "not a folder"));
    // <n> tells apart the files one process opens within a second.
    static std::atomic<int> counter{0};
    const auto seconds = static_cast<long long>(std::floor(startTime));
    const std::string host = hostName();
    for (int attempt = 0; attempt < 1000; ++attempt) {
        char name[64];
        std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.", seconds);
        m_path = dir / (name + host + "." + std::to_string(::getpid()) + "." + std::to_string(counter++));
        m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (m_fd >= 0) break;
        if (errno != EEXIST) throw fileError(m_path.string(), "cannot create the event file: " + errnoText());
    }
    if (m_fd < 0) throw fileError(dir.string(), "cannot find a free name for a new event file");
    ProtoWriter event;
    event.addDouble(kEventWallTime, startTime);
    event.addString(kEventFileVersion, kFileVersion);
    appendRecord(event.bytes());
}

TensorBoardWriter::~TensorBoardWriter()
{
    if (m_fd >= 0) ::close(m_fd);
}

void TensorBoardWriter::appendRecord(const std::string& eventBytes)
{
    // One write per record where the kernel takes it whole (it does for
    // regular files short of a full disk); O_APPEND keeps records in order.
    const std::string record = tfRecord(eventBytes);
    std::size_t done = 0;
    while (done < record.size()) {
        const ssize_t n = ::write(m_fd, record.data() + done, record.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw fileError(m_path.string(), "cannot write an event: " + errnoText());
        }
        done += static_cast<std::size_t>(n);
    }
    ++m_records;
}

void TensorBoardWriter::addScalar(const std::string& tag, std::int64_t step, double value, double wallTime)
{
    addScalars(step, {{tag, value}}, wallTime);
}

void TensorBoardWriter::addScalars(std::int64_t step, const std::vector<TensorBoardScalar>& values, double wallTime)
{
    if (values.empty()) return;
    ProtoWriter summary;
    for (const auto& v : values) {
        ProtoWriter value;
        value.addString(kValueTag, v.tag);
        value.addFloat(kValueSimpleValue, static_cast<float>(v.value));
        summary.addMessage(kSummaryValue, value);
    }
    ProtoWriter event = eventHeader(step, wallTime);
    event.addMessage(kEventSummary, summary);
    appendRecord(event.bytes());
}

void TensorBoardWriter::addText(const std::string& tag, std::int64_t step, const std::string& text, double wallTime)
{
    ProtoWriter pluginData;
    pluginData.addString(kPluginDataName, "text");
    ProtoWriter metadata;
    metadata.addMessage(kMetadataPluginData, pluginData);
    metadata.addVarint(kMetadataDataClass, kDataClassTensor);
    ProtoWriter tensor;
    tensor.addVarint(kTensorDtype, kDtString);
    tensor.addMessage(kTensorShape, ProtoWriter());
    tensor.addBytes(kTensorStringVal, text);
    ProtoWriter value;
    value.addString(kValueTag, tag);
    value.addMessage(kValueMetadata, metadata);
    value.addMessage(kValueTensor, tensor);
    ProtoWriter summary;
    summary.addMessage(kSummaryValue, value);
    ProtoWriter event = eventHeader(step, wallTime);
    event.addMessage(kEventSummary, summary);
    appendRecord(event.bytes());
}

void TensorBoardWriter::flush()
{
    if (::fdatasync(m_fd) != 0 && errno != EINVAL)
        throw fileError(m_path.string(), "cannot flush events to disk: " + errnoText());
}

} // namespace loralab
