#!/usr/bin/env bash
# Fetches the Debian packages the engine needs on a machine that has LibTorch
# but no -dev headers (such as a CUDA box with only a Python torch), unpacked
# into .deps/ (git-ignored). Run it here, then carry .deps/ to that machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .deps && mkdir -p .deps/debs
(cd .deps/debs && apt-get download libpcre2-dev libpcre2-8-0 libutf8proc-dev libutf8proc2 nlohmann-json3-dev \
  libsentencepiece-dev libsentencepiece0 libprotobuf-lite32 zlib1g-dev libgloo-dev \
  libsnappy-dev libsnappy1v5 libzstd-dev libzstd1)
for deb in .deps/debs/*.deb; do dpkg -x "$deb" .deps/root; done
rm -rf .deps/debs
echo "unpacked into .deps/root (use CMAKE_PREFIX_PATH=\$PWD/.deps/root/usr and LD_LIBRARY_PATH=\$PWD/.deps/root/usr/lib/x86_64-linux-gnu)"
