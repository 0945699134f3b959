#!/usr/bin/env bash
# Builds LoRA Lab and runs its whole test suite (engine, parity, start-up and
# window tests). The window tests run offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
./tests/fetch_qwen_tokenizer.sh tests/data/downloads/qwen-tokenizer.json
./scripts/build.sh
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
