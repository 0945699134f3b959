#!/usr/bin/env bash
# Fetches the Debian packages the engine and its tests need on a machine that has LibTorch
# but no -dev headers (such as a CUDA box with only a Python torch), unpacked
# into .deps/ (git-ignored). Run it here, then carry .deps/ to that machine.
# The engine tests need Qt6 Core and Test (QtTest); their headers, CMake files,
# moc and libraries come along, with the libraries Qt Core loads that such a
# machine seldom has (ICU 72, double-conversion, libb2, PCRE2-16; glib, zstd
# and libgomp are taken from the system). The headers of the other Qt modules
# are left out: nothing here includes them.
#
# That is about 60 MB, half of it ICU's data. With --archive only
# .deps/root.tar.xz (about 15 MB) is left, for a transfer with a size limit;
# unpack it there with `tar -C .deps -xJf .deps/root.tar.xz`.
#
# Usage: scripts/fetch-device-deps.sh [--archive]
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .deps && mkdir -p .deps/debs
(cd .deps/debs && apt-get download libpcre2-dev libpcre2-8-0 libutf8proc-dev libutf8proc2 nlohmann-json3-dev \
  libsentencepiece-dev libsentencepiece0 libprotobuf-lite32 zlib1g-dev libgloo-dev \
  libsnappy-dev libsnappy1v5 libzstd-dev libzstd1 \
  qt6-base-dev qt6-base-dev-tools qmake6 libqt6core6 libqt6test6 libicu72 libdouble-conversion3 libb2-1 libpcre2-16-0)
for deb in .deps/debs/*.deb; do dpkg -x "$deb" .deps/root; done
rm -rf .deps/debs .deps/root/usr/share/doc .deps/root/usr/share/man
# What nothing here builds against: static libraries, the other Qt modules.
lib=.deps/root/usr/lib/x86_64-linux-gnu
find "${lib}" -maxdepth 1 -name '*.a' -delete
find .deps/root/usr/include/x86_64-linux-gnu/qt6 -mindepth 1 -maxdepth 1 -type d ! -name QtCore ! -name QtTest -exec rm -rf {} +
find "${lib}/cmake" -mindepth 1 -maxdepth 1 -type d -name 'Qt6?*' ! -name Qt6Core ! -name Qt6CoreTools ! -name Qt6Test \
  ! -name Qt6HostInfo ! -name Qt6BuildInternals -exec rm -rf {} +
if [ "${1:-}" = "--archive" ]; then
  tar -C .deps -cf - root | xz -T0 >.deps/root.tar.xz
  rm -rf .deps/root
  echo "packed into .deps/root.tar.xz; there, unpack it with: tar -C .deps -xJf .deps/root.tar.xz"
else
  echo "unpacked into .deps/root"
fi
echo "build with CMAKE_PREFIX_PATH=\$PWD/.deps/root/usr and LD_LIBRARY_PATH=\$PWD/.deps/root/usr/lib/x86_64-linux-gnu"
