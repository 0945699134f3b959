#!/usr/bin/env bash
# LoRA Lab against transformers + PEFT (eager) on this machine's CPU, in one
# run: Pythia-70m's shape, batch 4 x 128, 2 threads, LoRA and full fine-tuning.
# LoRA Lab runs as its CPU build (build/, Debian's LibTorch + OpenBLAS) and,
# when build-cuda/ exists, as the build against PyPI's LibTorch (the torch that
# PEFT runs on, with MKL); PEFT runs in the pinned environment of
# scripts/setup-python.sh. The tools take turns, ROUNDS times (default 3), so
# that a slow minute of a shared machine falls on all of them; the table shows
# each tool's median round. A benchmark, not a test.
#
# Usage: [ROUNDS=N] bench/run_cpu_comparison.sh [results-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results/cpu}"
mkdir -p "${out}"
python="$(./scripts/setup-python.sh)/bin/python"
shape=(--batch 4 --seq 128 --threads 2 --device cpu)
"${python}" -c 'import torch, transformers, peft; print("reference: torch", torch.__version__,
      "transformers", transformers.__version__, "peft", peft.__version__, "| BLAS",
      "mkl" if torch.backends.mkl.is_available() else "other")'
rm -f "${out}"/pythia70m-*.json
for round in $(seq "${ROUNDS:-3}"); do
  for method in lora full; do
    name="pythia70m-${method}"
    build/app/loralab-cli bench preset:pythia-70m --method "${method}" "${shape[@]}" \
      --out "${out}/${name}.loralab.${round}.json" >/dev/null
    if [ -x build-cuda/app/loralab-cli ]; then
      build-cuda/app/loralab-cli bench preset:pythia-70m --method "${method}" "${shape[@]}" \
        --out "${out}/${name}.loralab-libtorch2.${round}.json" >/dev/null
    fi
    "${python}" bench/peft_bench.py --preset pythia-70m --method "${method}" "${shape[@]}" \
      --out "${out}/${name}.peft-eager.${round}.json" >/dev/null 2>&1
  done
done
"${python}" bench/compare_results.py "${out}"
