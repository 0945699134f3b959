#!/usr/bin/env python3
"""LoRA Lab's TensorBoard event files read by TensorBoard itself (label `interop`).

  recorded_run   the runs unit/tensorboard_run_events recorded (an SFT run and a data-parallel DPO
                 run) and wrote as events: TensorBoard's EventAccumulator finds every scalar of
                 metrics.jsonl under its tag, at its step, equal to the JSONL value as float32, with
                 the step's wall time; the configuration and the samples as text the text plugin
                 renders; and no tag that the JSONL does not account for. With --runs at the
                 folder unit/tensorboard_events_of_trained_runs wrote, the same for the events
                 runs wrote as they trained (their wall times are their own clock's).
  live_file      a writer still running (tests/engine/tensorboard_probe): records appear to a
                 polling reader as they are added; after SIGKILL the file reads whole; a copy cut
                 inside its last record reads every record before it, and the cut record appears
                 once its bytes arrive.

  python3 tests/python/check_tensorboard.py --runs build/test-scratch/tensorboard-runs recorded_run
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.text import text_plugin
from tensorboard.util import tensor_util

ALL = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}

# tag -> the value in a metrics.jsonl step record (None: the record does not have it)
STEP_TAGS = {
    "train/loss": lambda r: r["loss"],
    "train/learning_rate": lambda r: r["learning_rate"],
    "train/grad_norm": lambda r: r["grad_norm"],
    "train/epoch": lambda r: r["epoch"],
    "train/tokens": lambda r: r["tokens"],
    "train/tokens_per_second": lambda r: r["tokens_per_s"],
    "time/forward_ms": lambda r: r["forward_ms"],
    "time/backward_ms": lambda r: r["backward_ms"],
    "time/optimizer_ms": lambda r: r["optimizer_ms"],
    "time/step_ms": lambda r: r["step_ms"],
    "time/elapsed_seconds": lambda r: r["elapsed_s"],
    "time/eta_seconds": lambda r: r["eta_s"],
    "time/comm_ms": lambda r: r.get("comm_ms"),
    "memory/bytes": lambda r: r["memory_bytes"],
    "memory/peak_bytes": lambda r: r["peak_memory_bytes"],
    "memory/process_bytes": lambda r: r["process_memory_bytes"],
    "memory/estimate_total_bytes": lambda r: r["memory_estimate"]["total"],
    "dpo/reward_chosen": lambda r: r.get("reward_chosen"),
    "dpo/reward_rejected": lambda r: r.get("reward_rejected"),
    "dpo/reward_margin": lambda r: r.get("reward_margin"),
    "dpo/preference_accuracy": lambda r: r.get("preference_accuracy"),
}
for part in ("weights", "gradients", "optimizer", "activations"):
    STEP_TAGS["memory/measured_%s_bytes" % part] = lambda r, p=part: r["memory_measured"][p]
    STEP_TAGS["memory/estimate_%s_bytes" % part] = lambda r, p=part: r["memory_estimate"][p]
EVAL_TAGS = {
    "eval/loss": lambda r: r["loss"],
    "eval/perplexity": lambda r: r["perplexity"],
    "eval/best": lambda r: r["best"],
    "eval/tokens": lambda r: r["tokens"],
    "eval/preference_accuracy": lambda r: r.get("preference_accuracy"),
    "eval/reward_margin": lambda r: r.get("reward_margin") if "preference_accuracy" in r else None,
}


def fail(message):
    raise AssertionError(message)


def accumulator(path):
    acc = event_accumulator.EventAccumulator(str(path), size_guidance=ALL)
    acc.Reload()
    return acc


def unindent(text):
    return "\n".join(line[4:] if line.startswith("    ") else line for line in text.split("\n"))


def text_of(acc, tag):
    events = acc.Tensors(tag)
    if len(events) != 1:
        fail("%d %r text events, expected 1" % (len(events), tag))
    if acc.SummaryMetadata(tag).plugin_data.plugin_name != "text":
        fail("%r is not marked for the text plugin" % tag)
    array = tensor_util.make_ndarray(events[0].tensor_proto)
    html = text_plugin.text_array_to_html(array, enable_markdown=True)  # what TensorBoard shows
    if not html:
        fail("the text plugin renders %r as nothing" % tag)
    return array.item().decode("utf-8"), events[0].step


def check_run(run, start_time):
    run_dir = pathlib.Path(run["run_dir"])
    records = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    steps = [r for r in records if r["type"] == "step"]
    evals = [r for r in records if r["type"] == "eval"]
    acc = accumulator(run["events"])
    expected = {}
    for table, rows in ((STEP_TAGS, steps), (EVAL_TAGS, evals)):
        for tag, value in table.items():
            points = [(r["step"], value(r), r) for r in rows if value(r) is not None]
            if points:
                expected[tag] = points
    tags = set(acc.Tags()["scalars"])
    if tags != set(expected):
        fail("%s: tags %s missing, %s unexpected" % (run["events"], sorted(set(expected) - tags), sorted(tags - set(expected))))
    compared = 0
    for tag, points in expected.items():
        events = acc.Scalars(tag)
        if len(events) != len(points):
            fail("%s: %d events, metrics.jsonl has %d" % (tag, len(events), len(points)))
        for event, (step, value, record) in zip(events, points):
            if event.step != step or np.float32(event.value) != np.float32(value):
                fail("%s at step %d: %r, metrics.jsonl says %r at step %d" % (tag, event.step, event.value, value, step))
            if start_time is None:  # written as the run trained: its own clock
                if record["type"] == "step" and event.wall_time <= 0:
                    fail("%s at step %d: wall time %r" % (tag, step, event.wall_time))
            elif record["type"] == "step" and event.wall_time != start_time + record["elapsed_s"]:
                fail("%s at step %d: wall time %r, expected %r" % (tag, step, event.wall_time, start_time + record["elapsed_s"]))
            compared += 1
    config, step = text_of(acc, "config")
    if step != 0 or json.loads(unindent(config)) != json.load(open(run_dir / "config.json")):
        fail("the config text is not config.json")
    samples, step = text_of(acc, "samples")
    if step != steps[-1]["step"]:
        fail("samples at step %d, the run's last step is %d" % (step, steps[-1]["step"]))
    lines = set(samples.split("\n"))
    sample_count = 0
    for sample in map(json.loads, open(run_dir / "samples.jsonl")):
        sample_count += 1
        for key in ("prompt", "target", "rejected", "base_output", "tuned_output"):
            text = sample.get(key, "")
            for line in text.split("\n") if text else []:
                if "    " + line not in lines:
                    fail("sample %d: %s line %r is not in the samples text" % (sample["index"], key, line))
    print("%s (%s): %d scalars in %d tags equal metrics.jsonl; config and %d samples as text" %
          (run_dir.name, run["method"], compared, len(expected), sample_count))


def recorded_run(args):
    expected = json.load(open(pathlib.Path(args.runs) / "expected.json"))
    for run in expected["runs"]:
        check_run(run, expected["start_time"])


class Probe:
    def __init__(self, exe, folder):
        self.process = subprocess.Popen([exe, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.path = pathlib.Path(self.process.stdout.readline().strip())

    def send(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer.startswith("ok "):
            fail("the probe answered %r to %r" % (answer, line))
        return int(answer.split()[1])


def values(acc, tag="live/value"):
    return [(e.step, e.value) for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def live_file(args):
    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    probe = Probe(args.probe, work / "events")
    sent = []
    for i in range(1, 6):
        probe.send("scalar live/value %d %r" % (i, 0.1 * i + 1 / 3))
        sent.append((i, float(np.float32(0.1 * i + 1 / 3))))
    acc = event_accumulator.EventAccumulator(str(probe.path), size_guidance=ALL)
    acc.Reload()
    if values(acc) != sent:
        fail("while the writer runs, the reader sees %r, expected %r" % (values(acc), sent))
    for i in range(6, 11):
        probe.send("scalar live/value %d %r" % (i, -2.5 * i))
        sent.append((i, -2.5 * i))
    acc.Reload()  # the same reader polling again, as TensorBoard does
    if values(acc) != sent:
        fail("after more records, the polling reader sees %r" % values(acc))
    records = probe.send("text notes 10 the last record, then the process is killed")
    os.kill(probe.process.pid, signal.SIGKILL)
    probe.process.wait()
    killed = accumulator(probe.path)
    if values(killed) != sent or killed.Tags()["tensors"] != ["notes"]:
        fail("after SIGKILL the file reads %r and texts %r" % (values(killed), killed.Tags()["tensors"]))
    print("a running writer: %d records seen as they were added; after SIGKILL all %d read" % (len(sent), records))

    whole = probe.path.read_bytes()
    frames, pos = [], 0
    while pos < len(whole):
        length = int.from_bytes(whole[pos:pos + 8], "little")
        frames.append((pos, 16 + length))
        pos += 16 + length
    start, size = frames[-1]
    for cut in (3, 10, size - 4, size - 1):  # in the length, its CRC, the data, the data's CRC
        partial = work / ("cut-%d" % cut) / probe.path.name
        partial.parent.mkdir()
        partial.write_bytes(whole[:start + cut])
        reader = event_accumulator.EventAccumulator(str(partial), size_guidance=ALL)
        reader.Reload()
        if values(reader) != sent or reader.Tags()["tensors"]:
            fail("cut %d bytes into the last record: reads %r, texts %r" % (cut, values(reader), reader.Tags()["tensors"]))
        with open(partial, "ab") as f:
            f.write(whole[start + cut:])
        reader.Reload()
        if reader.Tags()["tensors"] != ["notes"]:
            fail("cut %d bytes into the last record: once completed it is not read" % cut)
    print("a file cut inside its last record reads the %d records before it; the last appears once whole" % (len(frames) - 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", help="the folder unit/tensorboard_run_events wrote (recorded_run)")
    parser.add_argument("--probe", help="tests/engine/tensorboard_probe (live_file)")
    parser.add_argument("--work", help="a scratch folder (live_file)")
    parser.add_argument("case", choices=["recorded_run", "live_file"])
    args = parser.parse_args()
    try:
        {"recorded_run": recorded_run, "live_file": live_file}[args.case](args)
    except AssertionError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
