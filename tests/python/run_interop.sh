#!/usr/bin/env bash
# Runs one case of tests/python/interop.py (or another check beside it, such as
# interop_quant.py, which also needs bitsandbytes) with the reference Python stack:
# $LORALAB_REFERENCE_PYTHON, else the environment scripts/setup-python.sh made,
# else python3. Where none of them has torch, transformers and PEFT, the case
# is skipped (exit 77) with the reason, unless LORALAB_REQUIRE_INTEROP=1 (CI
# sets it): then it fails.
#
# Usage: tests/python/run_interop.sh LORALAB_CLI MODEL_DIR WORK_DIR CASE
#        tests/python/run_interop.sh --script SCRIPT ARGS...   (another check beside interop.py)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${LORALAB_REFERENCE_PYTHON:-}"
if [ -z "${python}" ]; then
  if venv="$("${here}/../../scripts/setup-python.sh" --existing 2>/dev/null)"; then
    python="${venv}/bin/python"
  else
    python="python3"
  fi
fi
modules="torch, transformers, peft, safetensors"
script=""
if [ "${1:-}" = "--script" ]; then
  script="$2"
  shift 2
  modules="${modules}, bitsandbytes"
fi
if ! "${python}" -c "import ${modules}" 2>/dev/null; then
  why="${python} lacks one of ${modules} (scripts/setup-python.sh sets them up)"
  if [ "${LORALAB_REQUIRE_INTEROP:-0}" = "1" ]; then
    echo "FAIL: ${why}" >&2
    exit 1
  fi
  echo "SKIP: ${why}"
  exit 77
fi
if [ -n "${script}" ]; then
  exec "${python}" "${here}/${script}" "$@"
fi
exec "${python}" "${here}/interop.py" --cli "$1" --model "$2" --work "$3" "$4"
