#!/usr/bin/env bash
# Compiles every LibTorch source of the engine, the command line and the engine
# tests (syntax and templates, no code generation) against the LibTorch 2.x
# headers of Debian 13's libtorch-dev, fetched from the Debian archive into
# build-libtorch2/. Debian 12 ships LibTorch 1.13, CUDA machines carry 2.x:
# this keeps the TORCH_VERSION_MAJOR >= 2 paths compiling between GPU runs.
#
# Usage: scripts/check-libtorch2-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="${root}/build-libtorch2"
apt_state="${work}/apt"
mkdir -p "${apt_state}/lists/partial" "${apt_state}/cache/archives/partial"
echo "deb http://deb.debian.org/debian trixie main" >"${apt_state}/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=${apt_state}/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=${apt_state}/lists" -o "Dir::Cache=${apt_state}/cache"
          -o APT::Sandbox::User=root)
if [ ! -d "${work}/root/usr/include/torch" ]; then
  apt-get "${apt_opts[@]}" update -qq
  (cd "${work}" && apt-get "${apt_opts[@]}" download libtorch-dev >/dev/null)
  dpkg -x "${work}"/libtorch-dev_*.deb "${work}/root"
fi
inc="${work}/root/usr/include"
grep -h "define TORCH_VERSION_M" "${inc}/torch/csrc/api/include/torch/version.h" | sed 's/^/checking against /'

# The sources of the LibTorch targets, as their CMakeLists list them.
mapfile -t sources < <(
  awk '/add_library\(loralab_engine STATIC/{f=1;next} f&&/\)/{f=0} f{print "engine/"$1}' engine/CMakeLists.txt
  awk '/add_executable\(loralab-cli/{f=1;next} f&&/\)/{f=0} f&&/\.cpp/{print "app/"$1}' app/CMakeLists.txt
  awk '/loralab_add_engine_test\(loralab_engine_tests/{f=1;next} f&&/SOURCES/{for(i=2;i<=NF;i++) print "tests/engine/"$i; exit}' \
    tests/engine/CMakeLists.txt)
flags=(-std=c++17 -fsyntax-only -D_GLIBCXX_USE_CXX11_ABI=1 -DLORALAB_VERSION='"0"'
       -DLORALAB_TEST_DATA='"."' -DLORALAB_BINARY_DIR='"."'
       -I"${root}" -I"${root}/tests/engine" -isystem "${inc}" -isystem "${inc}/torch/csrc/api/include")
status=0
batch=()
check_batch() {
  ((${#batch[@]})) || return 0
  local tu="${work}/batch.cpp"
  printf '#include "%s"\n' "${batch[@]/#/${root}/}" >"${tu}"
  if g++ "${flags[@]}" -include "${root}/engine/torch_pch.h" "${tu}" 2>"${work}/errors.log"; then
    echo "ok: ${batch[*]}"
  else
    echo "FAILED: ${batch[*]}"
    grep -E "error" "${work}/errors.log" | head -n 20
    status=1
  fi
  batch=()
}
group=""
for src in "${sources[@]}"; do
  # A batch never mixes the engine, the command line and the tests.
  [ "${src%%/*}" = "${group}" ] || check_batch
  group="${src%%/*}"
  batch+=("${src}")
  ((${#batch[@]} < 8)) || check_batch
done
check_batch
exit "${status}"
