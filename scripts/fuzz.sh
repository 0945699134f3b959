#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan;
# scripts/build-fuzz.sh) and runs each for a bounded time from the seed corpus
# in tests/fuzz/corpus. A crash fails the script and leaves the crashing input
# in build-fuzz/findings/.
#
# Usage: scripts/fuzz.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
./scripts/build-fuzz.sh
mkdir -p build-fuzz/findings
status=0
for seeds in tests/fuzz/corpus/*/; do
  target="$(basename "$seeds")"
  work="build-fuzz/corpus/${target}"
  mkdir -p "${work}"
  log="build-fuzz/findings/${target}.log"
  # New inputs go to the scratch corpus; the committed seeds stay as they are.
  if ! ASAN_OPTIONS=detect_leaks=1 "build-fuzz/tests/fuzz/fuzz_${target}" -max_total_time="${seconds}" -rss_limit_mb=2048 \
      -timeout=10 -artifact_prefix="build-fuzz/findings/${target}-" "${work}" "${seeds}" >"${log}" 2>&1; then
    echo "fuzz_${target}: FAILED (see ${log})"
    tail -n 30 "${log}"
    status=1
  else
    runs="$(grep -o 'Done [0-9]* runs' "${log}" | tail -n 1 || true)"
    echo "fuzz_${target}: ${runs:-done} in ${seconds}s, no crash"
  fi
done
exit "${status}"
