"""Cost of memory profiling (part of B5): an allocation-heavy stdlib program run with
(a) no profiling, (b) hotpath mem_enabled=True with the default duty cycle (cpu_enabled=False,
upload_interval=1, so every second has one traced slice), (c) tracemalloc on all the time (what an
undamped tracemalloc profiler would cost; fewer iterations, it is 20-30x slower). With --ab DIR,
(d) the same as (b) with the hotpath package in DIR (an older checkout), for an A/B of two SDKs.
Fresh process per run, modes interleaved, 5 reps; per mode the median (min-max) of the seconds
per iteration of the work, wall and process CPU (user+sys, hotpath's own threads included), and
the slowdown of the medians against (a). The work runs ~3 s so that slices of several windows
are in it (a 0.1 s program either misses the one slice or spends a large share of itself in it).

Usage: python mem_cost.py [--reps 5] [--iterations 60] [--ab DIR]. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from typing import Dict, List

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = """
import sys, time, json, tracemalloc, resource
sys.path.insert(0, {sdk!r})
mode = {mode!r}
if mode == "hotpath":
    import hotpath
    hotpath.configure(application_name="mem-bench", server_address="http://127.0.0.1:9", cpu_enabled=False,
                      mem_enabled=True, upload_interval=1, max_overhead=0)
elif mode == "tracemalloc":
    tracemalloc.start(128)
def work():
    keep = []
    for i in range(100000):
        d = {{"id": i, "name": "n%d" % i, "vals": [i, i + 1, i + 2]}}
        if i % 10 == 0:
            keep.append(d)
        if len(keep) > 5000:
            keep = keep[2500:]
    return len(json.dumps(keep))
def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
time.sleep(0.2)
t0, c0 = time.perf_counter(), cpu_s()
for _ in range({iterations}):
    work()
print(json.dumps({{"wall": (time.perf_counter() - t0) / {iterations}, "cpu": (cpu_s() - c0) / {iterations}}}))
"""


def run(mode: str, sdk: str, iterations: int) -> Dict[str, float]:
    code = PROGRAM.format(sdk=sdk, mode=mode, iterations=iterations)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reps_positional", nargs="?", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--ab", help="also measure the hotpath package in this directory (mode hotpath_b)")
    a = ap.parse_args()
    reps = a.reps_positional or a.reps
    modes = {"off": ("off", SDK, a.iterations), "hotpath": ("hotpath", SDK, a.iterations)}
    if a.ab:
        modes["hotpath_b"] = ("hotpath", a.ab, a.iterations)
    modes["tracemalloc"] = ("tracemalloc", SDK, max(1, a.iterations // 20))
    runs: Dict[str, List[Dict[str, float]]] = {m: [] for m in modes}
    for rep in range(reps):
        names = list(modes) if rep % 2 == 0 else list(reversed(modes))  # alternate who goes first
        for name in names:
            runs[name].append(run(*modes[name]))
    result = {}
    for name, xs in runs.items():
        row: Dict[str, float] = {}
        for metric in ("wall", "cpu"):
            vals = [x[metric] for x in xs]
            base = statistics.median(x[metric] for x in runs["off"])
            row[f"{metric}_median_s"] = round(statistics.median(vals), 5)
            row[f"{metric}_min_s"] = round(min(vals), 5)
            row[f"{metric}_max_s"] = round(max(vals), 5)
            row[f"{metric}_slowdown_pct"] = round((statistics.median(vals) / base - 1) * 100, 1)
        # kept for the B5 wrapper's table
        row["median_s"], row["min_s"], row["max_s"] = row["wall_median_s"], row["wall_min_s"], row["wall_max_s"]
        row["slowdown_pct"] = row["wall_slowdown_pct"]
        result[name] = row
    print(json.dumps({"python": platform.python_version(), "reps": reps, "iterations": a.iterations, "modes": result}))


if __name__ == "__main__":
    main()
