#!/usr/bin/env python3
"""LoRA Lab's GGUF export against llama.cpp's own convert_hf_to_gguf.py (label `interop`).

The converter runs on the merged safetensors export that unit/gguf_export_fixtures wrote beside the
GGUF files, for f16 and q8_0; every tensor must be byte for byte the converter's (name, type, shape,
data), and every metadata key the converter writes must be in LoRA Lab's file with the same value
and type, except general.name and general.size_label (labels the converter makes up from the folder).

llama.cpp is not a package of the pinned stack: point LORALAB_LLAMA_CPP at a llama.cpp source folder
(the one inside the llama-cpp-python sdist from PyPI will do:
  pip download --no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36 -d /tmp/l
  tar xzf /tmp/l/llama_cpp_python-0.3.36.tar.gz -C /tmp/l
  export LORALAB_LLAMA_CPP=/tmp/l/llama_cpp_python-0.3.36/vendor/llama.cpp
). Without it the check is skipped (exit 77). Two things are given to the converter that it cannot
work out for the fixtures: the pre-tokenizer name of their home-made BPE tokenizers (its table knows
published tokenizers by a hash of their output), and config.json's rotary_pct, which transformers 5's
AutoConfig drops while the converter's GPT-NeoX code still reads it.

  LORALAB_LLAMA_CPP=... python3 tests/python/compare_with_converter.py \
      --export build/test-scratch/gguf-export/tiny-gpt-neox --pre gpt-2
"""
import argparse
import contextlib
import io
import json
import os
import pathlib
import runpy
import sys
import tempfile

LABELS = {"general.name", "general.size_label"}


def convert(llama_cpp, merged, file_type, out, pre):
    sys.path[:0] = [str(llama_cpp), str(llama_cpp / "gguf-py")]
    import conversion.base as base
    if pre:
        base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre
    original = base.ModelBase.load_hparams
    if not getattr(original, "_loralab", False):
        def load_hparams(dir_model, is_mistral_format):
            config = original(dir_model, is_mistral_format)
            for key, value in json.load(open(pathlib.Path(dir_model) / "config.json")).items():
                config.setdefault(key, value)
            return config
        load_hparams._loralab = True
        base.ModelBase.load_hparams = staticmethod(load_hparams)
    sys.argv = ["convert_hf_to_gguf.py", str(merged), "--outtype", file_type, "--outfile", str(out)]
    log = io.StringIO()
    try:
        with contextlib.redirect_stderr(log):
            runpy.run_path(str(llama_cpp / "convert_hf_to_gguf.py"), run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise AssertionError("the converter exited with %r:\n%s" % (e.code, log.getvalue()[-3000:]))


def compare(ours_path, theirs_path):
    import numpy as np
    import gguf
    ours, theirs = gguf.GGUFReader(ours_path), gguf.GGUFReader(theirs_path)
    problems = []
    for key, f in theirs.fields.items():
        if key.startswith("GGUF.") or key in LABELS:
            continue
        mine = ours.fields.get(key)
        if mine is None:
            problems.append("key %s (%r) is missing" % (key, f.contents()))
        elif mine.types != f.types or mine.contents() != f.contents():
            problems.append("key %s: %s, the converter's %s" % (key, str(mine.contents())[:80], str(f.contents())[:80]))
    mine = {t.name: t for t in ours.tensors}
    same = 0
    for t in theirs.tensors:
        m = mine.pop(t.name, None)
        if m is None:
            problems.append("tensor %s is missing" % t.name)
        elif m.tensor_type != t.tensor_type or list(m.shape) != list(t.shape):
            problems.append("tensor %s: %s %s, the converter's %s %s" % (t.name, m.tensor_type.name, list(m.shape), t.tensor_type.name, list(t.shape)))
        elif not np.array_equal(np.asarray(m.data).view(np.uint8), np.asarray(t.data).view(np.uint8)):
            problems.append("tensor %s: other bytes than the converter's" % t.name)
        else:
            same += 1
    problems += ["tensor %s is not in the converter's file" % name for name in mine]
    extra = sorted(k for k in ours.fields if not k.startswith("GGUF.") and k not in theirs.fields)
    return problems, same, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", required=True, help="the folder unit/gguf_export_fixtures wrote for one model")
    parser.add_argument("--pre", default="", help="tokenizer.ggml.pre for a BPE tokenizer the converter does not know")
    args = parser.parse_args()
    if not os.environ.get("LORALAB_LLAMA_CPP"):
        print("SKIP: LORALAB_LLAMA_CPP names no llama.cpp source folder (see this script's help)")
        return 77
    llama_cpp = pathlib.Path(os.environ["LORALAB_LLAMA_CPP"])
    export = pathlib.Path(args.export)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for file_type in ("f16", "q8_0"):
            out = pathlib.Path(tmp) / ("converter-%s.gguf" % file_type)
            try:
                convert(llama_cpp, export / "merged", file_type, out, args.pre)
            except AssertionError as e:
                print("FAIL: %s" % e, file=sys.stderr)
                return 1
            problems, same, extra = compare(export / ("model-%s.gguf" % file_type), out)
            for p in problems:
                print("FAIL: %s %s: %s" % (export.name, file_type, p), file=sys.stderr)
            failed = failed or bool(problems)
            print("%s %s: %d tensors byte for byte the converter's; its metadata present and equal; LoRA Lab adds %s" %
                  (export.name, file_type, same, extra))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
