#!/usr/bin/env python3
"""Checks LoRA Lab's files against transformers + PEFT on a machine that has them.

1. An adapter LoRA Lab trained (a run's checkpoints/best or last) loads with
   PeftModel.from_pretrained, and `loralab-cli eval MODEL --adapter DIR --data FILE` agrees with the
   mean completion NLL transformers + PEFT compute with it on the same file, to 1e-4.
2. A merged checkpoint LoRA Lab exported loads with AutoModelForCausalLM and gives the same loss.

  python3 tests/python/check_against_peft.py --cli build/app/loralab-cli \
      --model tests/data/fixtures/models/tiny-gpt-neox --adapter runs/<run>/checkpoints/best --data data.jsonl
"""
import argparse
import json
import subprocess

import torch
import transformers
import peft


def completion_nll(model, tokenizer, records):
    total, count = 0.0, 0
    for r in records:
        prompt = tokenizer(r["prompt"], add_special_tokens=False)["input_ids"]
        completion = tokenizer(r["completion"], add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt + completion])
        labels = torch.tensor([[-100] * len(prompt) + completion])
        with torch.no_grad():
            logits = model(input_ids=ids).logits.float()
        lp = torch.log_softmax(logits[0, :-1], -1)
        target = labels[0, 1:]
        keep = target != -100
        total += -lp[keep].gather(1, target[keep].unsqueeze(1)).sum().item()
        count += int(keep.sum())
    return total / count, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--data", required=True, help="prompt/completion JSONL")
    ap.add_argument("--merged", help="a merged checkpoint exported by LoRA Lab")
    args = ap.parse_args()

    records = [json.loads(l) for l in open(args.data) if l.strip()]
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.model)
    base = transformers.AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32)
    model = peft.PeftModel.from_pretrained(base, args.adapter).eval()
    reference, tokens = completion_nll(model, tokenizer, records)

    out = subprocess.run([args.cli, "eval", args.model, "--adapter", args.adapter, "--data", args.data, "--json",
                          "--device", "cpu"], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    print("PEFT loss %.8f over %d tokens; LoRA Lab %.8f over %d" % (reference, tokens, ours["loss"], ours["tokens"]))
    assert ours["tokens"] == tokens
    assert abs(ours["loss"] - reference) <= 1e-4, "eval disagrees with PEFT"

    if args.merged:
        merged = transformers.AutoModelForCausalLM.from_pretrained(args.merged, torch_dtype=torch.float32).eval()
        merged_loss, _ = completion_nll(merged, tokenizer, records)
        print("merged checkpoint loss %.8f" % merged_loss)
        assert abs(merged_loss - reference) <= 1e-4, "merged checkpoint disagrees with the adapter"
    print("OK")


if __name__ == "__main__":
    main()
