#!/usr/bin/env bash
# Sets up the pinned Python environment LoRA Lab is checked against: torch (whose
# wheel carries the CUDA LibTorch the CUDA build compiles against), transformers,
# PEFT and safetensors (the interoperability tests). It lives in a cache folder
# outside the checkout, keyed by the lock file's hash, so a second run, or a
# second clone, reuses it instead of downloading gigabytes again; the
# downloaded wheels stay beside it.
#
# Usage: scripts/setup-python.sh              prints the environment's folder
#        scripts/setup-python.sh --existing   the same, but only if it is already set up
#                                             (exits 1 without installing anything)
#   LORALAB_CACHE_DIR   where environments live (default: ~/.cache/loralab)
#   LORALAB_PYTHON      the interpreter to build it from (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."
lock="scripts/python-requirements.lock"
cache="${LORALAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loralab}"
python="${LORALAB_PYTHON:-python3}"
key=$( (cat "${lock}"; "${python}" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-12)
venv="${cache}/python-${key}"
if [ "${1:-}" = "--existing" ]; then
  [ -f "${venv}/.complete" ] || exit 1
elif [ ! -f "${venv}/.complete" ]; then
  echo "setting up the Python environment in ${venv} (first time: about 4 GB from PyPI)" >&2
  rm -rf "${venv}"
  mkdir -p "${cache}"
  "${python}" -m venv "${venv}"
  # The wheels stay in the cache too: a new environment (another Python, a
  # changed lock) downloads only what it does not have yet.
  "${venv}/bin/pip" download --quiet --disable-pip-version-check --no-deps -r "${lock}" -d "${cache}/wheels" >&2
  "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir --no-index \
    --find-links "${cache}/wheels" --no-deps -r "${lock}" >&2
  "${venv}/bin/python" -c 'import torch, transformers, peft, safetensors, pyarrow, datasets, tensorboard, gguf, bitsandbytes' >&2
  touch "${venv}/.complete"
fi
echo "${venv}"
