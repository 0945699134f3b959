#!/usr/bin/env bash
# Installs LoRA Lab's build and runtime dependencies from Debian 12's archive
# (Ubuntu 24.04 has the same names). By default everything the CPU build and
# the checks need: Debian's LibTorch with OpenBLAS, clang and its runtime for
# the fuzzers, desktop-file-utils for the package check, Xvfb. With --gpu only
# what a CUDA build needs beside a CUDA LibTorch (scripts/run-gpu.sh).
# python3-venv holds the pinned torch/transformers/PEFT environment
# (scripts/setup-python.sh).
#
# Usage: scripts/setup-debian.sh [--gpu]
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
  libsentencepiece-dev libprotobuf-dev
  nlohmann-json3-dev libpcre2-dev libutf8proc-dev zlib1g-dev libgloo-dev
  libsnappy-dev libzstd-dev
  python3 python3-venv
)
if [ "${1:-}" != "--gpu" ]; then
  packages+=(
    libtorch-dev libopenblas0-pthread
    sentencepiece xvfb xauth
    clang libclang-rt-14-dev desktop-file-utils
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
