#!/usr/bin/env bash
# Builds LoRA Lab and runs its whole test suite (engine, parity, start-up and
# window tests). The window tests run offscreen. Warnings in LoRA Lab's own
# code fail the build here.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
./scripts/build.sh -DLORALAB_WARNINGS_AS_ERRORS=ON
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
