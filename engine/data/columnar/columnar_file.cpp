// Parquet or Arrow IPC by their magic numbers; see columnar_file.h.
#include "engine/data/columnar/columnar_file.h"

#include "engine/data/columnar/arrow_ipc_reader.h"
#include "engine/data/columnar/parquet_reader.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <cstring>

namespace loralab {
namespace {

ColumnarFormat formatOf(const std::uint8_t* data, std::size_t size)
{
    if (size >= 4 && (std::memcmp(data, "PAR1", 4) == 0 || std::memcmp(data, "PARE", 4) == 0)) return ColumnarFormat::Parquet;
    if (size >= 6 && std::memcmp(data, "ARROW1", 6) == 0) return ColumnarFormat::ArrowFile;
    // A stream starts with a message: the continuation marker 0xFFFFFFFF, or
    // (before Arrow 0.15) directly its metadata length, a small positive number
    // (which a gzip header, 1f 8b, would pass for).
    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (size >= 4 && !gzip) {
        std::uint32_t first = 0;
        std::memcpy(&first, data, 4);
        if (first == 0xffffffffu || (first > 0 && first < (1u << 24) && size >= 8)) return ColumnarFormat::ArrowStream;
    }
    return ColumnarFormat::None;
}

ColumnarFormat openFormat(const MappedFile& file)
{
    const ColumnarFormat format = formatOf(file.data(), file.size());
    if (format == ColumnarFormat::None)
        throw fileError(file.path(), file.size() == 0 ? "is empty, not a Parquet or Arrow IPC file"
                                                      : "is neither Parquet nor Arrow IPC (its first bytes are no magic number of either)");
    return format;
}

} // namespace

ColumnarFormat detectColumnarFormat(const std::string& path)
{
    try {
        const MappedFile file(path);
        return formatOf(file.data(), file.size());
    } catch (const Error&) {
        return ColumnarFormat::None;
    }
}

std::vector<ColumnInfo> columnarSchema(const std::string& path)
{
    const MappedFile file(path);
    if (openFormat(file) == ColumnarFormat::Parquet) return parquetSchemaFromBytes(file.data(), file.size(), path);
    return arrowIpcSchemaFromBytes(file.data(), file.size(), path);
}

ColumnTable readColumnarFile(const std::string& path, const ColumnarReadOptions& options)
{
    const MappedFile file(path);
    if (openFormat(file) == ColumnarFormat::Parquet) return readParquetFromBytes(file.data(), file.size(), path, options);
    return readArrowIpcFromBytes(file.data(), file.size(), path, options);
}

} // namespace loralab
