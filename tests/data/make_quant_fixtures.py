#!/usr/bin/env python3
"""Reference data for LoRA Lab's quantized base weights, made with bitsandbytes on the CPU.

tests/engine/test_quantization.cpp compares LoRA Lab against these files:

  quant/format_<case>.safetensors   one weight matrix per case and what bitsandbytes makes of it:
      input                          the weight (F16 for values on the fp16 grid, quantized as float32;
                                     F32; BF16 for the bf16 case, quantized as bfloat16)
      int8.codes, int8.scale         bitsandbytes.functional.int8_vectorwise_quant (LLM.int8's weight format)
      int8.dequant                   int8_vectorwise_dequant (F32; some cases)
      <type>.<stats>.packed          quantize_4bit(W, blocksize=64, quant_type=<type>,
                                     compress_statistics=<stats> == "double"): the packed bytes [(n+1)/2, 1]
      <type>.<stats>.absmax          QuantState.absmax (F32 blocks, or U8 with double quantization)
      <type>.<stats>.code            QuantState.code (the 16-value code book)
      <type>.<stats>.offset          QuantState.offset (double only; a 1-element F32)
      <type>.<stats>.state2.absmax   QuantState.state2.absmax (double only)
      <type>.<stats>.state2.code     QuantState.state2.code (double only; the 256-value dynamic map)
      <type>.<stats>.dequant         dequantize_4bit to float32 (some cases and variants)
      <type>.<stats>.dequant_bf16    dequantize_4bit to bfloat16 (some cases and variants)
    where <type> is nf4 or fp4 and <stats> plain or double.
  quant/model_<model>.safetensors   for a fixture model with its fixture adapter, loaded by transformers
                                     with BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4',
                                     bnb_4bit_use_double_quant=<double>, bnb_4bit_compute_dtype=float32)
                                     on the CPU and PEFT: `logits` of the first batch row at up to 16 of
                                     its valid `positions`, and the gradient of the loss w.r.t. every LoRA parameter
                                     (PEFT's in-memory names, as in fixtures/reference/*_lora_grads).
  quant/models.json                  per model: which double-quantization setting the safetensors file
                                     used, and the loss of the batch for nf4 / fp4, plain / double.

The batch is the one of fixtures/reference/<model>.json. Run with the pinned reference stack:

  $(scripts/setup-python.sh)/bin/python tests/data/make_quant_fixtures.py
"""
import argparse
import json
import pathlib
import sys

import torch
import bitsandbytes
import bitsandbytes.functional as F
import peft
import safetensors.torch
import transformers

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
import bnb_cpu  # noqa: E402  (bitsandbytes' CPU dequantization, checked)
FIXTURES = HERE / "fixtures"
BLOCK = 64


def format_cases():
    """The weight matrices: name -> (weight, dtype it is stored in, variants whose float32 dequantization
    is stored, variants whose bfloat16 dequantization is stored). Weights stored as F16 hold values of the
    fp16 grid and are quantized as float32; the bf16 case is quantized as bfloat16."""
    g = torch.Generator().manual_seed(20261201)
    every = [(qt, stats) for qt in ("nf4", "fp4") for stats in ("plain", "double")]
    some = [("nf4", "double"), ("fp4", "plain")]

    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def fp16_grid(w):
        return w.to(torch.float16).float()

    cases = {}
    cases["random"] = (fp16_grid(normal(32, 192)), torch.float16, [], some)
    cases["random_bf16"] = (normal(32, 192).to(torch.bfloat16), torch.bfloat16, [], some)

    w = normal(48, 128)
    spikes = torch.rand(48, 128, generator=g) < 0.01
    w[spikes] *= 100.0
    w[:, 17] *= 20.0
    cases["outliers"] = (fp16_grid(w), torch.float16, [], some)

    # Zero rows, a zero block, and values placed exactly on the rounding boundaries: with a block
    # absmax of 1.0 the scaled value is the value itself, so ties between two code values are hit
    # exactly, and so are the fp32 neighbours of each boundary on either side.
    w = normal(16, 128)
    w[0] = 0.0
    w[5, :64] = 0.0
    for qt, row in (("nf4", 1), ("fp4", 2)):
        code = F.get_4bit_type(qt, device="cpu").sort().values
        mids = (code[:-1] + code[1:]) / 2
        first = torch.cat([torch.tensor([1.0]), mids, -mids])
        first = torch.cat([first, torch.zeros(64 - first.numel())])
        up = torch.nextafter(mids, torch.tensor(2.0))
        down = torch.nextafter(mids, torch.tensor(-2.0))
        second = torch.cat([torch.tensor([-1.0]), up, down])
        second = torch.cat([second, torch.full((64 - second.numel(),), 1e-4)])
        w[row] = torch.cat([first, second])
    # FP4 has two zeros (+0 and -0): exact zeros, -0.0 and tiny values of either sign.
    w[3, :64] = torch.tensor([1.0, 0.0, -0.0, 1e-4, -1e-4, 1e-7, -1e-7, 2.6e-3, -2.6e-3] + [0.0] * 55)
    # int8 ties: with a row absmax of 127, codes near k + 0.5.
    w[4] = torch.cat([torch.tensor([127.0, 0.5, 1.5, 2.5, -0.5, -1.5, 126.5, -126.5]),
                      torch.arange(120, dtype=torch.float32) * 0.25 - 15.0])
    w[6] = normal(128, std=1e4)
    w[7] = normal(128, std=1e-30)
    cases["zeros_and_ties"] = (w, torch.float32, every, some)

    # Rows of 70: blocks run across rows, and the last block holds 30 values.
    cases["ragged"] = (fp16_grid(normal(37, 70)), torch.float16, every, every)
    # 65 values: a last block of one value and a padding nibble.
    cases["odd"] = (fp16_grid(normal(5, 13)), torch.float16, every, every)
    # 258 blocks: two blocks of double quantization (256 and 2), absmax spread over rows.
    w = normal(129, 128) * torch.exp(torch.randn(129, 1, generator=g))
    cases["many_blocks"] = (fp16_grid(w), torch.float16, [], [])
    return cases


def format_tensors(w, stored, dequant_f32, dequant_bf16):
    out = {"input": w.to(stored)}
    codes, scale, _ = F.int8_vectorwise_quant(w.clone())
    out["int8.codes"] = codes
    out["int8.scale"] = scale
    if dequant_f32:
        out["int8.dequant"] = F.int8_vectorwise_dequant(codes, scale)
    for qt in ("nf4", "fp4"):
        for stats in ("plain", "double"):
            key = "%s.%s." % (qt, stats)
            packed, state = F.quantize_4bit(w, blocksize=BLOCK, quant_type=qt, compress_statistics=stats == "double")
            assert state.blocksize == BLOCK and tuple(state.shape) == tuple(w.shape) and state.dtype == w.dtype
            out[key + "packed"] = packed
            out[key + "absmax"] = state.absmax
            out[key + "code"] = state.code
            if stats == "double":
                assert state.state2.blocksize == 256 and state.state2.dtype == torch.float32
                out[key + "offset"] = state.offset.reshape(1)
                out[key + "state2.absmax"] = state.state2.absmax
                out[key + "state2.code"] = state.state2.code
            for dtype, variants, suffix in ((torch.float32, dequant_f32, "dequant"),
                                            (torch.bfloat16, dequant_bf16, "dequant_bf16")):
                if (qt, stats) not in variants:
                    continue
                as_dtype = F.QuantState(absmax=state.absmax, shape=state.shape, code=state.code, blocksize=BLOCK,
                                        quant_type=qt, dtype=dtype, offset=state.offset, state2=state.state2)
                out[key + suffix] = F.dequantize_4bit(packed, as_dtype)
    return {k: v.contiguous() for k, v in out.items()}


def batch(model):
    ref = json.loads((FIXTURES / "reference" / (model + ".json")).read_text())
    return (torch.tensor(ref["input_ids"]), torch.tensor(ref["attention_mask"]), torch.tensor(ref["labels"]))


def quantized_peft(model, quant_type, double):
    config = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=quant_type,
                                             bnb_4bit_use_double_quant=double, bnb_4bit_compute_dtype=torch.float32)
    base = transformers.AutoModelForCausalLM.from_pretrained(str(FIXTURES / "models" / model), dtype=torch.float32,
                                                             quantization_config=config, device_map="cpu")
    # On CPUs with AVX-512 BF16, bitsandbytes answers inference calls with a kernel of its own (repacked
    # weights for rows in multiples of 32, bf16 products); the references are its fp32 4-bit product.
    for module in base.modules():
        if type(module).__name__ == "Linear4bit":
            module.support_avx512bf16_for_cpu = False
    adapter = FIXTURES / "adapters" / (model + "-lora-r4")
    return peft.PeftModel.from_pretrained(base, str(adapter), is_trainable=True)


def model_reference(model, double):
    ids, mask, labels = batch(model)
    losses = {}
    for qt in ("nf4", "fp4"):
        for d in (False, True):
            net = quantized_peft(model, qt, d).eval()
            with torch.no_grad():
                losses["%s_%s" % (qt, "double" if d else "plain")] = net(input_ids=ids, attention_mask=mask,
                                                                          labels=labels).loss.item()
    net = quantized_peft(model, "nf4", double).eval()
    out = net(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    # At most 16 of the first row's valid positions, spread over it (early and late in the sequence).
    valid = mask[0].nonzero().flatten()
    positions = valid[::(valid.numel() + 15) // 16]
    tensors = {"positions": positions.contiguous(),
               "logits": out.logits[0, positions].detach().float().contiguous()}
    for name, p in net.named_parameters():
        if "lora_" in name:
            assert p.grad is not None, name
            tensors[name] = p.grad.detach().contiguous()
    return tensors, losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(HERE / "quant"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    transformers.logging.disable_progress_bar()
    print(bnb_cpu.checked_dequantization())
    for name, (w, stored, dequant_f32, dequant_bf16) in format_cases().items():
        path = out / ("format_%s.safetensors" % name)
        safetensors.torch.save_file(format_tensors(w, stored, dequant_f32, dequant_bf16), str(path),
                                    metadata={"blocksize": str(BLOCK), "nested_blocksize": "256"})
        print("%s: %d bytes" % (path.name, path.stat().st_size))
    models = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__, "bitsandbytes": bitsandbytes.__version__}}
    for model, double in (("tiny-gpt-neox", False), ("tiny-llama-spm", True), ("tiny-qwen2", True)):
        tensors, losses = model_reference(model, double)
        path = out / ("model_%s.safetensors" % model)
        safetensors.torch.save_file(tensors, str(path))
        models[model] = {"double_quant": double, "loss": losses}
        print("%s: %d bytes, losses %s" % (path.name, path.stat().st_size, losses))
    (out / "models.json").write_text(json.dumps(models, indent=1) + "\n")


if __name__ == "__main__":
    main()
