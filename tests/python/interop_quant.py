#!/usr/bin/env python3
"""An adapter LoRA Lab trained over a 4-bit base, loaded in PEFT over bitsandbytes' 4-bit base.

The engine test interop/quant_qlora_adapter_written trains LoRA adapters for a few steps on a fixture
model whose base weights LoRA Lab quantized to NF4 (double-quantized, fp32 compute), and writes, per
model, into <work>/<model>/:

  adapter/             the adapter (saveAdapter: adapter_config.json, adapter_model.safetensors)
  logits.safetensors   input_ids, attention_mask and LoRA Lab's logits for them; the metadata names the
                       quantization (quant_type, double_quant, compute_dtype)

This check loads the fixture model with transformers and BitsAndBytesConfig(load_in_4bit=True, ...) of
that quantization on the CPU, puts the adapter on it with PeftModel.from_pretrained (no missing or
unexpected keys), and compares the logits at the valid positions. Both sides compute in fp32 with the
same dequantized weights, so the fp32 parity tolerance applies, against bitsandbytes' Linear4bit and
against the same model with bitsandbytes' dequantized weights (dequantize_4bit) in plain fp32 layers.
On CPUs with AVX-512 BF16, bitsandbytes' Linear4bit answers inference calls with a kernel of its own
(weights repacked for it, for layers whose rows are a multiple of 32, and bf16 products: logits about
5e-4 off its fp32 product here); that kernel is switched off, so the reference is bitsandbytes' fp32
4-bit product on every CPU. Where bitsandbytes' native CPU dequantization misreads blocks that cross rows
(bnb_cpu.py), its generic dequantization stands in for it.

  python3 tests/python/interop_quant.py --model tests/data/fixtures/models/tiny-qwen2 --work build/interop/quant
"""
import argparse
import json
import pathlib
import sys

import torch
import transformers
import peft
import safetensors
import safetensors.torch
import bitsandbytes.functional as bnbf

import bnb_cpu

MAX_ABS = 1e-4  # logits of about +-5, fp32 on both sides


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a fixture model directory")
    ap.add_argument("--work", required=True, help="where the engine test wrote its files")
    args = ap.parse_args()
    torch.set_num_threads(2)
    transformers.logging.disable_progress_bar()
    print(bnb_cpu.checked_dequantization())
    model_dir = pathlib.Path(args.model).resolve()
    work = pathlib.Path(args.work) / model_dir.name
    reference = work / "logits.safetensors"
    assert reference.exists(), "%s is missing: run interop/quant_qlora_adapter_written first" % reference
    with safetensors.safe_open(str(reference), "pt") as f:
        meta = f.metadata()
    tensors = safetensors.torch.load_file(str(reference))
    print("torch %s, transformers %s, peft %s; %s" % (torch.__version__, transformers.__version__, peft.__version__, meta))
    assert meta["compute_dtype"] == "float32"

    config = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=meta["quant_type"],
                                             bnb_4bit_use_double_quant=meta["double_quant"] == "true",
                                             bnb_4bit_compute_dtype=torch.float32)
    base = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32,
                                                             quantization_config=config, device_map="cpu")
    quantized = [n for n, m in base.named_modules() if type(m).__name__ == "Linear4bit"]
    print("bitsandbytes quantized %d linear layers" % len(quantized))
    assert quantized, "transformers quantized nothing"
    for name, module in base.named_modules():
        if name in quantized:
            module.support_avx512bf16_for_cpu = False  # the fp32 4-bit product (see above)
    # The same model with bitsandbytes' dequantized weights in plain fp32 linear layers.
    dense = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    # (Taken before bitsandbytes' first product: its CPU kernel repacks the weights for itself.)
    quantized_modules = dict(base.named_modules())
    for name, module in dense.named_modules():
        if isinstance(module, torch.nn.Linear) and name in quantized:
            q = quantized_modules[name]
            module.weight.data = bnbf.dequantize_4bit(q.weight.data, q.weight.quant_state).float()
    adapter = work / "adapter"
    model = peft.PeftModel.from_pretrained(base, str(adapter)).eval()
    placed = set(peft.get_peft_model_state_dict(model, save_embedding_layers=False))
    in_file = set(safetensors.torch.load_file(str(adapter / "adapter_model.safetensors")))
    assert placed == in_file, "PEFT placed %s, the file holds %s" % (sorted(placed ^ in_file)[:6], len(in_file))
    targets = json.loads((adapter / "adapter_config.json").read_text())["target_modules"]
    print("adapter targets %s, %d tensors" % (targets, len(in_file)))

    ids, mask = tensors["input_ids"], tensors["attention_mask"]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    valid = mask.bool()
    ours = tensors["logits"][valid]
    theirs = logits[valid]
    err = (ours - theirs).abs().max().item()

    dense_model = peft.PeftModel.from_pretrained(dense, str(adapter)).eval()
    with torch.no_grad():
        exact = dense_model(input_ids=ids, attention_mask=mask).logits.float()[valid]
    dense_err = (ours - exact).abs().max().item()
    # The adapter matters: without it the logits are far from LoRA Lab's.
    with torch.no_grad(), model.disable_adapter():
        bare = model(input_ids=ids, attention_mask=mask).logits.float()[valid]
    print("logits at %d positions: max abs error %.3g against bitsandbytes' Linear4bit, %.3g against its dequantized "
          "weights; the adapter moves them by %.3g" % (int(valid.sum()), err, dense_err, (bare - theirs).abs().max().item()))
    assert (bare - theirs).abs().max().item() > 100 * MAX_ABS, "the adapter changes nothing"
    assert err <= MAX_ABS, "logits differ from bitsandbytes' by %.3g" % err
    assert dense_err <= MAX_ABS, "logits differ from those of the dequantized weights by %.3g" % dense_err
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
