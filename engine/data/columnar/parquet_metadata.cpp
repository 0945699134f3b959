// Parquet's footer and page headers from Thrift; see parquet_metadata.h. Each
// parse function reads the fields it knows by number and skips the others, so
// metadata from newer writers (statistics, indexes, encryption hints) reads too.
#include "engine/data/columnar/parquet_metadata.h"

#include "engine/data/columnar/columnar_bytes.h"
#include "engine/data/columnar/thrift_compact.h"

namespace loralab::columnar {
namespace {

// Calls each(field) for every field of the struct at the reader's position.
template <typename F>
void readStruct(ThriftReader& r, F each)
{
    r.beginStruct();
    ThriftField f;
    while (r.nextField(f)) each(f);
    r.endStruct();
}

template <typename F>
void readList(ThriftReader& r, ThriftType expected, F each)
{
    const ThriftList list = r.readListHeader();
    if (list.elementType != expected) fail("a Thrift list holds elements of an unexpected type");
    for (std::size_t i = 0; i < list.size; ++i) each();
}

void expectType(const ThriftField& f, ThriftType type)
{
    if (f.type != type) fail("Thrift field " + std::to_string(f.id) + " has an unexpected type");
}

void readLogicalType(ThriftReader& r, SchemaElement& e)
{
    readStruct(r, [&](const ThriftField& f) {
        switch (f.id) {
        case 1: e.logical = LogicalKind::String; break;
        case 2: e.logical = LogicalKind::Map; break;
        case 3: e.logical = LogicalKind::List; break;
        case 4: e.logical = LogicalKind::Enum; break;
        case 5: e.logical = LogicalKind::Decimal; break;
        case 6: e.logical = LogicalKind::Date; break;
        case 7: e.logical = LogicalKind::Time; break;
        case 8: e.logical = LogicalKind::Timestamp; break;
        case 10: e.logical = LogicalKind::Integer; break;
        case 11: e.logical = LogicalKind::Unknown; break;
        case 12: e.logical = LogicalKind::Json; break;
        case 13: e.logical = LogicalKind::Bson; break;
        case 14: e.logical = LogicalKind::Uuid; break;
        case 15: e.logical = LogicalKind::Float16; break;
        default: e.logical = LogicalKind::Other; break;
        }
        if (f.id == 10 && f.type == ThriftType::Struct) {
            readStruct(r, [&](const ThriftField& g) {
                if (g.id == 1) e.intBitWidth = static_cast<int>(r.readInt(g.type));
                else if (g.id == 2) e.intSigned = r.readBool(g.type);
                else r.skip(g.type);
            });
        } else {
            r.skip(f.type);
        }
    });
}

SchemaElement readSchemaElement(ThriftReader& r)
{
    SchemaElement e;
    readStruct(r, [&](const ThriftField& f) {
        switch (f.id) {
        case 1: e.type = r.readI32(f.type); break;
        case 2: e.typeLength = r.readI32(f.type); break;
        case 3: e.repetition = r.readI32(f.type); break;
        case 4: expectType(f, ThriftType::Binary); e.name = r.readString(); break;
        case 5: e.numChildren = r.readI32(f.type); break;
        case 6: e.convertedType = r.readI32(f.type); break;
        case 10: expectType(f, ThriftType::Struct); readLogicalType(r, e); break;
        default: r.skip(f.type); break;
        }
    });
    return e;
}

ColumnChunkMeta readColumnMetaData(ThriftReader& r, ColumnChunkMeta c)
{
    c.hasMetaData = true;
    readStruct(r, [&](const ThriftField& f) {
        switch (f.id) {
        case 1: c.type = r.readI32(f.type); break;
        case 3:
            expectType(f, ThriftType::List);
            readList(r, ThriftType::Binary, [&] { c.pathInSchema.push_back(r.readString()); });
            break;
        case 4: c.codec = r.readI32(f.type); break;
        case 5: c.numValues = r.readInt(f.type); break;
        case 7: c.totalCompressedSize = r.readInt(f.type); break;
        case 9: c.dataPageOffset = r.readInt(f.type); break;
        case 11: c.dictionaryPageOffset = r.readInt(f.type); break;
        default: r.skip(f.type); break;
        }
    });
    return c;
}

ColumnChunkMeta readColumnChunk(ThriftReader& r)
{
    ColumnChunkMeta c;
    readStruct(r, [&](const ThriftField& f) {
        if (f.id == 1) {
            expectType(f, ThriftType::Binary);
            c.filePath = r.readString();
        } else if (f.id == 3) {
            expectType(f, ThriftType::Struct);
            c = readColumnMetaData(r, std::move(c));
        } else {
            r.skip(f.type);
        }
    });
    return c;
}

RowGroupMeta readRowGroup(ThriftReader& r)
{
    RowGroupMeta g;
    readStruct(r, [&](const ThriftField& f) {
        if (f.id == 1) {
            expectType(f, ThriftType::List);
            readList(r, ThriftType::Struct, [&] { g.columns.push_back(readColumnChunk(r)); });
        } else if (f.id == 3) {
            g.numRows = r.readInt(f.type);
        } else {
            r.skip(f.type);
        }
    });
    return g;
}

} // namespace

FileMetaData parseFileMetaData(const std::uint8_t* data, std::size_t size)
{
    ThriftReader r(data, size);
    FileMetaData m;
    readStruct(r, [&](const ThriftField& f) {
        switch (f.id) {
        case 2:
            expectType(f, ThriftType::List);
            readList(r, ThriftType::Struct, [&] { m.schema.push_back(readSchemaElement(r)); });
            break;
        case 3: m.numRows = r.readInt(f.type); break;
        case 4:
            expectType(f, ThriftType::List);
            readList(r, ThriftType::Struct, [&] { m.rowGroups.push_back(readRowGroup(r)); });
            break;
        default: r.skip(f.type); break;
        }
    });
    return m;
}

PageHeader parsePageHeader(const std::uint8_t* data, std::size_t size)
{
    ThriftReader r(data, size);
    PageHeader h;
    readStruct(r, [&](const ThriftField& f) {
        switch (f.id) {
        case 1: h.type = r.readI32(f.type); break;
        case 2: h.uncompressedSize = r.readI32(f.type); break;
        case 3: h.compressedSize = r.readI32(f.type); break;
        case 5: // DataPageHeader
            expectType(f, ThriftType::Struct);
            readStruct(r, [&](const ThriftField& g) {
                switch (g.id) {
                case 1: h.numValues = r.readI32(g.type); break;
                case 2: h.encoding = r.readI32(g.type); break;
                case 3: h.definitionLevelEncoding = r.readI32(g.type); break;
                case 4: h.repetitionLevelEncoding = r.readI32(g.type); break;
                default: r.skip(g.type); break;
                }
            });
            break;
        case 7: // DictionaryPageHeader
            expectType(f, ThriftType::Struct);
            readStruct(r, [&](const ThriftField& g) {
                if (g.id == 1) h.numValues = r.readI32(g.type);
                else if (g.id == 2) h.encoding = r.readI32(g.type);
                else r.skip(g.type);
            });
            break;
        case 8: // DataPageHeaderV2
            expectType(f, ThriftType::Struct);
            readStruct(r, [&](const ThriftField& g) {
                switch (g.id) {
                case 1: h.numValues = r.readI32(g.type); break;
                case 4: h.encoding = r.readI32(g.type); break;
                case 5: h.definitionLevelsBytes = r.readI32(g.type); break;
                case 6: h.repetitionLevelsBytes = r.readI32(g.type); break;
                case 7: h.isCompressed = r.readBool(g.type); break;
                default: r.skip(g.type); break;
                }
            });
            break;
        default: r.skip(f.type); break;
        }
    });
    h.headerBytes = r.position();
    return h;
}

std::string encodingName(int e)
{
    switch (e) {
    case 0: return "PLAIN";
    case 2: return "PLAIN_DICTIONARY";
    case 3: return "RLE";
    case 4: return "BIT_PACKED";
    case 5: return "DELTA_BINARY_PACKED";
    case 6: return "DELTA_LENGTH_BYTE_ARRAY";
    case 7: return "DELTA_BYTE_ARRAY";
    case 8: return "RLE_DICTIONARY";
    case 9: return "BYTE_STREAM_SPLIT";
    default: return "encoding " + std::to_string(e);
    }
}

std::string codecName(int c)
{
    switch (c) {
    case 0: return "UNCOMPRESSED";
    case 1: return "SNAPPY";
    case 2: return "GZIP";
    case 3: return "LZO";
    case 4: return "BROTLI";
    case 5: return "LZ4";
    case 6: return "ZSTD";
    case 7: return "LZ4_RAW";
    default: return "codec " + std::to_string(c);
    }
}

} // namespace loralab::columnar
