#!/usr/bin/env bash
# The CUDA build in CI: LoRA Lab's engine, command line, benchmarks and tests
# compiled against the pinned CUDA LibTorch from PyPI (LibTorch 2.x, CUDA 13)
# with warnings as errors, then their tests run with it. Without a GPU the
# CUDA LibTorch runs on the CPU, so every engine test runs against this second
# LibTorch line too; the `gpu` tests say why they skip, and run where a GPU is.
# The window is left out: it never includes LibTorch (nothing in it differs
# between the two builds), and the Python interop checks read files whose
# writers are LoRA Lab's own code, which the CPU suite checks.
#
# Usage: scripts/test-cuda.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-cuda.sh --pip -DLORALAB_WARNINGS_AS_ERRORS=ON -DLORALAB_BUILD_UI=OFF >/dev/null
grep -E "^(LORALAB_WITH_CUDA|Torch_DIR)" build-cuda/CMakeCache.txt
ctest --test-dir build-cuda --output-on-failure -j"$(nproc)" -LE interop "$@"
