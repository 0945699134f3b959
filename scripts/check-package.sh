#!/usr/bin/env bash
# Builds the Debian package from build/, installs it with apt from the local
# file, and starts what it installed as a user would: loralab-cli --version,
# info and a short generation on the embedded model, and the window offscreen
# (which saves a screenshot). Expects scripts/build.sh to have run.
#
# Usage: scripts/check-package.sh [--keep]   (--keep leaves the package installed)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

fail() { echo "check-package: $*" >&2; exit 1; }

rm -f build/loralab_*.deb
(cd build && cpack -G DEB >/dev/null)
deb="$(ls build/loralab_*.deb)"
echo "built ${deb} ($(du -h "${deb}" | cut -f1))"
dpkg-deb --field "${deb}" Depends | tr ',' '\n' | sed 's/^ */  depends: /'

work="$(mktemp -d)"
cleanup() {
  cd /
  rm -rf "${work}"
  [ "${keep}" -eq 1 ] || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get remove -y -qq loralab >/dev/null || true
}
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "./${deb}" >/dev/null

for f in /usr/bin/loralab /usr/bin/loralab-cli /usr/lib/loralab/libloralab_spm.so \
         /usr/share/loralab/model/config.json /usr/share/loralab/data/dialogues/train.jsonl \
         /usr/share/applications/loralab.desktop /usr/share/icons/hicolor/scalable/apps/loralab.svg \
         /usr/share/icons/hicolor/48x48/apps/loralab.png; do
  [ -e "${f}" ] || fail "the package did not install ${f}"
done
if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate /usr/share/applications/loralab.desktop || fail "loralab.desktop is not valid"
fi

cd "${work}"   # nothing from the source tree is at hand from here

version="$(/usr/bin/loralab-cli --version)"
echo "${version}"
[[ "${version}" =~ ^loralab-cli\ [0-9]+\.[0-9]+ ]] || fail "unexpected --version output: ${version}"

info="$(/usr/bin/loralab-cli info default --json)"
grep -q '"model": "/usr/share/loralab/model"' <<<"${info}" \
  || fail "loralab-cli info default did not use the installed model: ${info}"
grep -q '"total_params": 4208128' <<<"${info}" || fail "unexpected parameter count: ${info}"
echo "loralab-cli info default: installed model, 4,208,128 parameters"

# The embedded model's tokenizer is a sentencepiece model: this goes through
# the shim in /usr/lib/loralab and LibTorch in one process.
answer="$(/usr/bin/loralab-cli generate default --prompt $'Human: What is the capital of France?\n\nAssistant:' \
  --max-new-tokens 12 --threads 1)"
[ -n "${answer}" ] || fail "loralab-cli generate printed nothing"
echo "loralab-cli generate: ${answer}"

QT_QPA_PLATFORM=offscreen timeout 60 /usr/bin/loralab --screenshot "${work}/window.png" \
  || fail "the installed window did not start offscreen"
size="$(stat -c %s "${work}/window.png")"
[ "${size}" -gt 10000 ] || fail "the window's screenshot is only ${size} bytes"
echo "loralab (offscreen): started from /usr/bin and saved a ${size}-byte screenshot"
echo "package check passed"
