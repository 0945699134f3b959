#!/usr/bin/env bash
# One run on a CUDA machine with torch, transformers and peft: builds the
# engine and CLI against that torch's CUDA LibTorch, then measures LoRA Lab,
# PEFT eager, PEFT with torch.compile and the bf16 floor on the same GPU, and
# the CPU comparison with 2 threads for both, and prints the ratio table.
# Carry .deps/ from scripts/fetch-device-deps.sh when the machine lacks
# PCRE2/utf8proc/nlohmann/sentencepiece headers.
#
# Usage: bench/run_gpu_comparison.sh [results-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results}"
mkdir -p "$out"
torch_prefix="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
prefix="$torch_prefix"
if [ -d .deps/root/usr ]; then
  prefix="$PWD/.deps/root/usr;$torch_prefix"
  export LD_LIBRARY_PATH="$PWD/.deps/root/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DLORALAB_BUILD_UI=OFF -DLORALAB_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build-cuda -j"$(nproc)" --target loralab-cli
cli=build-cuda/app/loralab-cli

gpu() { # name preset method dtype batch seq
  local name=$1 preset=$2 method=$3 dtype=$4 batch=$5 seq=$6
  "$cli" bench "preset:$preset" --method "$method" --dtype "$dtype" --batch "$batch" --seq "$seq" --steps 10 --warmup 3 \
    --device cuda --out "$out/$name.loralab.json" >/dev/null
  python3 bench/peft_bench.py --preset "$preset" --method "$method" --dtype "$dtype" --batch "$batch" --seq "$seq" \
    --device cuda --out "$out/$name.peft-eager.json" >/dev/null
  python3 bench/peft_bench.py --preset "$preset" --method "$method" --dtype "$dtype" --batch "$batch" --seq "$seq" \
    --device cuda --compile --out "$out/$name.peft-compile.json" >/dev/null
}
gpu qwen-full-fp32 qwen1.5-0.5b full fp32 8 512
gpu qwen-lora-fp32 qwen1.5-0.5b lora fp32 8 512
gpu qwen-lora-bf16 qwen1.5-0.5b lora bf16 8 512
gpu pythia14-lora-fp32 pythia-1.4b lora fp32 4 512
gpu pythia14-lora-bf16 pythia-1.4b lora bf16 4 512
gpu pythia14-full-fp32 pythia-1.4b full fp32 4 512
python3 bench/floor_bench.py --preset qwen1.5-0.5b --batch 8 --seq 512 --out "$out/qwen-floor.json" >/dev/null
python3 bench/floor_bench.py --preset pythia-1.4b --batch 4 --seq 512 --out "$out/pythia14-floor.json" >/dev/null

for method in full lora; do
  "$cli" bench preset:pythia-70m --method "$method" --batch 4 --seq 128 --threads 2 --device cpu \
    --out "$out/cpu-pythia70m-$method.loralab.json" >/dev/null
  python3 bench/peft_bench.py --preset pythia-70m --method "$method" --batch 4 --seq 128 --threads 2 --device cpu \
    --out "$out/cpu-pythia70m-$method.peft-eager.json" >/dev/null
done
python3 bench/compare_results.py "$out"
