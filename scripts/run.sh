#!/usr/bin/env bash
# Sets up a Debian 12 machine for LoRA Lab (once), builds it and starts the
# window on the embedded default model and dialogues.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
./scripts/build.sh
exec ./build/app/loralab "$@"
