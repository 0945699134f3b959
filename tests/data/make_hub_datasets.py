#!/usr/bin/env python3
"""Writes tests/data/hub_datasets/: a user's Hugging Face caches for datasets, as
huggingface_hub and the pinned `datasets` lay them out, and beside them what the
real `datasets` library resolves and loads from them (expected.json), for LoRA
Lab's hub-cache dataset readers to match.

Run with the pinned environment's interpreter:
    $(scripts/setup-python.sh)/bin/python tests/data/make_hub_datasets.py

It deletes and rewrites the folder; the output is the same on every run (fixed
commit hashes, gzip without timestamps, no absolute paths in expected.json).

  hub/        huggingface_hub's cache (HF_HUB_CACHE): datasets--Org--Name/refs/main,
              snapshots/<commit>/<file> as relative symlinks into blobs/<id> (the git
              blob sha1 of a plain file, the sha256 of an LFS file), .no_exist/ entries
  datasets/   the `datasets` library's own Arrow cache (its cache_dir) for three loads
  expected.json  what `datasets` says: config and split names, the files each split
              reads, row counts, columns, features and first rows; the Arrow cache's
              files; and what it does offline

How: the repositories are written here from the project's embedded data
(resources/data). `datasets` 5.2.0 does not read the hub cache offline at all: with
HF_HUB_OFFLINE=1 load_dataset only falls back to its own Arrow cache (and raises
"Couldn't reach '<repo>' on the Hub" without one). So, to get its answers about
these repositories, the script serves the snapshots on 127.0.0.1 as a minimal Hub
(the resolve, revision, tree and paths-info endpoints; nothing leaves the machine)
and runs `datasets` against it in a child process with an empty hub cache of its
own. What huggingface_hub writes there is checked against hub/ (same blob ids, same
symlink targets, same refs), and its .no_exist entries are copied into hub/. A second
child then runs offline on hub/ and datasets/ and records what works and what fails.
"""
import gzip
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "hub_datasets")
HUB = os.path.join(OUT, "hub")
DSCACHE = os.path.join(OUT, "datasets")
WIKI = os.path.join(ROOT, "resources", "data", "wikitext")
DIALOGUES = os.path.join(ROOT, "resources", "data", "dialogues")

# Files that the Hub's default .gitattributes stores with LFS (their blob id is the
# sha256 of the content); the others are plain git blobs (git's sha1 as blob id).
LFS_SUFFIXES = (".parquet", ".gz")


def commit_hash(label):
    """A fixed, fake 40-hex commit id."""
    return hashlib.sha1(("lora-lab hub fixture " + label).encode()).hexdigest()


WIKITEXT_MAIN = commit_hash("Salesforce/wikitext main")
WIKITEXT_OLD = commit_hash("Salesforce/wikitext older revision")
HH_MAIN = commit_hash("Anthropic/hh-rlhf main")
SFT_MAIN = commit_hash("lab-fixtures/chat-sft main")
PREFS_MAIN = commit_hash("lab-fixtures/chat-prefs main")
ALPACA_MAIN = commit_hash("lab-fixtures/alpaca-mini main")


# ---------------------------------------------------------------------------
# Source text
# ---------------------------------------------------------------------------

def wiki_rows(split, count):
    """WikiText rows as the Hub's parquet holds them: each line with its "\\n",
    blank lines as "" (what the original wikitext loading script yielded)."""
    with open(os.path.join(WIKI, f"wiki.{split}.raw"), encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    rows = []
    for line in lines[:count]:
        rows.append(line + "\n" if line.strip() else "")
    return rows


def unk(text):
    """The tokenized WikiText variant: long words become <unk>."""
    return re.sub(r"\b[A-Za-z]{10,}\b", "<unk>", text)


def dialogues(split):
    with open(os.path.join(DIALOGUES, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def turns(text):
    """'\\n\\nHuman: ..\\n\\nAssistant: ..' as [(role, content)]."""
    out = []
    for part in re.split(r"\n\n(?=Human: |Assistant: )", text):
        if not part:
            continue
        speaker, _, content = part.partition(": ")
        out.append(("user" if speaker == "Human" else "assistant", content))
    return out


def messages(text):
    return [{"role": r, "content": c} for r, c in turns(text)]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def parquet_bytes(table, compression, hf_features=None):
    import pyarrow as pa
    import pyarrow.parquet as pq
    if hf_features is not None:
        meta = {b"huggingface": json.dumps({"info": {"features": hf_features}}).encode()}
        table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=compression)
    return sink.getvalue().to_pybytes()


def jsonl_bytes(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def yaml_card(front, body):
    return ("---\n" + front.strip("\n") + "\n---\n\n" + body.strip("\n") + "\n").encode()


TEXT_FEATURES = {"text": {"dtype": "string", "_type": "Value"}}
DIALOG_FEATURES = {
    "dialog": {"feature": {"role": {"dtype": "string", "_type": "Value"},
                           "content": {"dtype": "string", "_type": "Value"}}, "_type": "List"},
    "source": {"dtype": "string", "_type": "Value"},
    "id": {"dtype": "int64", "_type": "Value"},
}


def text_bytes(rows):
    return sum(len(r.encode()) for r in rows) + 8 * len(rows)


def wikitext_card(splits_by_config):
    """A card laid out like Salesforce/wikitext's: the usual metadata keys, a
    dataset_info list with nested features and splits, then configs."""
    info = ["dataset_info:"]
    configs = ["configs:"]
    for config, splits in splits_by_config.items():
        info += [f"- config_name: {config}", "  features:", "  - name: text", "    dtype: string", "  splits:"]
        configs += [f"- config_name: {config}", "  data_files:"]
        for split, rows in sorted(splits.items()):
            info += [f"  - name: {split}", f"    num_bytes: {text_bytes(rows)}", f"    num_examples: {len(rows)}"]
            configs += [f"  - split: {split}", f"    path: {config}/{split}-*"]
        size = sum(text_bytes(r) for r in splits.values())
        info += [f"  download_size: {size // 2}", f"  dataset_size: {size}"]
    front = "\n".join([
        "annotations_creators:", "- no-annotation", "language_creators:", "- crowdsourced", "language:", "- en",
        "license:", "- cc-by-sa-3.0", "- gfdl", "multilinguality:", "- monolingual", "size_categories:",
        "- 1M<n<10M", "source_datasets:", "- original", "task_categories:", "- text-generation", "- fill-mask",
        "task_ids:", "- language-modeling", "- masked-language-modeling", "paperswithcode_id: wikitext-2",
        "pretty_name: WikiText", *info, *configs])
    body = ("# Dataset Card for \"wikitext\"\n\n## Dataset Description\n\n"
            "The WikiText language modeling dataset is a collection of over 100 million tokens extracted from the "
            "set of verified Good and Featured articles on Wikipedia.\n\n"
            "This fixture holds a few lines of it (LoRA Lab's embedded WikiText), in the repository's layout.\n\n"
            "```yaml\nconfigs:\n- config_name: not-a-config\n```\n")
    return yaml_card(front, body)


def wikitext_files(counts, configs):
    import pyarrow as pa
    files, splits_by_config = {}, {}
    for config in configs:
        splits = {}
        for split, raw in (("train", "train"), ("validation", "valid"), ("test", "test")):
            rows = wiki_rows(raw, counts[split])
            if config == "wikitext-2-v1":
                rows = [unk(r) for r in rows]
            splits[split] = rows
            files[f"{config}/{split}-00000-of-00001.parquet"] = parquet_bytes(
                pa.table({"text": pa.array(rows, pa.string())}), "snappy", TEXT_FEATURES)
        splits_by_config[config] = splits
    files["README.md"] = wikitext_card(splits_by_config)
    return files


def hh_files():
    train, test = dialogues("train"), dialogues("test")
    pick = lambda ds: [{"chosen": d["chosen"], "rejected": d["rejected"]} for d in ds]
    red = []
    for i, d in enumerate(train[12:16]):
        red.append({
            "transcript": d["chosen"],
            "min_harmlessness_score_transcript": round(0.25 - i * 0.5, 2),
            "num_params": ["2.7B", "13B", "52B", "52B"][i],
            "model_type": ["plain lm", "context distillation", "rlhf", "rejection sampling"][i],
            "rating": float(i % 5),
            "task_description": turns(d["chosen"])[0][1],
            "task_descripton_harmlessness_score": round(-0.5 + i * 0.3, 2),
            "red_team_member_id": 100 + i,
            "is_upworker": i % 2 == 0,
            "tags": None,
        })
    card = yaml_card("license: mit\ntags:\n- human-feedback",
                     "# Dataset Card for HH-RLHF\n\n## Dataset Summary\n\n"
                     "Human preference data about helpfulness and harmlessness, and red teaming transcripts.\n\n"
                     "Each line of the jsonl files holds a pair of texts, \"chosen\" and \"rejected\". The red teaming "
                     "data is in red-team-attempts/.\n\n"
                     "Load one subset with `load_dataset(\"Anthropic/hh-rlhf\", data_dir=\"harmless-base\")`.\n")
    return {
        "README.md": card,
        "harmless-base/train.jsonl.gz": gz(jsonl_bytes(pick(train[0:6]))),
        "harmless-base/test.jsonl.gz": gz(jsonl_bytes(pick(test[0:3]))),
        "helpful-base/train.jsonl.gz": gz(jsonl_bytes(pick(train[6:12]))),
        "helpful-base/test.jsonl.gz": gz(jsonl_bytes(pick(test[3:6]))),
        "red-team-attempts/red_team_attempts.jsonl.gz": gz(jsonl_bytes(red)),
    }


SYSTEM = "You are a concise assistant. Answer in one sentence."


def sft_rows(lines, first_line):
    import pyarrow as pa
    rows = {"dialog": [], "source": [], "id": []}
    for i, d in enumerate(lines):
        dialog = messages(d["chosen"])
        if (first_line + i) % 3 == 0:
            dialog = [{"role": "system", "content": SYSTEM}] + dialog
        rows["dialog"].append(dialog)
        rows["source"].append(f"hh-rlhf/train.jsonl:{first_line + i + 1}")
        rows["id"].append(1000 + first_line + i)
    msg = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.table({"dialog": pa.array(rows["dialog"], pa.list_(msg)), "source": pa.array(rows["source"], pa.string()),
                     "id": pa.array(rows["id"], pa.int64())}), len(lines)


def sft_files():
    train = dialogues("train")
    t0, n0 = sft_rows(train[16:20], 16)
    t1, n1 = sft_rows(train[20:23], 20)
    t2, n2 = sft_rows(train[23:26], 23)
    front = "\n".join([
        "license: mit", "task_categories:", "- text-generation", "language:", "- en", "tags:", "- conversational",
        "- sft", "dataset_info:", "  features:", "  - name: dialog", "    list:", "    - name: role",
        "      dtype: string", "    - name: content", "      dtype: string", "  - name: source", "    dtype: string",
        "  - name: id", "    dtype: int64", "  splits:", "  - name: train", "    num_bytes: 2048",
        f"    num_examples: {n0 + n1}", "  - name: test", "    num_bytes: 1024", f"    num_examples: {n2}",
        "  download_size: 4096", "  dataset_size: 3072", "configs:", "- config_name: default", "  data_files:",
        "  - split: train", "    path: data/train-*", "  - split: test", "    path: data/test-*"])
    card = yaml_card(front, "# chat-sft\n\nMulti-turn chat conversations in a `dialog` column (role/content "
                            "messages, some with a system message), for supervised fine-tuning.\n")
    return {
        "README.md": card,
        "data/train-00000-of-00002.parquet": parquet_bytes(t0, "zstd", DIALOG_FEATURES),
        "data/train-00001-of-00002.parquet": parquet_bytes(t1, "gzip", DIALOG_FEATURES),
        "data/test-00000-of-00001.parquet": parquet_bytes(t2, "snappy", DIALOG_FEATURES),
    }


def prefs_table(lines):
    import pyarrow as pa
    cols = {"prompt": [], "chosen": [], "rejected": []}
    for d in lines:
        c, r = messages(d["chosen"]), messages(d["rejected"])
        assert c[:-1] == r[:-1] and c[-1]["role"] == "assistant" and r[-1]["role"] == "assistant"
        cols["prompt"].append(c[:-1])
        cols["chosen"].append(c[-1:])
        cols["rejected"].append(r[-1:])
    msg = pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))
    return pa.table({k: pa.array(v, msg) for k, v in cols.items()})


def prefs_files():
    # No README: the repository has only its data files, named by the split convention.
    return {
        "data/train-00000-of-00001.parquet": parquet_bytes(prefs_table(dialogues("train")[26:32]), "snappy"),
        "data/test-00000-of-00001.parquet": parquet_bytes(prefs_table(dialogues("test")[6:9]), "snappy"),
    }


def alpaca_files():
    train = dialogues("train")
    single = [d for d in train[32:60] if len(turns(d["chosen"])) == 2][:6]
    alpaca = []
    for i, d in enumerate(single):
        (_, question), (_, answer) = turns(d["chosen"])
        if i % 3 == 2:
            alpaca.append({"instruction": "Answer the question.", "input": question, "output": answer})
        else:
            alpaca.append({"instruction": question, "input": "", "output": answer})
    share = [{"conversations": [{"from": "human" if r == "user" else "gpt", "value": c} for r, c in turns(d["chosen"])]}
             for d in train[0:7]]
    front = "\n".join([
        "license: cc-by-nc-4.0", "language:", "- en", "configs:", "- config_name: alpaca", "  data_files: alpaca.jsonl",
        "  default: true", "- config_name: sharegpt", "  data_files:", "  - sharegpt/part-0.jsonl",
        "  - sharegpt/part-1.jsonl", "- config_name: sharegpt-split", "  data_files:", "  - split: train", "    path:",
        "    - sharegpt/part-0.jsonl", "  - split: test", "    path: sharegpt/part-1.jsonl"])
    card = yaml_card(front, "# alpaca-mini\n\nInstruction data in the Alpaca form (`alpaca`, the default) and "
                            "conversations in the ShareGPT form (`sharegpt`, `sharegpt-split`).\n")
    return {
        "README.md": card,
        "alpaca.jsonl": jsonl_bytes(alpaca),
        "sharegpt/part-0.jsonl": jsonl_bytes(share[0:4]),
        "sharegpt/part-1.jsonl": jsonl_bytes(share[4:7]),
    }


# ---------------------------------------------------------------------------
# The hub cache
# ---------------------------------------------------------------------------

def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(path):
    return path.endswith(LFS_SUFFIXES)


def blob_id(path, data):
    return hashlib.sha256(data).hexdigest() if is_lfs(path) else git_blob_sha1(data)


def repo_folder(repo_id):
    return os.path.join(HUB, "datasets--" + repo_id.replace("/", "--"))


def write_snapshot(repo_id, commit, files, ref=None):
    """Blobs, snapshot symlinks and (for the branch head) refs/main, as huggingface_hub
    writes them: relative links, refs without a newline."""
    folder = repo_folder(repo_id)
    for path in sorted(files):
        data = files[path]
        blob = os.path.join(folder, "blobs", blob_id(path, data))
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        if not os.path.exists(blob):
            with open(blob, "wb") as f:
                f.write(data)
        link = os.path.join(folder, "snapshots", commit, *path.split("/"))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(blob, os.path.dirname(link)), link)
    if ref:
        os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
        with open(os.path.join(folder, "refs", ref), "w") as f:
            f.write(commit)


def write_hub():
    write_snapshot("Salesforce/wikitext", WIKITEXT_OLD,
                   wikitext_files({"train": 10, "validation": 5, "test": 20}, ["wikitext-2-raw-v1"]))
    write_snapshot("Salesforce/wikitext", WIKITEXT_MAIN,
                   wikitext_files({"train": 40, "validation": 20, "test": 20}, ["wikitext-2-raw-v1", "wikitext-2-v1"]),
                   "main")
    write_snapshot("Anthropic/hh-rlhf", HH_MAIN, hh_files(), "main")
    write_snapshot("lab-fixtures/chat-sft", SFT_MAIN, sft_files(), "main")
    write_snapshot("lab-fixtures/chat-prefs", PREFS_MAIN, prefs_files(), "main")
    write_snapshot("lab-fixtures/alpaca-mini", ALPACA_MAIN, alpaca_files(), "main")


def read_repos():
    """{repo_id: {"refs": {name: commit}, "commits": {commit: {path: bytes}}}} read back from hub/."""
    repos = {}
    for name in sorted(os.listdir(HUB)):
        if not name.startswith("datasets--"):
            continue
        repo_id = name[len("datasets--"):].replace("--", "/")
        folder = os.path.join(HUB, name)
        refs = {r: open(os.path.join(folder, "refs", r)).read() for r in os.listdir(os.path.join(folder, "refs"))}
        commits = {}
        for commit in os.listdir(os.path.join(folder, "snapshots")):
            snap = os.path.join(folder, "snapshots", commit)
            files = {}
            for dirpath, _, names in os.walk(snap):
                for n in names:
                    full = os.path.join(dirpath, n)
                    files[os.path.relpath(full, snap).replace(os.sep, "/")] = open(full, "rb").read()
            commits[commit] = files
        repos[repo_id] = {"refs": refs, "commits": commits}
    return repos


# ---------------------------------------------------------------------------
# A minimal Hub on 127.0.0.1, serving the snapshots
# ---------------------------------------------------------------------------

def lfs_pointer(data):
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n".encode()


def tree_entry(path, data):
    if is_lfs(path):
        pointer = lfs_pointer(data)
        return {"type": "file", "oid": git_blob_sha1(pointer), "size": len(data), "path": path,
                "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": len(pointer)}}
    return {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}


def folder_entry(path, commit):
    return {"type": "directory", "oid": hashlib.sha1(f"tree {commit} {path}".encode()).hexdigest(), "size": 0, "path": path}


class FakeHub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    repos = {}
    log = []

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, send_body=True):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def error(self, status, code, commit=None, send_body=True):
        headers = {"X-Error-Code": code, "Content-Type": "application/json"}
        if commit:
            headers["X-Repo-Commit"] = commit
        self.reply(status, json.dumps({"error": code}).encode(), headers, send_body)

    def json(self, value):
        self.reply(200, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def resolve(self, repo_id, revision):
        repo = self.repos.get(repo_id)
        if repo is None:
            return None, "RepoNotFound"
        commit = repo["refs"].get(revision, revision)
        if commit not in repo["commits"]:
            return None, "RevisionNotFound"
        return commit, None

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/")
        query = urllib.parse.parse_qs(url.query)
        FakeHub.log.append(f"{method} {url.path}")
        send_body = method != "HEAD"
        if len(parts) >= 7 and parts[1] == "datasets" and parts[4] == "resolve":
            repo_id, revision = parts[2] + "/" + parts[3], urllib.parse.unquote(parts[5])
            path = urllib.parse.unquote("/".join(parts[6:]))
            commit, err = self.resolve(repo_id, revision)
            if err:
                return self.error(404 if err != "RepoNotFound" else 401, err, send_body=send_body)
            files = self.repos[repo_id]["commits"][commit]
            if path not in files:
                return self.error(404, "EntryNotFound", commit, send_body)
            data = files[path]
            headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
            if is_lfs(path):
                headers["X-Linked-Etag"] = '"' + hashlib.sha256(data).hexdigest() + '"'
                headers["X-Linked-Size"] = str(len(data))
                headers["ETag"] = '"' + git_blob_sha1(lfs_pointer(data)) + '"'
            else:
                headers["ETag"] = '"' + git_blob_sha1(data) + '"'
            rng = self.headers.get("Range")
            if rng and send_body:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
                start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
                end = min(int(m.group(2)), len(data) - 1) if m.group(1) and m.group(2) else len(data) - 1
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return self.reply(206, data[start:end + 1], headers)
            return self.reply(200, data, headers, send_body)
        if len(parts) == 5 and parts[1] == "api" and parts[2] == "datasets":
            parts = parts + ["revision", "main"]  # dataset_info() without a revision
        if len(parts) >= 7 and parts[1] == "api" and parts[2] == "datasets":
            repo_id, op, revision = parts[3] + "/" + parts[4], parts[5], urllib.parse.unquote(parts[6])
            rest = urllib.parse.unquote("/".join(parts[7:]))
            commit, err = self.resolve(repo_id, revision)
            if err:
                return self.error(404 if err != "RepoNotFound" else 401, err)
            files = self.repos[repo_id]["commits"][commit]
            folders = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
            if op == "revision":
                return self.json({"id": repo_id, "author": repo_id.split("/")[0], "sha": commit, "private": False,
                                  "gated": False, "disabled": False, "lastModified": "2024-01-04T00:00:00.000Z",
                                  "tags": [], "siblings": [{"rfilename": p} for p in sorted(files)]})
            if op == "tree" and method == "GET":
                recursive = query.get("recursive", ["False"])[0].lower() == "true"
                prefix = rest.strip("/")
                if prefix and prefix not in folders:
                    return self.error(404, "EntryNotFound", commit)
                entries = []
                for p in sorted(set(folders) | set(files)):
                    parent = p.rsplit("/", 1)[0] if "/" in p else ""
                    inside = (p.startswith(prefix + "/") if prefix else True)
                    if inside and (recursive or parent == prefix):
                        entries.append(folder_entry(p, commit) if p in folders else tree_entry(p, files[p]))
                return self.json(entries)
            if op == "paths-info" and method == "POST":
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                out = []
                for p in form.get("paths", []):
                    p = p.strip("/")
                    if p in files:
                        out.append(tree_entry(p, files[p]))
                    elif p in folders:
                        out.append(folder_entry(p, commit))
                return self.json(out)
        FakeHub.log.append(f"  unhandled {method} {self.path}")
        return self.error(404, "EntryNotFound")

    def do_GET(self):
        self.route("GET")

    def do_HEAD(self):
        self.route("HEAD")

    def do_POST(self):
        self.route("POST")


# ---------------------------------------------------------------------------
# The children: what `datasets` says (run with the environment set before import)
# ---------------------------------------------------------------------------

def child(mode, result_path):
    import datasets
    import huggingface_hub
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    scrub = [(os.environ[k], f"<{k}>") for k in ("HF_HUB_CACHE", "LAB_TMP_DATASETS", "LAB_FIXTURE_DATASETS", "HF_HOME")
             if os.environ.get(k)] + [(os.environ.get("HF_ENDPOINT", "https://huggingface.co"), "<endpoint>")]

    def clean(text):
        for path, name in scrub:
            text = text.replace(path, name)
        return text

    def attempt(fn):
        try:
            return fn(), None
        except Exception as e:  # recorded, not raised: expected.json says what datasets did
            return None, clean(f"{type(e).__name__}: {e}").strip()

    def rel_to_snapshot(path, repo, commit):
        for prefix in (f"hf://datasets/{repo}@{commit}/", f"hf://datasets/{repo}/"):
            if path.startswith(prefix):
                return path[len(prefix):]
        m = re.search(r"/snapshots/[0-9a-f]{40}/(.*)$", path)
        return m.group(1) if m else clean(path)

    def jsonable(v):
        if isinstance(v, dict):
            return {k: jsonable(x) for k, x in v.items()}
        if isinstance(v, list):
            return [jsonable(x) for x in v]
        return v

    out = {}
    if mode == "online":
        tmp_ds = os.environ["LAB_TMP_DATASETS"]
        fixture_ds = os.environ["LAB_FIXTURE_DATASETS"]
        arrow_loads = {("Salesforce/wikitext", None, "wikitext-2-raw-v1", None),
                       ("Anthropic/hh-rlhf", None, None, "harmless-base"),
                       ("lab-fixtures/chat-sft", None, None, None)}
        plan = [
            ("Salesforce/wikitext", None, None), ("Salesforce/wikitext", WIKITEXT_OLD, None),
            ("Anthropic/hh-rlhf", None, None), ("Anthropic/hh-rlhf", None, "harmless-base"),
            ("Anthropic/hh-rlhf", None, "helpful-base"), ("Anthropic/hh-rlhf", None, "red-team-attempts"),
            ("lab-fixtures/chat-sft", None, None), ("lab-fixtures/chat-prefs", None, None),
            ("lab-fixtures/alpaca-mini", None, None),
        ]
        repos, cases, arrow = [], [], []
        for repo, revision, data_dir in plan:
            kw = {"revision": revision} if revision else {}
            if data_dir:
                kw["data_dir"] = data_dir
            entry = {"repo": repo, "revision": revision, "data_dir": data_dir}
            configs, err = attempt(lambda: datasets.get_dataset_config_names(repo, **kw))
            entry["configs"] = configs if err is None else {"error": err}
            builder, err = attempt(lambda: datasets.load_dataset_builder(repo, **kw))
            entry["default_config"] = builder.config.name if err is None else {"error": err}
            entry["splits"] = {}
            for config in [None] + (configs or []):
                splits, err = attempt(lambda: datasets.get_dataset_split_names(repo, config, **kw))
                entry["splits"][config or "<none>"] = splits if err is None else {"error": err}
                builder, err = attempt(lambda: datasets.load_dataset_builder(repo, config, **kw))
                base = {"repo": repo, "revision": revision, "config": config, "data_dir": data_dir}
                if err is not None:
                    cases.append({**base, "split": None, "error": err})
                    continue
                commit = builder.hash
                into_fixture = (repo, revision, config, data_dir) in arrow_loads
                loaded, err = attempt(lambda: datasets.load_dataset(repo, config, cache_dir=fixture_ds if into_fixture
                                                                    else tmp_ds, **kw))
                for split in (builder.config.data_files or {}):
                    split = str(split)
                    files = [rel_to_snapshot(str(p), repo, commit) for p in builder.config.data_files[split]]
                    case = {**base, "split": split, "resolved_config": builder.config.name,
                            "resolved_revision": commit, "files": files}
                    if err is not None:
                        case["error"] = err
                    else:
                        ds = loaded[split]
                        case.update({"num_rows": ds.num_rows, "columns": ds.column_names,
                                     "features": jsonable(ds.features.to_dict()),
                                     "rows": jsonable(ds.select(range(min(3, ds.num_rows))).to_list())})
                        if into_fixture:
                            cache_files = [os.path.relpath(c["filename"], fixture_ds) for c in ds.cache_files]
                            case["arrow_cache_files"] = cache_files
                            arrow.append({"repo": repo, "config": config, "data_dir": data_dir, "split": split,
                                          "num_rows": ds.num_rows, "cache_files": cache_files})
                    cases.append(case)
            repos.append(entry)
        out = {"repos": repos, "cases": cases, "arrow_cache": arrow}
    else:
        fixture_ds = os.environ["LAB_FIXTURE_DATASETS"]
        tmp_ds = os.environ["LAB_TMP_DATASETS"]
        hub = os.environ["HF_HUB_CACHE"]
        calls = []

        def record(call, fn):
            value, err = attempt(fn)
            calls.append({"call": call, **({"error": err} if err else {"result": value})})

        def summary(d):
            return {s: {"num_rows": d[s].num_rows, "columns": d[s].column_names,
                        "cache_files": [os.path.relpath(c["filename"], fixture_ds) for c in d[s].cache_files]}
                    for s in d}

        record("load_dataset('Salesforce/wikitext', 'wikitext-2-raw-v1') with an empty datasets cache",
               lambda: summary(datasets.load_dataset("Salesforce/wikitext", "wikitext-2-raw-v1", cache_dir=tmp_ds)))
        record("load_dataset('lab-fixtures/chat-prefs') with an empty datasets cache",
               lambda: summary(datasets.load_dataset("lab-fixtures/chat-prefs", cache_dir=tmp_ds)))
        record("get_dataset_config_names('Salesforce/wikitext') with an empty datasets cache",
               lambda: datasets.get_dataset_config_names("Salesforce/wikitext"))
        record("load_dataset('Salesforce/wikitext', 'wikitext-2-raw-v1', cache_dir=datasets/)",
               lambda: summary(datasets.load_dataset("Salesforce/wikitext", "wikitext-2-raw-v1", cache_dir=fixture_ds)))
        record("load_dataset('Salesforce/wikitext', 'wikitext-2-v1', cache_dir=datasets/) (a config not in the Arrow cache)",
               lambda: summary(datasets.load_dataset("Salesforce/wikitext", "wikitext-2-v1", cache_dir=fixture_ds)))
        record("load_dataset('Anthropic/hh-rlhf', data_dir='harmless-base', cache_dir=datasets/)",
               lambda: summary(datasets.load_dataset("Anthropic/hh-rlhf", data_dir="harmless-base", cache_dir=fixture_ds)))
        record("load_dataset('Anthropic/hh-rlhf', cache_dir=datasets/) (no data_dir)",
               lambda: summary(datasets.load_dataset("Anthropic/hh-rlhf", cache_dir=fixture_ds)))
        record("load_dataset('lab-fixtures/chat-sft', cache_dir=datasets/)",
               lambda: summary(datasets.load_dataset("lab-fixtures/chat-sft", cache_dir=fixture_ds)))
        for repo, rev in (("Salesforce/wikitext", None), ("Salesforce/wikitext", WIKITEXT_OLD),
                          ("lab-fixtures/chat-prefs", None)):
            filename = "README.md"
            record(f"huggingface_hub.hf_hub_download({repo!r}, {filename!r}, repo_type='dataset', revision={rev!r})",
                   lambda: os.path.relpath(huggingface_hub.hf_hub_download(repo, filename, repo_type="dataset",
                                                                           revision=rev), hub))
        record("huggingface_hub.hf_hub_download('Salesforce/wikitext', 'wikitext-2-raw-v1/train-00000-of-00001.parquet', "
               "repo_type='dataset')",
               lambda: os.path.relpath(huggingface_hub.hf_hub_download(
                   "Salesforce/wikitext", "wikitext-2-raw-v1/train-00000-of-00001.parquet", repo_type="dataset"), hub))

        def scan():
            info = huggingface_hub.scan_cache_dir(hub)
            return {"warnings": [clean(str(w)) for w in info.warnings], "repos": sorted([
                {"repo_id": r.repo_id, "repo_type": r.repo_type, "nb_files": r.nb_files, "size_on_disk": r.size_on_disk,
                 "refs": sorted(r.refs), "revisions": sorted([
                     {"commit_hash": v.commit_hash, "refs": sorted(v.refs), "nb_files": v.nb_files,
                      "files": sorted(os.path.relpath(str(f.file_path), str(v.snapshot_path)) for f in v.files)}
                     for v in r.revisions], key=lambda v: v["commit_hash"])}
                for r in info.repos], key=lambda r: r["repo_id"])}
        record("huggingface_hub.scan_cache_dir(hub/)", scan)
        out = {"calls": calls}
    with open(result_path, "w") as f:
        json.dump(out, f)


def run_child(mode, env_extra, result_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(env_extra)
    subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, result_path], env=env, check=True)
    with open(result_path) as f:
        return json.load(f)


# ---------------------------------------------------------------------------

def check_client_cache(client):
    """What huggingface_hub itself wrote while datasets ran must match hub/: blob ids,
    symlink targets and refs. Returns the .no_exist entries it wrote."""
    checked, no_exist = 0, []
    for dirpath, dirnames, names in os.walk(client):
        for n in names:
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, client)
            parts = rel.split(os.sep)
            if parts[0] in (".locks",) or n in ("CACHEDIR.TAG",) or n.endswith(".lock"):
                continue
            mine = os.path.join(HUB, rel)
            if len(parts) > 2 and parts[1] == ".no_exist":
                no_exist.append(rel)
            elif os.path.islink(full):
                assert os.path.islink(mine), f"{rel}: huggingface_hub wrote it, the fixture lacks it"
                assert os.readlink(full) == os.readlink(mine), f"{rel}: {os.readlink(full)} != {os.readlink(mine)}"
            else:
                assert os.path.isfile(mine), f"{rel}: huggingface_hub wrote it, the fixture lacks it"
                assert open(full, "rb").read() == open(mine, "rb").read(), f"{rel} differs"
            checked += 1
    return checked, sorted(no_exist)


def clean_datasets_cache():
    shutil.rmtree(os.path.join(DSCACHE, "downloads"), ignore_errors=True)
    for dirpath, _, names in os.walk(DSCACHE):
        for n in names:
            if n.endswith(".lock"):
                os.remove(os.path.join(dirpath, n))
    for dirpath, _, _ in sorted(os.walk(DSCACHE), key=lambda t: -len(t[0])):
        if not os.listdir(dirpath):
            os.rmdir(dirpath)


def write_readme():
    text = f"""# Hugging Face cache fixtures (datasets)

Made by `tests/data/make_hub_datasets.py` with the pinned Python stack (versions in
`expected.json`); run it again rather than editing anything here. The texts come from
`resources/data/wikitext` and `resources/data/dialogues`.

| path | what |
| --- | --- |
| `hub/` | huggingface_hub's cache (`HF_HUB_CACHE`): `datasets--Org--Name/refs/main` (a commit id, no newline), `snapshots/<commit>/...` as relative symlinks into `blobs/<id>` (git sha1 of a plain file, sha256 of a `.parquet` / `.gz` file), `.no_exist/<commit>/<name>` for the files `datasets` asked for and did not find |
| `hub/datasets--Salesforce--wikitext` | README with the real card's keys (`dataset_info` list, `configs` for `wikitext-2-raw-v1` and `wikitext-2-v1`), one Snappy Parquet file per split with a `text` column: lines with their `\\n`, blank lines as `""`; train 40, validation 20, test 20 lines of the raw WikiText; `wikitext-2-v1` has long words as `<unk>` |
| the same, snapshot `{WIKITEXT_OLD[:12]}...` | an older revision not named by `refs/main`: only `wikitext-2-raw-v1`, train 10, validation 5, test 20 rows (its test file shares the blob of main's) |
| `hub/datasets--Anthropic--hh-rlhf` | card without `configs`; gzipped JSON Lines (`chosen`, `rejected`) in `harmless-base/` and `helpful-base/` (`train.jsonl.gz` 6 records, `test.jsonl.gz` 3 each), `red-team-attempts/red_team_attempts.jsonl.gz` (4 records: `transcript`, `rating`, ...; no split word in its name) |
| `hub/datasets--lab-fixtures--chat-sft` | `configs` with a `default` config (`data/train-*`, `data/test-*`); `data/train-00000-of-00002.parquet` (4 rows, Zstandard), `data/train-00001-of-00002.parquet` (3, gzip), `data/test-00000-of-00001.parquet` (3, Snappy); columns `dialog` (list of role/content structs, a system message in some rows), `source`, `id` (int64) |
| `hub/datasets--lab-fixtures--chat-prefs` | no README; `data/train-00000-of-00001.parquet` (6 rows) and `data/test-00000-of-00001.parquet` (3): TRL's conversational preference columns `prompt`, `chosen`, `rejected` (lists of role/content messages) |
| `hub/datasets--lab-fixtures--alpaca-mini` | `configs`: `alpaca` (`data_files: alpaca.jsonl`, `default: true`), `sharegpt` (a list of two files), `sharegpt-split` (`split`/`path` items, one path a list); `alpaca.jsonl` (instruction/input/output), `sharegpt/part-0.jsonl`, `part-1.jsonl` (`conversations` of from/value) |
| `datasets/` | the `datasets` library's Arrow cache (its `cache_dir`) after `load_dataset` of `Salesforce/wikitext` `wikitext-2-raw-v1`, `Anthropic/hh-rlhf` with `data_dir="harmless-base"` and `lab-fixtures/chat-sft`: `<org>___<name>/<config id>/0.0.0/<commit>/` with `dataset_info.json` and one `.arrow` file per split (lock files and `downloads/` removed) |
| `expected.json` | what `datasets` says about each repository (config names, default config, split names) and each case (repo, revision, config, data_dir, split): the files it reads, relative to the snapshot, in its order, row count, columns, features, first three rows, and for the Arrow cache loads the `.arrow` files; `offline`: what works and fails with `HF_HUB_OFFLINE=1` on these two caches |

`datasets` does not read `hub/` when offline, so `expected.json` (except `offline`) was made by
serving the snapshots on 127.0.0.1 as a minimal Hub and running `datasets` against it with an
empty hub cache; what huggingface_hub wrote there was checked to be identical to `hub/`.
"""
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(text)


def main():
    import datasets
    import huggingface_hub
    import pyarrow as pa
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(HUB)
    write_hub()
    FakeHub.repos = read_repos()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="hub-datasets-") as tmp:
        client = os.path.join(tmp, "hub")
        common = {"HF_HOME": os.path.join(tmp, "home"), "HF_HUB_DISABLE_TELEMETRY": "1",
                  "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0",
                  "HF_DATASETS_CACHE": os.path.join(tmp, "default-datasets"),
                  "LAB_FIXTURE_DATASETS": DSCACHE, "PYTHONHASHSEED": "0"}
        online = run_child("online", {**common, "HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0",
                                      "HF_HUB_CACHE": client, "LAB_TMP_DATASETS": os.path.join(tmp, "ds-online")},
                           os.path.join(tmp, "online.json"))
        server.shutdown()
        unhandled = [line for line in FakeHub.log if "unhandled" in line]
        assert not unhandled, unhandled
        checked, no_exist = check_client_cache(client)
        for rel in no_exist:
            path = os.path.join(HUB, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        clean_datasets_cache()
        offline = run_child("offline", {**common, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_CACHE": HUB,
                                        "LAB_TMP_DATASETS": os.path.join(tmp, "ds-offline")},
                            os.path.join(tmp, "offline.json"))
        clean_datasets_cache()
    expected = {
        "versions": {"datasets": datasets.__version__, "huggingface_hub": huggingface_hub.__version__,
                     "pyarrow": pa.__version__},
        "commits": {"Salesforce/wikitext": {"main": WIKITEXT_MAIN, "older": WIKITEXT_OLD},
                    "Anthropic/hh-rlhf": {"main": HH_MAIN}, "lab-fixtures/chat-sft": {"main": SFT_MAIN},
                    "lab-fixtures/chat-prefs": {"main": PREFS_MAIN}, "lab-fixtures/alpaca-mini": {"main": ALPACA_MAIN}},
        "repos": online["repos"],
        "cases": online["cases"],
        "arrow_cache": online["arrow_cache"],
        "hub_cache_check": {"files_written_by_huggingface_hub_and_matched": checked, "no_exist": no_exist},
        "offline": offline["calls"],
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")
    write_readme()
    total = 0
    for dirpath, _, names in os.walk(OUT):
        total += sum(os.lstat(os.path.join(dirpath, n)).st_size for n in names)
    print(f"wrote {OUT}: {total / 1024:.1f} KiB; {len(expected['cases'])} cases; "
          f"{checked} hub-cache files matched what huggingface_hub wrote")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        # The parent only writes files; nothing in it may reach a network or a user's cache.
        os.environ.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                           "HF_HOME": tempfile.mkdtemp(prefix="hub-datasets-home-")})
        try:
            main()
        finally:
            shutil.rmtree(os.environ["HF_HOME"], ignore_errors=True)
