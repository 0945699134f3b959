#!/usr/bin/env python3
"""LoRA Lab's files against the reference Python stack (torch, transformers, PEFT).

Each case is one CTest test (label `interop`), run on one fixture model:

  adapter_to_peft   LoRA Lab trains a short LoRA run (rsLoRA, dropout, the output head among the
                    targets); PEFT's PeftModel.from_pretrained loads the adapter with no missing or
                    unexpected keys and no warning, and gives `loralab-cli eval`'s loss.
  merged_export     `loralab-cli export RUN --merged OUT` loads with AutoModelForCausalLM and
                    AutoTokenizer, gives the adapter's loss and `loralab-cli generate`'s greedy tokens.
  full_checkpoint   the same for the checkpoint of a full fine-tuning run.
  peft_to_loralab   adapters PEFT writes (the fixture adapter, and fresh ones with rsLoRA and the head
                    among the targets) load in LoRA Lab and give PEFT's loss.
  broken_adapters   adapters with a problem (DoRA, a missing tensor, a wrong shape, an unknown target)
                    are refused with a message naming the file and the problem.

Losses are compared on the same token ids (LoRA Lab's tokenizer, `loralab-cli tokenize`), so that a
tokenizer difference cannot hide or fake an agreement; tokenizer parity has tests of its own.

  python3 tests/python/interop.py --cli build/app/loralab-cli --model tests/data/fixtures/models/tiny-qwen2 \
      --work /tmp/interop adapter_to_peft
"""
import argparse
import contextlib
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import torch
import transformers
import peft
import safetensors.torch

TOLERANCE = 1e-4  # on mean token losses of about 4-7 nats, fp32 on both sides
FACTS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"), ("Peru", "Lima"),
         ("Kenya", "Nairobi"), ("Chile", "Santiago"), ("Egypt", "Cairo")]


class Check:
    """Runs loralab-cli and compares its numbers with transformers + PEFT on one model."""

    def __init__(self, args):
        self.cli = args.cli
        self.model = str(pathlib.Path(args.model).resolve())
        self.name = pathlib.Path(self.model).name
        self.work = pathlib.Path(args.work) / self.name / args.case
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.data = self.work / "data.jsonl"
        with open(self.data, "w") as f:
            for country, city in FACTS:
                prompt = "\n\nHuman: What is the capital of %s?\n\nAssistant:" % country
                f.write(json.dumps({"prompt": prompt, "completion": " The capital of %s is %s." % (country, city)}) + "\n")
        self.records = [json.loads(line) for line in open(self.data)]
        self.token_cache = {}

    # --- loralab-cli -------------------------------------------------------------------------------
    def cli_run(self, *args, check=True):
        result = subprocess.run([self.cli, *args, "--threads", "2"], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError("loralab-cli %s failed:\n%s%s" % (" ".join(args), result.stdout, result.stderr))
        return result

    def cli_json(self, *args):
        return json.loads(self.cli_run(*args, "--json").stdout.strip().splitlines()[-1])

    def ids(self, text, model=None):
        """LoRA Lab's token ids of `text`; every text of the data set is tokenized in one call per model."""
        model = model or self.model
        if model not in self.token_cache:
            texts = [t for r in self.records for t in (r["prompt"], r["completion"])]
            lines = self.work / "texts.jsonl"
            lines.write_text("".join(json.dumps(t) + "\n" for t in texts))
            out = self.cli_run("tokenize", model, "--lines", str(lines)).stdout.splitlines()
            self.token_cache[model] = {t: json.loads(o)["ids"] for t, o in zip(texts, out)}
        cache = self.token_cache[model]
        if text not in cache:
            cache[text] = self.cli_json("tokenize", model, "--text", text)["ids"]
        return cache[text]

    def train(self, method, steps=6, **options):
        config = {"name": "%s-%s" % (self.name, method), "model": self.model, "dataset": str(self.data),
                  "method": method, "max_steps": steps, "batch_size": 4, "max_len": 64, "learning_rate": 1e-2 if
                  method == "lora" else 1e-3, "validation_fraction": 0.25, "eval_interval": steps,
                  "checkpoint_interval": steps, "samples": 0, "seed": 3, "device": "cpu",
                  "runs_dir": str(self.work / "runs")}
        config.update(options)
        path = self.work / ("%s.json" % method)
        path.write_text(json.dumps(config))
        self.cli_run("run", str(path))
        runs = sorted((self.work / "runs").iterdir())
        assert runs, "the run wrote no directory"
        return runs[-1]

    def cli_loss(self, model, adapter=None):
        args = ["eval", str(model), "--data", str(self.data), "--device", "cpu"]
        if adapter:
            args += ["--adapter", str(adapter)]
        return self.cli_json(*args)

    # --- transformers + PEFT ------------------------------------------------------------------------
    def hf_model(self, path):
        with no_warnings("AutoModelForCausalLM.from_pretrained(%s)" % path):
            model = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
        return model.eval()

    def hf_loss(self, model):
        """Mean NLL of the completion tokens; ids = tokenize(prompt) + tokenize(completion)."""
        total, count = 0.0, 0
        for r in self.records:
            prompt, completion = self.ids(r["prompt"]), self.ids(r["completion"])
            ids = torch.tensor([prompt + completion])
            with torch.no_grad():
                logits = model(input_ids=ids).logits.float()
            logp = torch.log_softmax(logits[0, len(prompt) - 1:-1], -1)
            target = torch.tensor(completion)
            total += -logp.gather(1, target.unsqueeze(1)).sum().item()
            count += len(completion)
        return total / count, count

    def hf_greedy(self, model, prompt_ids, n):
        ids = torch.tensor([prompt_ids])
        with torch.no_grad():
            for _ in range(n):
                ids = torch.cat([ids, model(input_ids=ids).logits[:, -1].argmax(-1, keepdim=True)], 1)
        return ids[0, len(prompt_ids):].tolist()

    def compare_losses(self, what, reference, ours):
        print("%s: reference %.8f over %d tokens; LoRA Lab %.8f over %d" % (what, reference[0], reference[1],
                                                                            ours["loss"], ours["tokens"]))
        assert ours["tokens"] == reference[1], "%s: token counts differ" % what
        assert abs(ours["loss"] - reference[0]) <= TOLERANCE, "%s: losses differ by %.2e" % (
            what, abs(ours["loss"] - reference[0]))

    def compare_greedy(self, what, hf_model, model_dir):
        prompt = self.records[0]["prompt"]
        ours = self.cli_json("generate", str(model_dir), "--prompt", prompt, "--max-new-tokens", "12",
                             "--no-eos-stop", "--device", "cpu")["ids"]
        theirs = self.hf_greedy(hf_model, self.ids(prompt, str(model_dir)), 12)
        print("%s greedy: LoRA Lab %s, transformers %s" % (what, ours, theirs))
        assert ours == theirs, "%s: greedy tokens differ" % what

    def check_tokenizer_loads(self, model_dir):
        with no_warnings("AutoTokenizer.from_pretrained(%s)" % model_dir):
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
        text = self.records[0]["completion"]
        print("AutoTokenizer: %s, %d tokens for %r" % (type(tokenizer).__name__,
                                                       len(tokenizer(text, add_special_tokens=False)["input_ids"]), text))


# PEFT's caution when an adapter sits on an output head that shares its weight with the input
# embedding (tie_word_embeddings): such an adapter cannot be merged into the weights, which LoRA Lab
# refuses too. Expected, and required, exactly where the head of a tied model is targeted.
TIED_HEAD_WARNING = "Model has `tie_word_embeddings=True` and a tied layer is part of the adapter"


@contextlib.contextmanager
def no_warnings(what, expected=()):
    """Fails when a Python warning or a WARNING log record of transformers / PEFT is emitted inside,
    other than the `expected` ones (substrings), each of which must appear."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append("%s: %s" % (record.name, record.getMessage()))

    handler = Collect(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("transformers", "peft", "huggingface_hub", "accelerate")]
    for logger in loggers:
        logger.addHandler(handler)
    transformers.logging.disable_progress_bar()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        records += ["%s: %s" % (w.category.__name__, w.message) for w in caught]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    for text in expected:
        assert any(text in r for r in records), "%s did not warn %r" % (what, text)
    unexpected = [r for r in records if not any(text in r for text in expected)]
    assert not unexpected, "%s warned:\n  %s" % (what, "\n  ".join(unexpected))


def head_name(model):
    return "embed_out" if "gpt-neox" in model else "lm_head"


def tied_head_warning(model_dir):
    """The warnings PEFT gives for an adapter on this model's output head."""
    tied = json.loads((pathlib.Path(model_dir) / "config.json").read_text()).get("tie_word_embeddings", False)
    return (TIED_HEAD_WARNING,) if tied else ()


def adapter_keys(adapter_dir):
    return set(safetensors.torch.load_file(str(pathlib.Path(adapter_dir) / "adapter_model.safetensors")))


def load_peft(check, adapter_dir, expected=()):
    base = check.hf_model(check.model)
    with no_warnings("PeftModel.from_pretrained(%s)" % adapter_dir, expected):
        model = peft.PeftModel.from_pretrained(base, str(adapter_dir))
    model.eval()
    # What PEFT placed on the model must be exactly what the file holds: no key left over, none missing.
    placed = set(peft.get_peft_model_state_dict(model, save_embedding_layers=False))
    in_file = adapter_keys(adapter_dir)
    assert placed == in_file, "PEFT placed %s, the file holds %s" % (sorted(placed ^ in_file)[:6], len(in_file))
    return model


# --- cases ----------------------------------------------------------------------------------------

def adapter_to_peft(check):
    run = check.train("lora", lora_targets=["all-linear", head_name(check.model)], rslora=True, lora_dropout=0.1,
                      lora_r=4, lora_alpha=8)
    adapter = run / "checkpoints" / "last"
    config = json.loads((adapter / "adapter_config.json").read_text())
    print("adapter targets %s, rsLoRA %s" % (config["target_modules"], config["use_rslora"]))
    assert "lm_head" in config["target_modules"], "the head is written under the name transformers >= 5 gives it"
    assert any(".lm_head.lora_A" in k for k in adapter_keys(adapter))
    model = load_peft(check, adapter, tied_head_warning(check.model))
    head = model.get_output_embeddings()
    assert isinstance(head, peft.tuners.lora.Linear), "PEFT did not put an adapter on the output head"
    assert head.lora_B["default"].weight.abs().sum() > 0, "the head adapter trained nothing"
    check.compare_losses("adapter", check.hf_loss(model), check.cli_loss(check.model, adapter))


def merged_export(check):
    run = check.train("lora", lora_targets=["all-linear"], lora_r=4, lora_alpha=8)
    out = check.work / "merged"
    exported = check.cli_json("export", str(run), "--merged", str(out))
    print("exported %s from %s" % (exported["out"], exported["checkpoint"]))
    merged = check.hf_model(out)
    check.check_tokenizer_loads(out)
    adapter_loss = check.cli_loss(check.model, exported["checkpoint"])
    check.compare_losses("merged export", check.hf_loss(merged), adapter_loss)
    check.compare_greedy("merged export", merged, out)
    # Exporting again into the same folder is refused; the folder stays as it was.
    again = check.cli_run("export", str(run), "--merged", str(out), check=False)
    assert again.returncode != 0 and "already exists" in again.stderr, again.stderr


def full_checkpoint(check):
    run = check.train("full", steps=4)
    checkpoint = run / "checkpoints" / "last"
    model = check.hf_model(checkpoint)
    check.check_tokenizer_loads(checkpoint)
    check.compare_losses("full checkpoint", check.hf_loss(model), check.cli_loss(checkpoint))
    check.compare_greedy("full checkpoint", model, checkpoint)


def fresh_peft_adapter(check, directory, **options):
    torch.manual_seed(7)
    base = check.hf_model(check.model)
    config = peft.LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, lora_dropout=0.05, **options)
    model = peft.get_peft_model(base, config)
    with torch.no_grad():  # PEFT starts B at zero; an adapter that changes nothing would prove nothing
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    model.save_pretrained(str(directory))
    return directory


def peft_to_loralab(check):
    fixture = pathlib.Path(check.model).parents[1] / "adapters" / (check.name + "-lora-r4")
    adapters = {"fixture adapter": fixture,
                "rsLoRA, all-linear": fresh_peft_adapter(check, check.work / "rslora", use_rslora=True,
                                                         target_modules="all-linear")}
    # PEFT's "all-linear" leaves the output head out: name every kind of linear layer, and lm_head.
    kinds = sorted({n.rsplit(".", 1)[-1] for n, m in check.hf_model(check.model).named_modules()
                    if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head")})
    adapters["rsLoRA, every linear kind + lm_head"] = fresh_peft_adapter(
        check, check.work / "named-head", use_rslora=True, target_modules=kinds + ["lm_head"])
    for what, adapter in adapters.items():
        head = "lm_head" in json.loads((adapter / "adapter_config.json").read_text())["target_modules"]
        with no_warnings("loading %s into PEFT" % what, tied_head_warning(check.model) if head else ()):
            model = peft.PeftModel.from_pretrained(check.hf_model(check.model), str(adapter)).eval()
        check.compare_losses(what, check.hf_loss(model), check.cli_loss(check.model, adapter))


def expect_refusal(check, what, adapter, *fragments):
    result = check.cli_run("eval", check.model, "--adapter", str(adapter), "--data", str(check.data), check=False)
    message = result.stderr.strip()
    print("%s: %s" % (what, message))
    assert result.returncode != 0, "%s was accepted" % what
    for fragment in fragments:
        assert fragment in message, "%s: the message lacks %r" % (what, fragment)


def broken_adapters(check):
    good = fresh_peft_adapter(check, check.work / "good", target_modules="all-linear")
    config_path, weights_path = good / "adapter_config.json", good / "adapter_model.safetensors"

    def variant(name, config=None, tensors=None):
        directory = check.work / name
        shutil.copytree(good, directory)
        if config is not None:
            (directory / "adapter_config.json").write_text(json.dumps(config))
        if tensors is not None:
            safetensors.torch.save_file(tensors, str(directory / "adapter_model.safetensors"))
        return directory

    dora = fresh_peft_adapter(check, check.work / "dora", target_modules="all-linear", use_dora=True)
    expect_refusal(check, "a DoRA adapter PEFT wrote", dora, str(dora / "adapter_config.json"), "use_dora")

    tensors = safetensors.torch.load_file(str(weights_path))
    missing = dict(tensors)
    dropped = sorted(k for k in missing if "lora_B" in k)[0]
    del missing[dropped]
    d = variant("missing-tensor", tensors=missing)
    expect_refusal(check, "a missing tensor", d, str(d / "adapter_model.safetensors"), "has no tensor")

    wrong = dict(tensors)
    key = sorted(k for k in wrong if "lora_A" in k)[0]
    wrong[key] = torch.zeros(wrong[key].shape[0] + 1, wrong[key].shape[1])
    d = variant("wrong-shape", tensors=wrong)
    expect_refusal(check, "a wrong shape", d, str(d / "adapter_model.safetensors"), key, "wrong shape")

    config = json.loads(config_path.read_text())
    config["target_modules"] = ["no_such_proj"]
    d = variant("unknown-target", config=config)
    expect_refusal(check, "an unknown target", d, str(d / "adapter_config.json"), "no_such_proj")

    for field, value in (("layers_to_transform", [0]), ("exclude_modules", ["mlp"]), ("modules_to_save", ["lm_head"])):
        config = json.loads(config_path.read_text())
        config[field] = value
        d = variant("field-" + field, config=config)
        expect_refusal(check, "adapter_config.json with " + field, d, str(d / "adapter_config.json"), field)


CASES = {f.__name__: f for f in (adapter_to_peft, merged_export, full_checkpoint, peft_to_loralab, broken_adapters)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the loralab-cli binary")
    ap.add_argument("--model", required=True, help="a fixture model directory")
    ap.add_argument("--work", required=True, help="scratch folder")
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    print("torch %s, transformers %s, peft %s" % (torch.__version__, transformers.__version__, peft.__version__))
    torch.set_num_threads(2)
    CASES[args.case](Check(args))
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
