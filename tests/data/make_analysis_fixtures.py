#!/usr/bin/env python3
"""Makes the fixtures of the weight-space analysis tests (tests/engine/test_weight_analysis.cpp).

Run it with the pinned reference stack (scripts/setup-python.sh --existing prints its folder):

  $(scripts/setup-python.sh --existing)/bin/python tests/data/make_analysis_fixtures.py

It writes, under tests/data/analysis/:
- tiny-gpt-neox-full/: a full fine-tuning checkpoint of tests/data/fixtures/models/tiny-gpt-neox
  (config.json + model.safetensors, float16 as the base). Every linear weight W (the output head
  too) becomes W + 0.5 * dW_lora + 0.01 * N(0, 1), where dW_lora is the fixture adapter's update
  of that layer (zero where the adapter has none) and the noise is drawn from a generator seeded
  with 20241028; the sum is rounded to float16 as it is stored. Half of the LoRA update goes in so
  that the two fixture updates share directions and their subspace similarity is a number worth
  checking.
- reference.json: for each fixture adapter over its base model ("lora/<model>") and for that full
  checkpoint ("full/tiny-gpt-neox"), per linear layer the update's Frobenius norm, the base
  weight's, their ratio, the singular values, the numerical rank, both effective ranks and the
  intruder dimensions (top 10 singular vectors of W + dW against every singular vector of W,
  epsilon 0.5); and the subspace similarity of the LoRA and the full update of tiny-gpt-neox per
  layer, on right and on left singular vectors. All in float64 with torch.linalg.svd.

The definitions are the ones LoRA Lab implements (engine/analysis/spectrum.h):
- LoRA's update is (alpha / r) * B A (alpha / sqrt(r) with rsLoRA), checked here against PEFT's own
  get_delta_weight; full fine-tuning's is the trained weight minus the base weight.
- effective rank: exp of the Shannon entropy of s_i / sum(s) (Roy & Vetterli 2007); energy rank:
  the smallest k with sum_{i<=k} s_i^2 >= 0.9 * sum s_i^2; numerical rank: the count of
  s_i > s_1 * max(m, n) * eps(float64).
- subspace similarity (LoRA paper, Section 7): ||U_a[:, :k]^T U_b[:, :k]||_F^2 / k with
  k = min(8, rank_a, rank_b).
- intruder cosine of the j-th singular vector of W + dW: max_i |cos(u'_j, u_i)| over the left
  singular vectors u_i of W (Shuttleworth et al. 2024); an intruder when below epsilon.
"""
import json
import math
import os
import shutil

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
OUT = os.path.join(HERE, "analysis")
MODELS = ["tiny-gpt-neox", "tiny-qwen2", "tiny-llama-spm"]
FULL_MODEL = "tiny-gpt-neox"
SEED = 20241028
NOISE = 0.01
LORA_SHARE = 0.5
TOP_K = 10
EPSILON = 0.5
SUBSPACE_K = 8
ENERGY = 0.9
PREFIX = "base_model.model."


def model_weights(model):
    folder = os.path.join(FIXTURES, "models", model)
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        weights = {}
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            weights.update(load_file(os.path.join(folder, shard)))
        return weights
    return load_file(os.path.join(folder, "model.safetensors"))


def lora_updates(model):
    """{module: (dW float64, scale, rank)} from the fixture adapter's files."""
    folder = os.path.join(FIXTURES, "adapters", model + "-lora-r4")
    config = json.load(open(os.path.join(folder, "adapter_config.json")))
    factors = load_file(os.path.join(folder, "adapter_model.safetensors"))
    r = config["r"]
    scale = config["lora_alpha"] / (math.sqrt(r) if config.get("use_rslora") else r)
    out = {}
    for key in sorted(factors):
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[len(PREFIX):-len(".lora_A.weight")]
        a = factors[key].double()
        b = factors[PREFIX + module + ".lora_B.weight"].double()
        out[module] = (scale * b @ a, scale, r)
    return out


def check_against_peft(model, updates):
    """PEFT's own delta weights equal the (alpha / r) B A used here."""
    import transformers
    import peft

    base = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, "models", model),
                                                             dtype=torch.float32)
    tuned = peft.PeftModel.from_pretrained(base, os.path.join(FIXTURES, "adapters", model + "-lora-r4"))
    seen = 0
    for name, module in tuned.named_modules():
        if not hasattr(module, "get_delta_weight") or "default" not in getattr(module, "lora_A", {}):
            continue
        plain = name[len(PREFIX):] if name.startswith(PREFIX) else name
        # PEFT multiplies in float32: equal to float32's precision.
        delta = module.get_delta_weight("default").double()
        ours = updates[plain][0]
        assert float(torch.linalg.norm(delta - ours) / torch.linalg.norm(ours)) < 1e-6, plain
        seen += 1
    assert seen == len(updates), (seen, len(updates))


def kind_and_layer(module):
    parts = module.split(".")
    layer = next((int(p) for p in parts if p.isdigit()), -1)
    return parts[-1], layer


def numerical_rank(s, shape):
    if s.numel() == 0 or s[0] == 0:
        return 0
    return int((s > s[0] * max(shape) * torch.finfo(torch.float64).eps).sum())


def effective_rank(s):
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return math.exp(float(-(p * p.log()).sum()))


def energy_rank(s):
    energy = s * s
    total = float(energy.sum())
    if total <= 0:
        return 0
    running = torch.cumsum(energy, 0)
    return int((running < ENERGY * total).sum()) + 1


def intruder_cosines(base, tuned):
    u_base = torch.linalg.svd(base, full_matrices=False)[0]
    u_tuned = torch.linalg.svd(tuned, full_matrices=False)[0]
    k = min(TOP_K, u_tuned.shape[1])
    return (u_tuned[:, :k].T @ u_base).abs().max(dim=1).values.tolist()


def layer_record(module, base, delta, low_rank):
    """The numbers for one layer; `low_rank` is the adapter's r (0 for a full update)."""
    kind, layer = kind_and_layer(module)
    u, s, vh = torch.linalg.svd(delta, full_matrices=False)
    if low_rank:
        s = s[:low_rank]
    cosines = intruder_cosines(base, base + delta)
    record = {
        "module": module, "kind": kind, "layer": layer, "shape": list(delta.shape),
        "update_norm": float(torch.linalg.norm(delta)), "base_norm": float(torch.linalg.norm(base)),
        "singular_values": s.tolist(), "numerical_rank": numerical_rank(s, delta.shape),
        "effective_rank": effective_rank(s), "energy_rank_90": energy_rank(s),
        "intruder_cosines": cosines, "intruder_count": sum(1 for c in cosines if c < EPSILON),
    }
    record["relative_norm"] = record["update_norm"] / record["base_norm"]
    return record, u, vh


def similarity(a, b, k):
    """a, b: [dim, >= k] orthonormal columns."""
    return float(torch.linalg.norm(a[:, :k].T @ b[:, :k]) ** 2 / k)


def main():
    os.makedirs(OUT, exist_ok=True)
    reference = {"top_k": TOP_K, "epsilon": EPSILON, "subspace_k": SUBSPACE_K, "energy_fraction": ENERGY,
                 "noise": NOISE, "lora_share": LORA_SHARE, "seed": SEED, "cases": {}}
    vectors = {}
    for model in MODELS:
        weights = model_weights(model)
        updates = lora_updates(model)
        check_against_peft(model, updates)
        layers = []
        for module, (delta, scale, r) in updates.items():
            record, u, vh = layer_record(module, weights[module + ".weight"].double(), delta, r)
            record["lora_scale"] = scale
            layers.append(record)
            vectors[("lora", model, module)] = (u[:, :r], vh[:r].T)
        reference["cases"]["lora/" + model] = {"base": model, "layers": layers}

    # The full checkpoint: every linear weight perturbed, saved as the base is (float16).
    weights = model_weights(FULL_MODEL)
    updates = lora_updates(FULL_MODEL)
    generator = torch.Generator().manual_seed(SEED)
    trained = {}
    layers = []
    for key in sorted(weights):
        tensor = weights[key]
        if not key.endswith(".weight") or tensor.dim() != 2 or "embed_in" in key:
            trained[key] = tensor.clone()
            continue
        module = key[:-len(".weight")]
        base = tensor.double()
        perturbation = NOISE * torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
        if module in updates:
            perturbation += LORA_SHARE * updates[module][0]
        trained[key] = (base + perturbation).to(tensor.dtype)
        delta = trained[key].double() - base
        # LoRA Lab calls GPT-NeoX's head embed_out; files written by transformers 5 say lm_head.
        name = "embed_out" if module == "lm_head" else module
        record, u, vh = layer_record(name, base, delta, 0)
        layers.append(record)
        vectors[("full", FULL_MODEL, name)] = (u, vh.T)
    reference["cases"]["full/" + FULL_MODEL] = {"base": FULL_MODEL, "layers": layers}
    folder = os.path.join(OUT, FULL_MODEL + "-full")
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(os.path.join(FIXTURES, "models", FULL_MODEL, "config.json"), os.path.join(folder, "config.json"))
    save_file(trained, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})

    comparison = []
    for record in reference["cases"]["lora/" + FULL_MODEL]["layers"]:
        module = record["module"]
        full = next(r for r in layers if r["module"] == module)
        k = min(SUBSPACE_K, record["numerical_rank"], full["numerical_rank"])
        (ua, va), (ub, vb) = vectors[("lora", FULL_MODEL, module)], vectors[("full", FULL_MODEL, module)]
        comparison.append({"module": module, "k": k, "right": similarity(va, vb, k), "left": similarity(ua, ub, k)})
    reference["comparison"] = {"a": "lora/" + FULL_MODEL, "b": "full/" + FULL_MODEL, "layers": comparison}

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
