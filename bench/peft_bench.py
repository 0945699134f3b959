#!/usr/bin/env python3
"""Times training steps of Hugging Face transformers + PEFT, the reference LoRA Lab is compared with.

Same configurations and JSON keys as `loralab-cli bench`: random token ids, labels = inputs,
AdamW(lr 5e-5), LoRA r=8 alpha=16 dropout 0 on all linear layers (optionally the output head too),
CUDA synchronised around forward, backward and the optimizer step, peak memory from the caching
allocator (CPU: resident set), median of the measured steps after the warm-up steps. With --compile
the model runs under torch.compile; the time until the first step completes (the compile) is reported
as first_step_s.

  python3 bench/peft_bench.py --preset qwen1.5-0.5b --method lora --dtype bf16 --batch 8 --seq 512 --out r.json
"""
import argparse
import json
import resource
import statistics
import time

import torch

PRESETS = {
    # The official shapes (config.json of each model on the Hub).
    "pythia-70m": dict(arch="gpt_neox", hidden=512, layers=6, heads=8, inter=2048, vocab=50304),
    "pythia-160m": dict(arch="gpt_neox", hidden=768, layers=12, heads=12, inter=3072, vocab=50304),
    "pythia-410m": dict(arch="gpt_neox", hidden=1024, layers=24, heads=16, inter=4096, vocab=50304),
    "pythia-1.4b": dict(arch="gpt_neox", hidden=2048, layers=24, heads=16, inter=8192, vocab=50304),
    "qwen1.5-0.5b": dict(arch="qwen2", hidden=1024, layers=24, heads=16, inter=2816, vocab=151936),
}


def build_model(preset, dtype, device):
    import transformers

    p = PRESETS[preset]
    if p["arch"] == "gpt_neox":
        config = transformers.GPTNeoXConfig(
            vocab_size=p["vocab"], hidden_size=p["hidden"], num_hidden_layers=p["layers"],
            num_attention_heads=p["heads"], intermediate_size=p["inter"], rotary_pct=0.25,
            max_position_embeddings=2048, use_parallel_residual=True, tie_word_embeddings=False)
    else:
        config = transformers.Qwen2Config(
            vocab_size=p["vocab"], hidden_size=p["hidden"], num_hidden_layers=p["layers"],
            num_attention_heads=p["heads"], num_key_value_heads=p["heads"], intermediate_size=p["inter"],
            rope_theta=1e6, rms_norm_eps=1e-6, max_position_embeddings=32768, tie_word_embeddings=True)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.to(device), config


def linear_weight_params(model):
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def flops_per_token(config, matmul_params, seq, full):
    attention = 4.0 * seq * config.hidden_size * config.num_hidden_layers
    return (6.0 if full else 4.0) * matmul_params + 3.0 * attention


def peak_memory(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="pythia-70m", choices=sorted(PRESETS))
    ap.add_argument("--method", default="lora", choices=["full", "lora", "lora-head"])
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=0.0)
    ap.add_argument("--out")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    t0 = time.perf_counter()
    model, config = build_model(args.preset, dtype, device)
    matmul_params = linear_weight_params(model)
    full = args.method == "full"
    if not full:
        import peft

        targets = "all-linear"
        if args.method == "lora-head":
            # "all-linear" leaves the output head out; name every linear layer explicitly instead.
            targets = sorted({n.split(".")[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
        lora = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets, task_type="CAUSAL_LM")
        model = peft.get_peft_model(model, lora)
        # Adapters train in fp32 over bf16 weights, as in LoRA Lab.
        for n, p in model.named_parameters():
            if p.requires_grad:
                p.data = p.data.float()
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    total_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=5e-5)
    step_model = torch.compile(model) if args.compile else model
    setup_s = time.perf_counter() - t0

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    ids = torch.randint(0, config.vocab_size, (args.batch, args.seq), device=device)
    fwd, bwd, opt, steps = [], [], [], []
    train_start = time.perf_counter()
    first_step_s = 0.0
    peak = 0
    for i in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        sync()
        s0 = time.perf_counter()
        loss = step_model(input_ids=ids, labels=ids).loss
        sync()
        s1 = time.perf_counter()
        loss.backward()
        sync()
        s2 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        s3 = time.perf_counter()
        if i == 0:
            first_step_s = s3 - train_start
        if i >= args.warmup:
            fwd.append((s1 - s0) * 1e3)
            bwd.append((s2 - s1) * 1e3)
            opt.append((s3 - s2) * 1e3)
            steps.append((s3 - s0) * 1e3)
            peak = max(peak, peak_memory(device))

    median_step = statistics.median(steps)
    tokens_per_s = 1000.0 * args.batch * args.seq / median_step
    fpt = flops_per_token(config, matmul_params, args.seq, full)
    result = {
        "tool": "peft-compile" if args.compile else "peft-eager",
        "model": "preset:" + args.preset,
        "method": args.method,
        "dtype": args.dtype,
        "device": str(device),
        "batch_size": args.batch,
        "sequence_length": args.seq,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "total_params": total_params,
        "trainable_params": sum(p.numel() for p in trainable),
        "median_forward_ms": statistics.median(fwd),
        "median_backward_ms": statistics.median(bwd),
        "median_optimizer_ms": statistics.median(opt),
        "median_step_ms": median_step,
        "tokens_per_s": tokens_per_s,
        "peak_memory_bytes": peak,
        "flops_per_token": fpt,
        "achieved_tflops": tokens_per_s * fpt / 1e12,
        "utilisation": tokens_per_s * fpt / 1e12 / args.peak_tflops if args.peak_tflops else None,
        "setup_s": setup_s,
        "first_step_s": first_step_s,
        "step_ms": steps,
    }
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
