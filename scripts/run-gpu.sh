#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (driver and CUDA toolkit installed): installs
# the build dependencies (apt), builds the window and the command line against
# a CUDA LibTorch, lists the devices, and starts the window, which trains on
# the GPU (--device auto). The LibTorch options are scripts/build-cuda.sh's:
#   scripts/run-gpu.sh                     a Python torch with CUDA on PATH, else PyPI's
#   scripts/run-gpu.sh --libtorch DIR      an unpacked LibTorch folder
#   scripts/run-gpu.sh --python PY         that interpreter's torch
#   scripts/run-gpu.sh --pip               the pinned torch from PyPI, in a cached environment
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh --gpu
args=()
case "${1:-}" in
  --libtorch|--python) args=("$1" "${2:?$1 needs a value}"); shift 2 ;;
  --pip) args=(--pip); shift ;;
esac
build="$(./scripts/build-cuda.sh "${args[@]}" -DLORALAB_BUILD_TESTS=OFF)"
"${build}/app/loralab-cli" devices
exec "${build}/app/loralab" --device auto "$@"
