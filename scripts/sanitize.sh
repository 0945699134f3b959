#!/usr/bin/env bash
# Runs LoRA Lab's tests under AddressSanitizer + UndefinedBehaviorSanitizer.
# Any report fails the run: UBSan is told to halt on its first finding.
#
#   scripts/sanitize.sh            the LibTorch-free core: every parser of a
#                                  user's file (safetensors, configs,
#                                  tokenizers, datasets with Parquet, Arrow and
#                                  gzip, chat templates) and the export writers,
#                                  with the core's tests, built with clang into
#                                  build-fuzz/ beside the fuzzers (CI runs this)
#   scripts/sanitize.sh --engine   also the LibTorch engine, the command line and
#                                  their tests, built with the default compiler
#                                  into build-sanitize/ (no window: Qt is not
#                                  instrumented; the tests link Qt Core and Test
#                                  uninstrumented), all but the `slow` label
# Further arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
# LibTorch's thread pool and OpenBLAS keep allocations alive until exit on
# purpose; leak reports would be about them, not LoRA Lab.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ "${1:-}" != "--engine" ]; then
  ./scripts/build-fuzz.sh
  ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)" "$@"
  exit
fi
shift
source scripts/cmake-args.sh
# Unoptimised with line tables only: the instrumented LibTorch and JSON
# templates compile three to four times faster than at -O2 -g, and the tests
# spend their time in LibTorch's own (optimised) kernels anyway.
cmake -S . -B build-sanitize "${cmake_args[@]}" -DLORALAB_SANITIZE=ON -DLORALAB_BUILD_UI=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 >/dev/null
cmake --build build-sanitize -j"$(nproc)"
ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" -LE slow "$@"
