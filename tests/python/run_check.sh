#!/usr/bin/env bash
# Runs one of the Python checks in tests/python (interop.py, interop_quant.py,
# check_tensorboard.py, check_gguf.py, ...) with the reference Python stack:
# $LORALAB_REFERENCE_PYTHON, else the environment scripts/setup-python.sh made,
# else python3. Where the interpreter lacks a module the check needs, the
# check is skipped (exit 77) with the reason, unless LORALAB_REQUIRE_INTEROP=1
# (CI sets it): then it fails. The modules are looked up, not imported: the
# check imports them once itself (torch and transformers take seconds).
#
# Usage: tests/python/run_check.sh "MODULE[,MODULE...]" SCRIPT [ARGS...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
modules="$1"
shift
python="${LORALAB_REFERENCE_PYTHON:-}"
if [ -z "${python}" ]; then
  if venv="$("${here}/../../scripts/setup-python.sh" --existing 2>/dev/null)"; then
    python="${venv}/bin/python"
  else
    python="python3"
  fi
fi
if ! missing="$("${python}" -c '
import importlib.util, sys
missing = [m for m in sys.argv[1].split(",") if importlib.util.find_spec(m) is None]
print(", ".join(missing))
sys.exit(1 if missing else 0)' "${modules}" 2>&1)"; then
  why="${python} lacks ${missing} (scripts/setup-python.sh sets up ${modules//,/, })"
  if [ "${LORALAB_REQUIRE_INTEROP:-0}" = "1" ]; then
    echo "FAIL: ${why}" >&2
    exit 1
  fi
  echo "SKIP: ${why}"
  exit 77
fi
script="$1"
shift
exec "${python}" "${here}/${script}" "$@"
