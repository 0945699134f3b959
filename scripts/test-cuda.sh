#!/usr/bin/env bash
# The CUDA build in CI: LoRA Lab's window, command line and tests compiled
# against the pinned CUDA LibTorch from PyPI (LibTorch 2.x, CUDA 13) with
# warnings as errors, then the whole test suite run with it. Without a GPU the
# CUDA LibTorch runs on the CPU, so every CPU test runs against this second
# LibTorch line too; the `gpu` tests say why they skip, and run where a GPU is.
#
# Usage: scripts/test-cuda.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-cuda.sh --pip -DLORALAB_WARNINGS_AS_ERRORS=ON >/dev/null
grep -E "^(LORALAB_WITH_CUDA|Torch_DIR)" build-cuda/CMakeCache.txt
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build-cuda --output-on-failure -j"$(nproc)" "$@"
