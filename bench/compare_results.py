#!/usr/bin/env python3
"""Prints the ratio table of a bench/run_gpu_comparison.sh or run_cpu_comparison.sh results directory (Markdown)."""
import glob
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench-results"
    # <config>.<tool>.json, or <config>.<tool>.<round>.json when each was measured several times in turn:
    # then the round with the median tokens/s stands for the tool.
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        name, tool = os.path.basename(path)[:-5].split(".")[:2]
        runs.setdefault(name, {}).setdefault(tool, []).append(load(path))
    rows = {name: {tool: sorted(results, key=lambda r: r["tokens_per_s"])[len(results) // 2]
                   for tool, results in tools.items()} for name, tools in runs.items()}
    print("| config | tool | tokens/s | step ms | peak GiB | first step s | vs PEFT eager | vs PEFT compile | of floor |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, tools in rows.items():
        if name.endswith("-floor"):
            continue
        floor = rows.get(name.split("-")[0] + "-floor", {}).get("floor-bf16")
        for tool in ("loralab", "loralab-libtorch2", "peft-eager", "peft-compile"):
            r = tools.get(tool)
            if not r:
                continue
            ratio = lambda other: "%.2fx" % (r["tokens_per_s"] / tools[other]["tokens_per_s"]) if other in tools else "-"
            of_floor = "%.0f%%" % (100 * r["tokens_per_s"] / floor["tokens_per_s"]) if floor and r["dtype"] == "bf16" else "-"
            print("| %s | %s | %.0f | %.1f | %.2f | %.1f | %s | %s | %s |" % (
                name, tool, r["tokens_per_s"], r["median_step_ms"], r["peak_memory_bytes"] / 2**30,
                r.get("first_step_s", 0.0), ratio("peft-eager"), ratio("peft-compile"), of_floor))


if __name__ == "__main__":
    main()
