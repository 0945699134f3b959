#!/usr/bin/env bash
# Configures and builds LoRA Lab into build/ (extra arguments go to CMake).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cmake-args.sh
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${cmake_args[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j"$(nproc)"
