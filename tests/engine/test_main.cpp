#include "test_harness.h"

int main(int argc, char** argv) { return loralab::test::runAll(argc, argv); }
