// Fuzzes the Arrow IPC reader (columnar_fuzz.h says what must hold).
#include "engine/data/columnar/arrow_ipc_reader.h"
#include "tests/fuzz/columnar_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    loralab::fuzz::readColumnarBytes(data, size, "fuzz.arrow", loralab::arrowIpcSchemaFromBytes, loralab::readArrowIpcFromBytes);
    return 0;
}
