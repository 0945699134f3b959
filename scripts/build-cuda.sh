#!/usr/bin/env bash
# Configures and builds LoRA Lab (window, command line, tests) against a CUDA
# LibTorch into build-cuda/, and prints that folder. Where the LibTorch comes from:
#   --libtorch DIR   a LibTorch folder (the zip from pytorch.org, or torch/ of a
#                    Python install): DIR/share/cmake/Torch must exist
#   --python PY      the torch package of that Python interpreter
#   --pip            a virtual environment with the pinned torch from PyPI
#                    (scripts/setup-python.sh; downloaded once, then cached)
#   (none)           the first Python on PATH whose torch has CUDA, else --pip
# Further arguments go to CMake. Torch's CMake files need the CUDA toolkit
# (nvcc) of the same major version as the torch build; /usr/local/cuda is used
# when nvcc is not on PATH.
#
# Usage: scripts/build-cuda.sh [--libtorch DIR | --python PY | --pip] [cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source=""
value=""
case "${1:-}" in
  --libtorch|--python) source="$1"; value="${2:?$1 needs a value}"; shift 2 ;;
  --pip) source="--pip"; shift ;;
esac

torch_cuda_prefix() { # python -> torch's folder, when that torch has CUDA
  "$1" -c 'import os, torch; assert torch.version.cuda; print(os.path.dirname(torch.__file__))' 2>/dev/null
}

prefix=""
case "${source}" in
  --libtorch) prefix="$(cd "${value}" && pwd)" ;;
  --python)
    prefix="$(torch_cuda_prefix "${value}")" || {
      echo "build-cuda: ${value} has no torch with CUDA (python -c 'import torch; print(torch.version.cuda)')" >&2; exit 1; } ;;
  --pip) prefix="$(torch_cuda_prefix "$(./scripts/setup-python.sh)/bin/python")" ;;
  "")
    for py in python3 python; do
      command -v "${py}" >/dev/null 2>&1 && prefix="$(torch_cuda_prefix "${py}")" && break || prefix=""
    done
    [ -n "${prefix}" ] || prefix="$(torch_cuda_prefix "$(./scripts/setup-python.sh)/bin/python")" ;;
esac
[ -f "${prefix}/share/cmake/Torch/TorchConfig.cmake" ] || {
  echo "build-cuda: no LibTorch CMake config under ${prefix}/share/cmake/Torch" >&2; exit 1; }

if ! command -v nvcc >/dev/null 2>&1; then
  if [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:${PATH}"
  else
    echo "build-cuda: LibTorch's CMake files need the CUDA toolkit (nvcc), which is not installed." >&2
    echo "  Install the toolkit whose major version matches torch's CUDA (NVIDIA's cuda-toolkit-13-0 package," >&2
    echo "  or Debian's nvidia-cuda-toolkit), or put its bin/ folder on PATH." >&2
    exit 1
  fi
fi

source scripts/cmake-args.sh
echo "build-cuda: LibTorch from ${prefix}, nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')" >&2
cmake -S . -B build-cuda "${cmake_args[@]}" -DCMAKE_BUILD_TYPE=Release -DLORALAB_WITH_CUDA=ON \
  -DCMAKE_PREFIX_PATH="${prefix}" "$@" >/dev/null
cmake --build build-cuda -j"$(nproc)" >&2
echo "build-cuda"
