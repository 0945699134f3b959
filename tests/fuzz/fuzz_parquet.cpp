// Fuzzes the Parquet reader (columnar_fuzz.h says what must hold).
#include "engine/data/columnar/parquet_reader.h"
#include "tests/fuzz/columnar_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    loralab::fuzz::readColumnarBytes(data, size, "fuzz.parquet", loralab::parquetSchemaFromBytes, loralab::readParquetFromBytes);
    return 0;
}
