"""Cost of memory profiling (part of B5): an allocation-heavy stdlib program run with
(a) no profiling, (b) hotpath mem_enabled=True with the default duty cycle 0.05 (cpu_enabled=False,
upload_interval=1, so 50 ms of every second is traced), (c) tracemalloc on all the time (what an
undamped tracemalloc profiler would cost). Fresh process per run, interleaved a b c, 5 reps; wall
seconds of the work, median and min-max. Prints one JSON document.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from typing import Dict, List

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = """
import sys, time, json, tracemalloc
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
time.sleep(0.2)
t0 = time.perf_counter()
for _ in range(3):
    work()
print(json.dumps({{"wall": time.perf_counter() - t0}}))
"""


def run(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(sdk=SDK, mode=mode)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])["wall"]


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    runs: Dict[str, List[float]] = {"off": [], "hotpath": [], "tracemalloc": []}
    for _ in range(reps):
        for mode in runs:
            runs[mode].append(run(mode))
    off = statistics.median(runs["off"])
    result = {
        mode: {
            "median_s": round(statistics.median(xs), 4),
            "min_s": round(min(xs), 4),
            "max_s": round(max(xs), 4),
            "slowdown_pct": round((statistics.median(xs) / off - 1) * 100, 1),
        }
        for mode, xs in runs.items()
    }
    print(json.dumps({"python": platform.python_version(), "reps": reps, "modes": result}))


if __name__ == "__main__":
    main()
