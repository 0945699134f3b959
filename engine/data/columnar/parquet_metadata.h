// Parquet's metadata as the readers use it: the footer (FileMetaData with its
// schema and row groups) and page headers, parsed from the Thrift compact
// protocol. Only the fields LoRA Lab needs are kept; the rest are skipped.
// Field numbers follow parquet.thrift in the Apache Parquet format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loralab::columnar {

enum class PhysicalType { Boolean = 0, Int32 = 1, Int64 = 2, Int96 = 3, Float = 4, Double = 5, ByteArray = 6, FixedLenByteArray = 7 };
enum class Repetition { Required = 0, Optional = 1, Repeated = 2 };

// Parquet's ConvertedType values that matter here (the older annotations).
namespace converted {
constexpr int kNone = -1, kUtf8 = 0, kMap = 1, kMapKeyValue = 2, kList = 3, kEnum = 4, kDecimal = 5, kDate = 6,
              kTimeMillis = 7, kTimeMicros = 8, kTimestampMillis = 9, kTimestampMicros = 10, kUint8 = 11, kUint16 = 12,
              kUint32 = 13, kUint64 = 14, kInt8 = 15, kInt16 = 16, kInt32 = 17, kInt64 = 18, kJson = 19, kBson = 20,
              kInterval = 21;
}

// The LogicalType union (the newer annotations); Other for those LoRA Lab does not name.
enum class LogicalKind { None, String, Map, List, Enum, Decimal, Date, Time, Timestamp, Integer, Unknown, Json, Bson, Uuid, Float16, Other };

struct SchemaElement {
    std::string name;
    int type = -1;            // PhysicalType, -1 for a group
    std::int32_t typeLength = 0; // FIXED_LEN_BYTE_ARRAY: bytes per value
    int repetition = -1;      // Repetition, -1 when absent (the root)
    std::int32_t numChildren = 0;
    int convertedType = converted::kNone;
    LogicalKind logical = LogicalKind::None;
    int intBitWidth = 0;      // LogicalKind::Integer
    bool intSigned = true;
};

struct ColumnChunkMeta {
    bool hasMetaData = false;
    std::string filePath;     // set when the chunk lives in another file
    int type = -1;            // PhysicalType
    std::vector<std::string> pathInSchema;
    int codec = 0;            // CompressionCodec
    std::int64_t numValues = 0;
    std::int64_t totalCompressedSize = 0;
    std::int64_t dataPageOffset = 0;
    std::int64_t dictionaryPageOffset = -1; // -1: none
};

struct RowGroupMeta {
    std::vector<ColumnChunkMeta> columns;
    std::int64_t numRows = 0;
};

struct FileMetaData {
    std::vector<SchemaElement> schema; // depth first, the root first
    std::int64_t numRows = 0;
    std::vector<RowGroupMeta> rowGroups;
};

enum class PageType { DataPage = 0, IndexPage = 1, DictionaryPage = 2, DataPageV2 = 3 };

struct PageHeader {
    int type = -1;                     // PageType
    std::int32_t uncompressedSize = -1;
    std::int32_t compressedSize = -1;
    std::int32_t numValues = -1;       // data pages (v1, v2) and dictionary pages
    int encoding = -1;                 // of the values
    int definitionLevelEncoding = -1;  // v1
    int repetitionLevelEncoding = -1;  // v1
    std::int32_t definitionLevelsBytes = 0; // v2
    std::int32_t repetitionLevelsBytes = 0; // v2
    bool isCompressed = true;               // v2
    std::size_t headerBytes = 0;       // the header's own size
};

// Parses the footer; throws FormatError saying what is wrong.
FileMetaData parseFileMetaData(const std::uint8_t* data, std::size_t size);
// Parses a page header at the start of [data, data + size).
PageHeader parsePageHeader(const std::uint8_t* data, std::size_t size);

// Encoding values and their names ("PLAIN", "RLE_DICTIONARY", ...).
namespace encoding {
constexpr int kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4, kRleDictionary = 8;
}
std::string encodingName(int encoding);
// Codec values and their names ("SNAPPY", "ZSTD", ...).
namespace codec {
constexpr int kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6;
}
std::string codecName(int codec);

} // namespace loralab::columnar
