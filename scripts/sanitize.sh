#!/usr/bin/env bash
# Builds the engine, the command line and the engine tests with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-sanitize/ (no
# window: Qt is not instrumented; the engine tests link Qt Core and Test
# uninstrumented, LoRA Lab's code in them is) and runs the engine tests. Any
# report fails the run: UBSan is told to halt on its first finding.
#
# Usage: scripts/sanitize.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# Unoptimised with line tables only: the instrumented LibTorch and JSON
# templates compile three to four times faster than at -O2 -g, and the tests
# spend their time in LibTorch's own (optimised) kernels anyway.
cmake -S . -B build-sanitize "${generator[@]}" -DLORALAB_SANITIZE=ON -DLORALAB_BUILD_UI=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 >/dev/null
cmake --build build-sanitize -j"$(nproc)"
# LibTorch's thread pool and OpenBLAS keep allocations alive until exit on
# purpose; leak reports would be about them, not LoRA Lab.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" -LE slow "$@"
