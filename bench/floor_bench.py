#!/usr/bin/env python3
"""The floor of a LoRA training step: only the matrix products no implementation can avoid, in bf16.

For every frozen linear layer, the forward product and the input-gradient product (weight gradients
are not needed for frozen weights); attention's two batched products forward and their gradients;
and the output head forward and input gradient. Every other cost (norms, activations, adapters,
the optimizer, kernel launches) is left out, so tokens/s of a real step divided by the floor's is the
fraction of the unavoidable work a tool achieves.

  python3 bench/floor_bench.py --preset qwen1.5-0.5b --batch 8 --seq 512 --out floor.json
"""
import argparse
import json
import statistics
import time

import torch

from peft_bench import PRESETS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="qwen1.5-0.5b", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out")
    args = ap.parse_args()

    p = PRESETS[args.preset]
    device = torch.device(args.device)
    dt = torch.bfloat16
    h, inter, layers, heads, vocab = p["hidden"], p["inter"], p["layers"], p["heads"], p["vocab"]
    tokens = args.batch * args.seq
    if p["arch"] == "gpt_neox":
        shapes = [(3 * h, h), (h, h), (inter, h), (h, inter)]
    else:
        shapes = [(h, h), (h, h), (h, h), (h, h), (inter, h), (inter, h), (h, inter)]
    weights = [torch.randn(o, i, device=device, dtype=dt) for o, i in shapes]
    head = torch.randn(vocab, h, device=device, dtype=dt)
    x = {i: torch.randn(tokens, i, device=device, dtype=dt) for _, i in shapes}
    gy = {o: torch.randn(tokens, o, device=device, dtype=dt) for o, _ in shapes}
    hd = h // heads
    q = torch.randn(args.batch * heads, args.seq, hd, device=device, dtype=dt)
    probs = torch.randn(args.batch * heads, args.seq, args.seq, device=device, dtype=dt)
    xh = torch.randn(tokens, h, device=device, dtype=dt)
    gl = torch.randn(tokens, vocab, device=device, dtype=dt)

    def step():
        for _ in range(layers):
            for w in weights:
                o, i = w.shape
                torch.mm(x[i], w.t())   # forward
                torch.mm(gy[o], w)      # input gradient
            s = torch.bmm(q, q.transpose(1, 2))   # scores
            torch.bmm(probs, q)                   # weighted values
            torch.bmm(probs, q)                   # grad wrt probs @ v (two products each way)
            torch.bmm(probs.transpose(1, 2), q)
            torch.bmm(s, q)
            torch.bmm(s.transpose(1, 2), q)
        torch.mm(xh, head.t())
        torch.mm(gl, head)

    times = []
    for i in range(args.warmup + args.steps):
        torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize(device)
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    result = {"tool": "floor-bf16", "model": "preset:" + args.preset, "method": "lora", "dtype": "bf16",
              "batch_size": args.batch, "sequence_length": args.seq, "median_step_ms": ms,
              "tokens_per_s": 1000.0 * tokens / ms, "step_ms": times}
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
