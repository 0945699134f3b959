#!/usr/bin/env python3
"""LoRA Lab's GGUF files read by gguf-py, llama.cpp's own Python package (label `interop`).

  every_type   the file unit/gguf_writer_every_type wrote: every metadata value with its GGUF
               type, and F32, F16 and Q8_0 tensors equal to the values in the JSON beside it (Q8_0
               byte for byte as gguf.quants.quantize makes it).
  export       a fixture model with its fixture adapter, as unit/gguf_export_fixtures wrote it:
               for model-f16.gguf and model-q8_0.gguf, the metadata keys llama.cpp's loader needs
               for the architecture with the values of config.json; the tokenizer (tokens equal
               the tokenizer's own, merges for BPE, scores and token types for sentencepiece,
               special ids); the tensor names gguf-py's TensorNameMap gives the checkpoint's
               names; and every tensor equal to the merged safetensors export after the layout
               llama.cpp's convert_hf_to_gguf.py gives it (GPT-NeoX's fused qkv regrouped to all
               q, all k, all v; Llama's q/k rows permuted to interleaved rotary pairs): F16 and
               F32 exactly, Q8_0 byte for byte as gguf.quants.quantize makes it and within its
               quantization error once dequantized with gguf.quants.dequantize.

llama.cpp's convert_hf_to_gguf.py itself is not a package of the pinned stack, so the layout is
the one its public source applies, restated here, with gguf-py's constants and name map as the
authority for names, keys and types; compare_with_converter.py runs the converter itself where a
llama.cpp source folder is at hand.

  python3 tests/python/check_gguf.py --model tests/data/fixtures/models/tiny-qwen2 \
      --export build/test-scratch/gguf-export/tiny-qwen2 export
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from safetensors.torch import load_file  # numpy has no bfloat16: the fixtures' base weights are bf16

ARCH = {"gpt_neox": gguf.MODEL_ARCH.GPTNEOX, "qwen2": gguf.MODEL_ARCH.QWEN2, "llama": gguf.MODEL_ARCH.LLAMA}


def fail(message):
    raise AssertionError(message)


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        fail("metadata key %s is missing" % key)
    return f.contents()


def field_type(reader, key):
    return reader.fields[key].types


def require(condition, message):
    if not condition:
        fail(message)


def check_q8_0(name, tensor, expected):
    """Q8_0 bytes as gguf-py quantizes `expected`, and the dequantized values within the error bound."""
    rows = expected.reshape(-1, expected.shape[-1]).astype(np.float32)
    ours = np.asarray(tensor.data).reshape(rows.shape[0], -1)
    theirs = gguf.quants.quantize(rows, QT.Q8_0).reshape(ours.shape)
    blocks = np.flatnonzero(np.any((ours != theirs).reshape(-1, 34), axis=1))
    require(len(blocks) == 0, "%s: %d of %d Q8_0 blocks differ from gguf.quants.quantize" % (name, len(blocks), ours.size // 34))
    back = gguf.quants.dequantize(ours, QT.Q8_0).reshape(rows.shape)
    blocks32 = rows.reshape(-1, 32)
    d = np.abs(blocks32).max(axis=1, keepdims=True) / 127  # the block's scale before fp16 rounding
    # half a step of rounding, plus fp16's rounding of the scale (2^-11 relative) times |q| <= 127
    bound = d * (0.5 + 127 * 2.0 ** -11) + 1e-12
    error = np.abs(back.reshape(-1, 32) - blocks32)
    require(np.all(error <= bound), "%s: Q8_0 error %g exceeds its bound" % (name, float((error - bound).max())))
    return float(error.max())


def every_type(args):
    folder = pathlib.Path(args.export)
    reader = gguf.GGUFReader(folder / "every-type.gguf")
    expected = json.load(open(folder / "every-type.json"))
    V = gguf.GGUFValueType
    want = {
        "general.alignment": (64, [V.UINT32]),
        "test.uint32": (4000000000, [V.UINT32]),
        "test.int32": (-123456, [V.INT32]),
        "test.float32": (0.15625, [V.FLOAT32]),
        "test.true": (True, [V.BOOL]),
        "test.false": (False, [V.BOOL]),
        "test.string": ("h\u00e9llo \u2581world", [V.STRING]),
        "test.strings": (["a", "", "\u0120the", "x y"], [V.ARRAY, V.STRING]),
        "test.int32s": ([1, -2, 2147483647], [V.ARRAY, V.INT32]),
        "test.float32s": ([0.5, -1.25, float(np.float32(3e-8))], [V.ARRAY, V.FLOAT32]),
    }
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    require(keys == list(want), "metadata keys %s, expected %s" % (keys, list(want)))
    for key, (value, types) in want.items():
        require(field_type(reader, key) == types, "%s has types %s, expected %s" % (key, field_type(reader, key), types))
        require(field(reader, key) == value, "%s is %r, expected %r" % (key, field(reader, key), value))
    require(reader.alignment == 64, "alignment %d" % reader.alignment)
    names = [t.name for t in reader.tensors]
    require(sorted(names) == sorted(expected["tensors"]), "tensors %s" % names)
    for t in reader.tensors:
        e = expected["tensors"][t.name]
        values = np.array(e["values"], dtype=np.float32).reshape(e["shape"])
        require(list(t.shape) == e["shape"][::-1], "%s: shape %s, expected %s reversed" % (t.name, list(t.shape), e["shape"]))
        require(t.tensor_type.name == e["type"], "%s: type %s" % (t.name, t.tensor_type.name))
        require(t.data_offset % 64 == 0, "%s: data at %d, not aligned" % (t.name, t.data_offset))
        if t.tensor_type == QT.Q8_0:
            check_q8_0(t.name, t, values)
        else:
            dtype = np.float16 if t.tensor_type == QT.F16 else np.float32
            require(np.array_equal(np.asarray(t.data), values.astype(dtype)), "%s: values differ" % t.name)
    print("every metadata type and %d tensors (F32, F16, Q8_0) read back by gguf-py" % len(names))


def converter_layout(hf_name, w, config):
    """The tensor as convert_hf_to_gguf.py writes it (its public source, restated)."""
    arch = config["model_type"]
    n_head = config["num_attention_heads"]
    if arch == "gpt_neox" and ".attention.query_key_value." in hf_name:
        # per head [q k v] rows -> all q, all k, all v
        head_dim = config["hidden_size"] // n_head
        parts = w.reshape(n_head, 3, head_dim, *w.shape[1:])
        return np.concatenate([parts[:, i].reshape(-1, *w.shape[1:]) for i in range(3)], axis=0)
    if arch == "llama" and (".self_attn.q_proj." in hf_name or ".self_attn.k_proj." in hf_name):
        heads = n_head if ".q_proj." in hf_name else config.get("num_key_value_heads", n_head)
        return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    return w


def expected_type(gguf_name, shape, file_type):
    if len(shape) <= 1 or not gguf_name.endswith(".weight") or gguf_name.endswith("_norm.weight"):
        return QT.F32
    if file_type == "q8_0" and shape[-1] % 32 == 0:
        return QT.Q8_0
    return QT.F16


def token_id(value, vocab):
    if isinstance(value, dict):
        value = value.get("content")
    return vocab.get(value) if isinstance(value, str) else None


def expected_vocab(model_dir, config):
    """tokens, token types, scores, merges and special ids, read with the tokenizer's own libraries."""
    n = config["vocab_size"]
    tok_config = json.load(open(model_dir / "tokenizer_config.json")) if (model_dir / "tokenizer_config.json").exists() else {}
    out = {"tokens": ["[PAD%d]" % i for i in range(n)], "special": {}}
    if (model_dir / "tokenizer.json").exists():
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        vocab = tok.get_vocab(with_added_tokens=True)
        added = tok.get_added_tokens_decoder()
        out["model"] = "gpt2"
        out["types"] = [5] * n  # unused: the [PAD] fillers
        for text, i in vocab.items():
            out["tokens"][i] = text
            out["types"][i] = (3 if added[i].special else 4) if i in added else 1
        merges = json.load(open(model_dir / "tokenizer.json"))["model"]["merges"]
        out["merges"] = [m if isinstance(m, str) else " ".join(m) for m in merges]
        for key in ("bos", "eos"):
            i = token_id(tok_config.get(key + "_token"), vocab)
            out["special"][key] = i if i is not None else config.get(key + "_token_id")
        out["special"]["padding"] = token_id(tok_config.get("pad_token"), vocab)
    else:
        import sentencepiece
        from sentencepiece import sentencepiece_model_pb2
        sp = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "tokenizer.model"))
        proto = sentencepiece_model_pb2.ModelProto.FromString((model_dir / "tokenizer.model").read_bytes())
        out["model"] = "llama"
        out["types"] = [5] * n  # unused: the [PAD] fillers
        out["scores"] = [-10000.0] * n
        for i in range(sp.get_piece_size()):
            out["tokens"][i] = sp.id_to_piece(i)
            out["scores"][i] = sp.get_score(i)
            out["types"][i] = int(proto.pieces[i].type)
        out["special"] = {"bos": sp.bos_id(), "eos": sp.eos_id(), "unknown": sp.unk_id()}
        out["add_space_prefix"] = proto.normalizer_spec.add_dummy_prefix
    # LoRA Lab adds neither unless tokenizer_config.json says so
    out["add_bos_token"] = tok_config.get("add_bos_token", False)
    out["add_eos_token"] = tok_config.get("add_eos_token", False)
    return out


# llama.cpp's name for each fixture's pre-tokenizer: the NeoX fixture's ByteLevel pre-tokenizer
# splits with GPT-2's regex, the Qwen fixture splits with Qwen2's.
PRE = {"tiny-gpt-neox": "gpt-2", "tiny-qwen2": "qwen2", "tiny-llama-spm": "default"}


def check_metadata(reader, config, file_type):
    arch = gguf.MODEL_ARCH_NAMES[ARCH[config["model_type"]]]
    heads = config["num_attention_heads"]
    head_dim = config["hidden_size"] // heads
    want = {
        "general.architecture": arch,
        "general.alignment": 32,
        "general.file_type": {"f16": 1, "q8_0": 7}[file_type],
        "general.quantization_version": gguf.GGML_QUANT_VERSION,
        arch + ".context_length": config["max_position_embeddings"],
        arch + ".embedding_length": config["hidden_size"],
        arch + ".block_count": config["num_hidden_layers"],
        arch + ".feed_forward_length": config["intermediate_size"],
        arch + ".attention.head_count": heads,
        arch + ".vocab_size": config["vocab_size"],
    }
    if config["model_type"] == "gpt_neox":
        want[arch + ".rope.dimension_count"] = int(config["rotary_pct"] * head_dim)
        want[arch + ".rope.freq_base"] = float(config.get("rotary_emb_base", 10000))
        want[arch + ".use_parallel_residual"] = config.get("use_parallel_residual", True)
        want[arch + ".attention.layer_norm_epsilon"] = float(np.float32(config["layer_norm_eps"]))
    else:
        want[arch + ".rope.dimension_count"] = head_dim
        want[arch + ".rope.freq_base"] = float(config.get("rope_theta", 10000))
        want[arch + ".attention.head_count_kv"] = config.get("num_key_value_heads", heads)
        want[arch + ".attention.layer_norm_rms_epsilon"] = float(np.float32(config["rms_norm_eps"]))
        want[arch + ".attention.key_length"] = want[arch + ".attention.value_length"] = head_dim
    for key, value in want.items():
        got = field(reader, key)
        require(got == value, "%s is %r, expected %r" % (key, got, value))
    V = gguf.GGUFValueType
    for key in (arch + ".context_length", arch + ".block_count", "general.file_type"):
        require(field_type(reader, key) == [V.UINT32], "%s is not a uint32" % key)
    return len(want)


def check_vocab(reader, model_dir, config):
    v = expected_vocab(model_dir, config)
    require(field(reader, "tokenizer.ggml.model") == v["model"], "tokenizer.ggml.model is %r" % field(reader, "tokenizer.ggml.model"))
    require(field(reader, "tokenizer.ggml.pre") == PRE[model_dir.name], "tokenizer.ggml.pre is %r" % field(reader, "tokenizer.ggml.pre"))
    tokens = field(reader, "tokenizer.ggml.tokens")
    require(tokens == v["tokens"], "tokens differ from the tokenizer's at %s" %
            [i for i, (a, b) in enumerate(zip(tokens, v["tokens"])) if a != b][:5] if len(tokens) == len(v["tokens"]) else
            "%d tokens for a %d-row embedding" % (len(tokens), len(v["tokens"])))
    types = field(reader, "tokenizer.ggml.token_type")
    require(types == v["types"], "token types differ at %s" % [i for i, (a, b) in enumerate(zip(types, v["types"])) if a != b][:5])
    if "merges" in v:
        require(field(reader, "tokenizer.ggml.merges") == v["merges"], "merges differ from tokenizer.json's")
        require("tokenizer.ggml.scores" not in reader.fields, "a BPE vocabulary with scores")
    if "scores" in v:
        scores = np.array(field(reader, "tokenizer.ggml.scores"), dtype=np.float32)
        require(np.array_equal(scores, np.array(v["scores"], dtype=np.float32)), "scores differ from sentencepiece's")
        require(field(reader, "tokenizer.ggml.add_space_prefix") == v["add_space_prefix"], "add_space_prefix")
    for key, value in v["special"].items():
        name = "tokenizer.ggml.%s_token_id" % key
        if value is None:
            require(name not in reader.fields, "%s is set; the tokenizer has none" % name)
        else:
            require(field(reader, name) == value, "%s is %r, expected %r" % (name, field(reader, name), value))
    for key in ("add_bos_token", "add_eos_token"):
        require(field(reader, "tokenizer.ggml." + key) == v[key], "%s is not %r" % (key, v[key]))
    return len(tokens)


def load_checkpoint(folder):
    tensors = {}
    for part in sorted(folder.glob("*.safetensors")):
        tensors.update({k: v.float().numpy() for k, v in load_file(str(part)).items()})
    return tensors


def export(args):
    model_dir = pathlib.Path(args.model)
    folder = pathlib.Path(args.export)
    config = json.load(open(model_dir / "config.json"))
    merged = load_checkpoint(folder / "merged")
    base = load_checkpoint(model_dir)
    names = gguf.get_tensor_name_map(ARCH[config["model_type"]], config["num_hidden_layers"])
    expected = {}
    for hf, w in merged.items():
        name = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        require(name is not None, "gguf-py's name map has no GGUF name for %s" % hf)
        # transformers 5 names GPT-NeoX's head lm_head in the files it writes; LoRA Lab writes embed_out
        before = base[hf] if hf in base else base["lm_head.weight" if hf == "embed_out.weight" else hf]
        expected[name] = (converter_layout(hf, w, config), converter_layout(hf, before, config))
    for file_type in ("f16", "q8_0"):
        reader = gguf.GGUFReader(folder / ("model-%s.gguf" % file_type))
        keys = check_metadata(reader, config, file_type)
        vocab = check_vocab(reader, model_dir, config)
        got = {t.name: t for t in reader.tensors}
        require(set(got) == set(expected), "tensors %s missing, %s unexpected" %
                (sorted(set(expected) - set(got)), sorted(set(got) - set(expected))))
        worst, adapted, by_type = 0.0, 0, {}
        for name, (w, w_base) in expected.items():
            t = got[name]
            require(list(t.shape) == list(w.shape[::-1]), "%s: shape %s, expected %s reversed" % (name, list(t.shape), list(w.shape)))
            want_type = expected_type(name, w.shape, file_type)
            require(t.tensor_type == want_type, "%s: %s, expected %s" % (name, t.tensor_type.name, want_type.name))
            by_type[want_type.name] = by_type.get(want_type.name, 0) + 1
            if want_type == QT.Q8_0:
                worst = max(worst, check_q8_0(name, t, w))
                continue
            data = np.asarray(t.data)
            dtype = np.float16 if want_type == QT.F16 else np.float32
            require(np.array_equal(data, w.astype(dtype)), "%s: differs from the merged export (max %g)" %
                    (name, float(np.abs(data.astype(np.float32) - w).max())))
            if not np.array_equal(data, w_base.astype(dtype)):
                adapted += 1
        if file_type == "f16":
            require(adapted > 0, "no tensor differs from the base model: the adapter was not folded in")
        print("%s %s: %d metadata keys, %d tokens, %d tensors %s equal the merged export%s" %
              (model_dir.name, file_type, keys, vocab, len(got), by_type,
               " (%d changed by the adapter)" % adapted if file_type == "f16" else " (Q8_0 max error %.3g)" % worst))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the fixture model folder (export)")
    parser.add_argument("--export", required=True, help="the folder the C++ test wrote")
    parser.add_argument("case", choices=["every_type", "export"])
    args = parser.parse_args()
    try:
        {"every_type": every_type, "export": export}[args.case](args)
    except AssertionError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
