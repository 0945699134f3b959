#!/usr/bin/env python3
"""Writes the Parquet and Arrow IPC fixtures in tests/data/columnar/ with the
pinned pyarrow and datasets, and beside them the rows as pyarrow reads them
(to_pylist(), one JSON object per line) for LoRA Lab's columnar readers to
match exactly.

Run with the pinned environment's interpreter:
    $(scripts/setup-python.sh)/bin/python tests/data/make_columnar_fixtures.py

Every file is read back with pyarrow before its expected rows are written, so
the JSONL is what pyarrow itself returns. Files that share a table share one
JSONL; manifest.json says which rows belong to which file, and which files the
readers must refuse (and with which words in the message).
"""
import json
import os
import random
import shutil
import tempfile

import datasets
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

datasets.disable_progress_bars()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "columnar")
UNICODE = ["", "héllo", "中文字符", "emoji 🙂🚀", "tab\tand\nnewline", "quote \" and \\", "ß∂ƒ©", "plain words"]


def jsonable(value):
    """to_pylist() values as JSON: bytes become {"bytes": [ints]} (JSON has no bytes)."""
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def jsonl(rows):
    return "".join(json.dumps(jsonable(r), ensure_ascii=False) + "\n" for r in rows)


def message_list(rng, roles):
    """A messages / conversations value: null, empty, or turns with nulls inside."""
    pick = rng.random()
    if pick < 0.1:
        return None
    if pick < 0.2:
        return []
    turns = []
    for t in range(rng.randint(1, 4)):
        if rng.random() < 0.08:
            turns.append(None)
            continue
        content = rng.choice(UNICODE) + " " + str(rng.randint(0, 999)) if rng.random() > 0.1 else None
        turns.append({roles[0]: roles[1 + t % 2], roles[3]: content})
    return turns


def main_rows(count, seed):
    rng = random.Random(seed)
    rows = {k: [] for k in ["text", "id", "score", "ratio", "small", "count", "flag", "messages", "conversations",
                            "tags", "meta", "matrix", "nothing"]}
    for i in range(count):
        rows["text"].append(None if i % 7 == 3 else rng.choice(UNICODE) + f" row {i}" * rng.randint(0, 3))
        rows["id"].append(None if i % 9 == 4 else rng.choice([i, -i * 1000003, 2**62 + i, -(2**63) + i]))
        rows["score"].append(None if i % 6 == 1 else round(rng.uniform(-1e6, 1e6), 3))
        rows["ratio"].append(None if i % 8 == 2 else rng.choice([0.1, 1.5, -3.25, 1e-3]))
        rows["small"].append(rng.randint(-128, 127))
        rows["count"].append(None if i % 10 == 0 else rng.choice([0, 7, 2**32 - 1]))
        rows["flag"].append(None if i % 5 == 2 else rng.random() < 0.5)
        rows["messages"].append(message_list(rng, ["role", "user", "assistant", "content"]))
        rows["conversations"].append(message_list(rng, ["from", "human", "gpt", "value"]))
        tags = None if i % 11 == 5 else [None if rng.random() < 0.1 else rng.choice(UNICODE) for _ in range(rng.randint(0, 3))]
        rows["tags"].append(tags)
        meta = None if i % 13 == 6 else {"source": rng.choice(["web", "book", None]), "n": rng.choice([None, i]),
                                          "inner": None if i % 4 == 0 else {"x": rng.choice([None, i / 4])}}
        rows["meta"].append(meta)
        matrix = None if i % 12 == 7 else [None if rng.random() < 0.1 else [rng.choice([None, j, -j]) for j in range(rng.randint(0, 3))]
                                            for _ in range(rng.randint(0, 3))]
        rows["matrix"].append(matrix)
        rows["nothing"].append(None)
    return rows


def turn_type(a, b):
    return pa.list_(pa.struct([(a, pa.string()), (b, pa.string())]))


MAIN_SCHEMA = pa.schema([
    ("text", pa.string()), ("id", pa.int64()), ("score", pa.float64()), ("ratio", pa.float32()),
    ("small", pa.int8()), ("count", pa.uint32()), ("flag", pa.bool_()),
    ("messages", turn_type("role", "content")), ("conversations", turn_type("from", "value")),
    ("tags", pa.list_(pa.string())),
    ("meta", pa.struct([("source", pa.string()), ("n", pa.int64()), ("inner", pa.struct([("x", pa.float64())]))])),
    ("matrix", pa.list_(pa.list_(pa.int32()))), ("nothing", pa.null()),
])


class Fixtures:
    def __init__(self):
        self.manifest = {"tables": [], "refused": []}

    def expect(self, files, rows_name, rows, reader):
        """Checks that pyarrow reads every file as `rows` and records them."""
        for f in files:
            got = reader(os.path.join(OUT, f))
            assert got == rows, f"{f}: pyarrow reads other rows than were written"
        with open(os.path.join(OUT, rows_name), "w", encoding="utf-8") as out:
            out.write(jsonl(rows))
        self.manifest["tables"].append({"rows": rows_name, "files": files})

    def refused(self, file, words):
        self.manifest["refused"].append({"file": file, "words": words})


def read_parquet(path):
    return pq.read_table(path).to_pylist()


def read_ipc(path):
    with open(path, "rb") as f:
        head = f.read(6)
    if head == b"ARROW1":
        return ipc.open_file(path).read_all().to_pylist()
    return ipc.open_stream(path).read_all().to_pylist()


def write_parquet_variants(fx):
    table = pa.table(main_rows(60, seed=7), schema=MAIN_SCHEMA)
    common = dict(row_group_size=20, data_page_size=160, write_batch_size=8, write_statistics=False)
    variants = {
        "main_plain_v1_none.parquet": dict(use_dictionary=False, compression="NONE", data_page_version="1.0"),
        "main_plain_v2_gzip.parquet": dict(use_dictionary=False, compression="GZIP", data_page_version="2.0"),
        "main_dict_v1_snappy.parquet": dict(use_dictionary=True, compression="SNAPPY", data_page_version="1.0"),
        "main_dict_v2_zstd.parquet": dict(use_dictionary=True, compression="ZSTD", data_page_version="2.0"),
        "main_dict_v2_none.parquet": dict(use_dictionary=True, compression="NONE", data_page_version="2.0"),
        # Format version 1.0: PLAIN_DICTIONARY indices and only the older (converted) type annotations.
        "main_dict_format1_gzip.parquet": dict(use_dictionary=True, compression="GZIP", data_page_version="1.0", version="1.0"),
        # A dictionary page limit this small makes the writer fall back to PLAIN
        # within a column chunk: dictionary pages and plain pages in one chunk.
        "main_fallback_v1_zstd.parquet": dict(use_dictionary=True, compression="ZSTD", data_page_version="1.0",
                                              dictionary_pagesize_limit=64),
    }
    for name, options in variants.items():
        pq.write_table(table, os.path.join(OUT, name), **common, **options)
    fx.expect(sorted(variants), "main.jsonl", table.to_pylist(), read_parquet)

    # Required columns and required list items: no definition levels at all.
    required = pa.schema([pa.field("text", pa.string(), nullable=False), pa.field("n", pa.int32(), nullable=False),
                          pa.field("ids", pa.list_(pa.field("item", pa.int64(), nullable=False)), nullable=False)])
    rows = {"text": [UNICODE[i % len(UNICODE)] for i in range(30)], "n": list(range(30)),
            "ids": [list(range(i % 4)) for i in range(30)]}
    table = pa.table(rows, schema=required)
    pq.write_table(table, os.path.join(OUT, "required_v1_snappy.parquet"), row_group_size=12, data_page_size=64,
                   write_batch_size=4, compression="SNAPPY")
    fx.expect(["required_v1_snappy.parquet"], "required.jsonl", table.to_pylist(), read_parquet)

    # Binary and fixed-size binary values.
    table = pa.table({"blob": pa.array([b"\x00\x01", None, b"", b"\xff" * 5], pa.binary()),
                      "fixed": pa.array([b"abc", b"\x00\x00\x00", None, b"xyz"], pa.binary(3))})
    pq.write_table(table, os.path.join(OUT, "binary_plain.parquet"), use_dictionary=False)
    fx.expect(["binary_plain.parquet"], "binary.jsonl", table.to_pylist(), read_parquet)


def write_datasets_files(fx):
    text = ["", " = Valkyria Chronicles III = ", "", " Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 ) .",
            " The game began development in 2010 , carrying over a large portion of the work done on Valkyria Chronicles II ."]
    ds = datasets.Dataset.from_dict({"text": text * 6})
    ds.to_parquet(os.path.join(OUT, "datasets_wikitext.parquet"))
    fx.expect(["datasets_wikitext.parquet"], "datasets_wikitext.jsonl", ds.data.table.to_pylist(), read_parquet)

    # HH-RLHF as the hub holds it once converted: chosen and rejected dialogues,
    # one row with a null, one without an assistant turn.
    chosen = [f"\n\nHuman: What is {i} + {i}?\n\nAssistant: {2 * i}." for i in range(8)]
    rejected = [f"\n\nHuman: What is {i} + {i}?\n\nAssistant: I cannot say." for i in range(8)]
    chosen[3] = None
    chosen[5] = "no assistant turn here"
    hh = datasets.Dataset.from_dict({"chosen": chosen, "rejected": rejected})
    hh.to_parquet(os.path.join(OUT, "datasets_hh.parquet"))
    fx.expect(["datasets_hh.parquet"], "datasets_hh.jsonl", hh.data.table.to_pylist(), read_parquet)

    rows = main_rows(24, seed=11)
    chat = datasets.Dataset.from_dict({"messages": rows["messages"], "source": [str(i) for i in range(24)],
                                       "label": [i % 3 for i in range(24)]})
    with tempfile.TemporaryDirectory() as tmp:
        chat.save_to_disk(tmp, max_shard_size="1MB")
        shutil.copy(os.path.join(tmp, "data-00000-of-00001.arrow"), os.path.join(OUT, "datasets_chat.arrow"))
    fx.expect(["datasets_chat.arrow"], "datasets_chat.jsonl", chat.data.table.to_pylist(), read_ipc)


def write_ipc_variants(fx):
    rows = main_rows(16, seed=5)
    extra = pa.schema(list(MAIN_SCHEMA) + [
        ("large_text", pa.large_string()), ("large_tags", pa.large_list(pa.string())),
        ("pair", pa.list_(pa.int16(), 2)), ("kind", pa.dictionary(pa.int32(), pa.string())),
        ("blob", pa.large_binary()), ("u64", pa.uint64()), ("single", pa.float32())])
    rows["large_text"] = rows["text"][::-1]
    rows["large_tags"] = rows["tags"][::-1]
    rows["pair"] = [None if i % 5 == 0 else [i, -i] for i in range(16)]
    rows["kind"] = [None if i % 4 == 1 else ["alpha", "beta", "gamma"][i % 3] for i in range(16)]
    rows["blob"] = [None if i % 6 == 0 else bytes([i, 255 - i]) for i in range(16)]
    rows["u64"] = [2**64 - 1 - i for i in range(16)]
    rows["single"] = [i / 8 for i in range(16)]
    table = pa.table(rows, schema=extra)
    batches = table.to_batches(max_chunksize=5)

    def write(name, writer_factory, options=None, chunks=batches):
        with writer_factory(os.path.join(OUT, name), table.schema, options=options) as w:
            for b in chunks:
                w.write_batch(b)

    write("ipc_file.arrow", ipc.new_file)
    write("ipc_stream.arrows", ipc.new_stream)
    write("ipc_stream_zstd.arrows", ipc.new_stream, ipc.IpcWriteOptions(compression="zstd"))
    write("ipc_file_zstd.arrow", ipc.new_file, ipc.IpcWriteOptions(compression="zstd"))
    write("ipc_stream_legacy.arrows", ipc.new_stream, ipc.IpcWriteOptions(use_legacy_format=True))
    fx.expect(["ipc_file.arrow", "ipc_file_zstd.arrow", "ipc_stream.arrows", "ipc_stream_legacy.arrows",
               "ipc_stream_zstd.arrows"], "ipc.jsonl", table.to_pylist(), read_ipc)

    # A small file-format file (dictionaries in the footer, ZSTD bodies): also a fuzzing seed.
    small = table.slice(0, 6).select(["text", "messages", "tags", "kind", "large_text", "pair"])
    with ipc.new_file(os.path.join(OUT, "ipc_small_file_zstd.arrow"), small.schema,
                      options=ipc.IpcWriteOptions(compression="zstd")) as w:
        for b in small.to_batches(max_chunksize=4):
            w.write_batch(b)
    fx.expect(["ipc_small_file_zstd.arrow"], "ipc_small.jsonl", small.to_pylist(), read_ipc)

    # Dictionaries that grow from batch to batch: delta dictionary batches.
    words = ["w%d" % i for i in range(12)]
    schema = pa.schema([("word", pa.dictionary(pa.int8(), pa.string())), ("n", pa.int64())])
    delta_batches, delta_rows = [], []
    for b in range(4):
        values = [words[(b * 3 + i) % (3 * b + 3)] if i % 5 else None for i in range(6)]
        dictionary = pa.array(words[: 3 * b + 3])
        indices = pa.array([None if v is None else dictionary.to_pylist().index(v) for v in values], pa.int8())
        delta_batches.append(pa.record_batch([pa.DictionaryArray.from_arrays(indices, dictionary), pa.array(range(6))],
                                             schema=schema))
        delta_rows += [{"word": v, "n": i} for i, v in enumerate(values)]
    with ipc.new_stream(os.path.join(OUT, "ipc_stream_dict_delta.arrows"), schema,
                        options=ipc.IpcWriteOptions(emit_dictionary_deltas=True)) as w:
        for b in delta_batches:
            w.write_batch(b)
    fx.expect(["ipc_stream_dict_delta.arrows"], "ipc_dict_delta.jsonl", delta_rows, read_ipc)


def write_refused(fx):
    small = pa.table({"id": pa.array(range(10), pa.int64()), "text": pa.array(["t%d" % i for i in range(10)]),
                      "score": pa.array([i / 3 for i in range(10)])})
    cases = {
        "refuse_delta_binary.parquet": (dict(use_dictionary=False, column_encoding={"id": "DELTA_BINARY_PACKED"}),
                                        ["column 'id'", "row group 0", "DELTA_BINARY_PACKED"]),
        "refuse_delta_length.parquet": (dict(use_dictionary=False, column_encoding={"text": "DELTA_LENGTH_BYTE_ARRAY"}),
                                        ["column 'text'", "row group 0", "DELTA_LENGTH_BYTE_ARRAY"]),
        "refuse_byte_stream_split.parquet": (dict(use_dictionary=False, column_encoding={"score": "BYTE_STREAM_SPLIT"}),
                                             ["column 'score'", "row group 0", "BYTE_STREAM_SPLIT"]),
        "refuse_lz4.parquet": (dict(compression="LZ4"), ["column 'id'", "row group 0", "LZ4"]),
        "refuse_brotli.parquet": (dict(compression="BROTLI"), ["column 'id'", "row group 0", "BROTLI"]),
    }
    for name, (options, words) in cases.items():
        pq.write_table(small, os.path.join(OUT, name), **options)
        assert read_parquet(os.path.join(OUT, name)) == small.to_pylist()
        fx.refused(name, words)

    with ipc.new_stream(os.path.join(OUT, "refuse_lz4.arrows"), small.schema,
                        options=ipc.IpcWriteOptions(compression="lz4")) as w:
        w.write_table(small)
    fx.refused("refuse_lz4.arrows", ["LZ4_FRAME"])

    stamped = pa.table({"text": ["a", "b"], "when": pa.array([0, 86400], pa.timestamp("s"))})
    pq.write_table(stamped, os.path.join(OUT, "refuse_timestamp.parquet"))
    fx.refused("refuse_timestamp.parquet", ["column 'when'", "timestamp"])
    fx.expect(["refuse_timestamp.parquet"], "refuse_timestamp_text.jsonl", stamped.select(["text"]).to_pylist(),
              lambda p: pq.read_table(p, columns=["text"]).to_pylist())


class Compact:
    """Just enough of a Thrift compact protocol writer for a hand-built footer."""

    def __init__(self):
        self.out = bytearray()
        self.last = [0]

    def varint(self, v):
        while True:
            b = v & 0x7F
            v >>= 7
            self.out.append(b | (0x80 if v else 0))
            if not v:
                return

    def field(self, fid, ftype):
        delta = fid - self.last[-1]
        assert 0 < delta < 16
        self.out.append((delta << 4) | ftype)
        self.last[-1] = fid

    def i32(self, fid, v):
        self.field(fid, 5)
        self.varint((v << 1) ^ (v >> 63))

    def i64(self, fid, v):
        self.field(fid, 6)
        self.varint((v << 1) ^ (v >> 63))

    def string(self, fid, v):
        self.field(fid, 8)
        data = v.encode()
        self.varint(len(data))
        self.out += data

    def begin(self, fid=None):
        if fid is not None:
            self.field(fid, 12)
        self.last.append(0)

    def end(self):
        self.out.append(0)
        self.last.pop()

    def list(self, fid, etype, items, each):
        self.field(fid, 9)
        self.out.append((min(len(items), 15) << 4) | etype)
        if len(items) >= 15:
            self.varint(len(items))
        for item in items:
            each(item)


def rle_bitpacked(values, width):
    """Levels as one bit-packed run of the RLE / bit-packed hybrid."""
    groups = (len(values) + 7) // 8
    out = bytearray()
    v = (groups << 1) | 1
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            break
    bits = 0
    for i, value in enumerate(values):
        bits |= value << (i * width)
    out += bits.to_bytes(groups * width, "little")
    return bytes(out)


def shred_list(rows, list_def, element):
    """(def, rep, value) of a list column; `element(e)` gives an element's (def, value)."""
    out = []
    for v in rows:
        if v is None:
            out.append((0, 0, None))
        elif not v:
            out.append((list_def, 0, None))
        else:
            for j, e in enumerate(v):
                d, value = element(e)
                out.append((d, 0 if j == 0 else 1, value))
    return out


def write_legacy_lists(fx):
    """Lists in the layouts older writers (parquet-mr, Spark) use, which pyarrow
    reads but does not write: two-level lists, `array` and `_tuple` elements,
    and repeated fields without a LIST annotation. Hand-built, uncompressed, PLAIN."""
    rows = {
        "two_level": [[1, 2], None, [], [3]],
        "legacy_structs": [[{"s": "a"}, {"s": None}], [], None, [{"s": "ü"}]],
        "bare": [[5, 6, 7], [], [8], []],
        "pairs": [[{"a": 1, "b": "x"}], [], [{"a": 2, "b": None}, {"a": 3, "b": "y"}], []],
        "tuple_list": [None, [{"x": 9}], [{"x": 10}, {"x": 11}], []],
    }
    INT32, BYTE_ARRAY = 1, 6
    REQUIRED, OPTIONAL, REPEATED = 0, 1, 2
    UTF8, LIST = 0, 3
    schema = [("schema", None, None, 5, None),
              ("two_level", None, OPTIONAL, 1, LIST), ("array", INT32, REPEATED, 0, None),
              ("legacy_structs", None, OPTIONAL, 1, LIST), ("array", None, REPEATED, 1, None), ("s", BYTE_ARRAY, OPTIONAL, 0, UTF8),
              ("bare", INT32, REPEATED, 0, None),
              ("pairs", None, REPEATED, 2, None), ("a", INT32, REQUIRED, 0, None), ("b", BYTE_ARRAY, OPTIONAL, 0, UTF8),
              ("tuple_list", None, OPTIONAL, 1, LIST), ("tuple_list_tuple", None, REPEATED, 1, None), ("x", INT32, REQUIRED, 0, None)]
    columns = [  # path, physical type, max def, levels
        (["two_level", "array"], INT32, 2, shred_list(rows["two_level"], 1, lambda e: (2, e))),
        (["legacy_structs", "array", "s"], BYTE_ARRAY, 3,
         shred_list(rows["legacy_structs"], 1, lambda e: (2, None) if e["s"] is None else (3, e["s"]))),
        (["bare"], INT32, 1, shred_list(rows["bare"], 0, lambda e: (1, e))),
        (["pairs", "a"], INT32, 1, shred_list(rows["pairs"], 0, lambda e: (1, e["a"]))),
        (["pairs", "b"], BYTE_ARRAY, 2, shred_list(rows["pairs"], 0, lambda e: (1, None) if e["b"] is None else (2, e["b"]))),
        (["tuple_list", "tuple_list_tuple", "x"], INT32, 2, shred_list(rows["tuple_list"], 1, lambda e: (2, e["x"]))),
    ]
    body = bytearray(b"PAR1")
    chunks = []
    for path, ptype, max_def, levels in columns:
        page = bytearray()
        for stream, width in (([r for _, r, _ in levels], 1), ([d for d, _, _ in levels], max_def.bit_length())):
            encoded = rle_bitpacked(stream, width)
            page += len(encoded).to_bytes(4, "little") + encoded
        for d, _, value in levels:
            if d == max_def:
                page += value.to_bytes(4, "little", signed=True) if ptype == INT32 else len(value.encode()).to_bytes(4, "little") + value.encode()
        header = Compact()
        header.begin()
        header.i32(1, 0)
        header.i32(2, len(page))
        header.i32(3, len(page))
        header.begin(5)
        header.i32(1, len(levels))
        header.i32(2, 0)
        header.i32(3, 3)
        header.i32(4, 3)
        header.end()
        header.end()
        offset = len(body)
        body += header.out + page
        chunks.append((path, ptype, len(levels), offset, len(body) - offset))
    meta = Compact()
    meta.begin()
    meta.i32(1, 1)

    def element(e):
        name, ptype, repetition, children, converted = e
        meta.begin()
        if ptype is not None:
            meta.i32(1, ptype)
        if repetition is not None:
            meta.i32(3, repetition)
        meta.string(4, name)
        if children:
            meta.i32(5, children)
        if converted is not None:
            meta.i32(6, converted)
        meta.end()

    meta.list(2, 12, schema, element)
    meta.i64(3, 4)

    def chunk(c):
        path, ptype, values, offset, size = c
        meta.begin()
        meta.i64(2, offset)
        meta.begin(3)
        meta.i32(1, ptype)
        meta.list(2, 5, [0, 3], lambda e: meta.varint(e << 1))
        meta.list(3, 8, path, lambda p: (meta.varint(len(p)), meta.out.extend(p.encode())))
        meta.i32(4, 0)
        meta.i64(5, values)
        meta.i64(6, size)
        meta.i64(7, size)
        meta.i64(9, offset)
        meta.end()
        meta.end()

    def row_group(_):
        meta.begin()
        meta.list(1, 12, chunks, chunk)
        meta.i64(2, sum(c[4] for c in chunks))
        meta.i64(3, 4)
        meta.end()

    meta.list(4, 12, [0], row_group)
    meta.end()
    body += meta.out + len(meta.out).to_bytes(4, "little") + b"PAR1"
    with open(os.path.join(OUT, "legacy_lists.parquet"), "wb") as f:
        f.write(bytes(body))
    expected = [{k: rows[k][i] for k in rows} for i in range(4)]
    assert read_parquet(os.path.join(OUT, "legacy_lists.parquet")) == expected, "pyarrow reads the legacy lists otherwise"
    fx.expect(["legacy_lists.parquet"], "legacy_lists.jsonl", expected, read_parquet)


def write_corrupt(fx):
    """Files whose damage needs knowledge of the layout; truncations and bad
    magic numbers are made by the C++ tests themselves."""
    # A dictionary index past the end of the dictionary: three values in three
    # runs of 20 (RLE runs of bit width 2); the last run's index 2 becomes 3.
    table = pa.table({"label": pa.array(["a"] * 20 + ["b"] * 20 + ["c"] * 20)},
                     schema=pa.schema([pa.field("label", pa.string(), nullable=False)]))
    path = os.path.join(OUT, "corrupt_dict_index.parquet")
    pq.write_table(table, path, compression="NONE", write_statistics=False)
    data = bytearray(open(path, "rb").read())
    runs = b"\x02\x28\x00\x28\x01\x28\x02"
    assert data.count(runs) == 1, "the dictionary indices are not laid out as expected"
    at = data.index(runs) + len(runs) - 1
    data[at] = 3
    open(path, "wb").write(bytes(data))
    fx.refused("corrupt_dict_index.parquet", ["column 'label'", "row group 0", "dictionary index 3", "3 entries"])

    # An Arrow dictionary index past the end of its dictionary (written unvalidated).
    dictionary = pa.array(["red", "green", "blue"])
    words = pa.DictionaryArray.from_arrays(pa.array([0, 2, 7, 1], pa.int8()), dictionary, safe=False)
    with ipc.new_stream(os.path.join(OUT, "corrupt_dict_index.arrows"), pa.schema([("word", words.type)])) as w:
        w.write_batch(pa.record_batch([words], names=["word"]))
    fx.refused("corrupt_dict_index.arrows", ["record batch 0", "column 'word'", "dictionary index 7", "3 entries"])

    # A page header that claims more bytes than its column chunk holds.
    path = os.path.join(OUT, "corrupt_page_size.parquet")
    pq.write_table(pa.table({"n": pa.array(range(50), pa.int64()), "text": ["x%d" % i for i in range(50)]}), path,
                   compression="NONE", use_dictionary=False, write_statistics=False)
    meta = pq.ParquetFile(path).metadata.row_group(0).column(1)
    data = bytearray(open(path, "rb").read())
    at = meta.data_page_offset
    # Compact protocol: field 1 (i32 page type), 2 (uncompressed size), 3 (compressed size).
    assert data[at] == 0x15
    pos = at + 2
    for field in (2, 3):
        assert data[pos] == 0x15, "unexpected page header layout"
        pos += 1
        start = pos
        while data[pos] & 0x80:
            pos += 1
        pos += 1
        if field == 3:
            width = pos - start
            big = (1 << (7 * width)) - 2  # the largest even zigzag value of that many bytes
            for i in range(width):
                data[start + i] = ((big >> (7 * i)) & 0x7F) | (0x80 if i + 1 < width else 0)
    open(path, "wb").write(bytes(data))
    fx.refused("corrupt_page_size.parquet", ["column 'text'", "row group 0", "page"])

    # A string whose length prefix runs past its page.
    path = os.path.join(OUT, "corrupt_string_length.parquet")
    pq.write_table(pa.table({"text": ["alpha", "MARKER-STRING", "omega"]}), path, compression="NONE",
                   use_dictionary=False, write_statistics=False)
    data = bytearray(open(path, "rb").read())
    at = data.index(b"MARKER-STRING")
    assert data[at - 4:at] == (13).to_bytes(4, "little")
    data[at - 4:at] = (0x7FFFFF00).to_bytes(4, "little")
    open(path, "wb").write(bytes(data))
    fx.refused("corrupt_string_length.parquet", ["column 'text'", "row group 0", "page"])


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    fx = Fixtures()
    write_parquet_variants(fx)
    write_datasets_files(fx)
    write_ipc_variants(fx)
    write_legacy_lists(fx)
    write_refused(fx)
    write_corrupt(fx)
    fx.manifest["versions"] = {"pyarrow": pa.__version__, "datasets": datasets.__version__}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(fx.manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total / 1024:.1f} KiB, in {OUT}")


if __name__ == "__main__":
    main()
