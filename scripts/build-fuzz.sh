#!/usr/bin/env bash
# Configures and builds the instrumented core into build-fuzz/: the
# LibTorch-free core (file formats, configs, tokenizers, datasets, chat
# templates, export writers) compiled with clang under AddressSanitizer,
# UndefinedBehaviorSanitizer and libFuzzer's coverage, its tests
# (loralab_core_tests) and the libFuzzer targets. scripts/sanitize.sh runs the
# tests from it and scripts/fuzz.sh the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cmake-args.sh
# -O1 with line tables: what libFuzzer asks for, at half the compile time of -O2 -g.
CC=clang CXX=clang++ cmake -S . -B build-fuzz "${cmake_args[@]}" -DLORALAB_FUZZ=ON -DLORALAB_BUILD_UI=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
cmake --build build-fuzz -j"$(nproc)"
