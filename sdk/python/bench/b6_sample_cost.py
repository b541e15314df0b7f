"""B6: CPU cost of one sample (one sampler tick over all threads) at K threads x depth D.

Two figures per sampler: "_100hz" = CPU inside tick() when ticking at 100 Hz from sleep (caches
cold after every wake-up: what a real agent pays), "_warm" = ticks back to back (how the B6
anchor's 10 µs / 263 µs were measured). "empty_100hz" = the measurement's own cost (two
thread-CPU clock reads around a no-op).

For K in 1, 8, 32, 128 threads, each D = 30 frames deep, either busy (pure-Python loop, all
contending for the GIL) or idle (blocked on an Event), the sampler thread ticks at 100 Hz and we
read its own thread CPU time: cost per tick = sampler thread CPU / ticks. The same run measures
the naive sampler (sys._current_frames + walk every frame of every thread, like the B6 anchor)
side by side, interleaved, 5 repetitions; median and min-max. Prints one JSON document.

Usage: python b6_sample_cost.py [--seconds 0.6] [--reps 5] [--threads 1,8,32,128] [--depth 30] [--sdk DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from typing import Any, Callable, Dict, List

# --sdk DIR measures the SDK in DIR (e.g. an older checkout, for an A/B run) instead of this one.
_SDK = sys.argv[sys.argv.index("--sdk") + 1] if "--sdk" in sys.argv else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _SDK)

from hotpath.config import LineNo  # noqa: E402
from hotpath.sampler import FrameNamer, Sampler  # noqa: E402


def naive_tick_factory() -> Callable[[], None]:
    me = threading.get_ident
    values: Dict[Any, int] = {}

    def tick() -> None:
        mine = me()
        for ident, f in sys._current_frames().items():
            if ident == mine:
                continue
            raw = []
            while f is not None:
                raw.append((f.f_code, f.f_lineno))
                f = f.f_back
            key = tuple(raw)
            values[key] = values.get(key, 0) + 1

    return tick


def exclude_me(tick: Callable[[], None]) -> None:
    """The agent never samples its own sampler thread; neither does the benchmark."""
    owner = getattr(tick, "__self__", None)
    if isinstance(owner, Sampler):
        owner.exclude.add(threading.get_ident())


def run_sampler(tick: Callable[[], None], seconds: float, rate: int = 100) -> float:
    """Runs tick() at `rate` Hz in a fresh thread; returns the CPU µs spent inside one tick() (the
    thread's CPU clock read around each call; the wake-up itself is not included)."""
    result: List[float] = []

    def loop() -> None:
        exclude_me(tick)
        interval = 1.0 / rate
        end = time.monotonic() + seconds
        next_t = time.monotonic()
        n = 0
        inside = 0.0
        clock = time.thread_time
        while time.monotonic() < end:
            next_t += interval
            d = next_t - time.monotonic()
            if d > 0:
                time.sleep(d)
            c0 = clock()
            tick()
            inside += clock() - c0
            n += 1
        result.append(inside / max(1, n) * 1e6)

    t = threading.Thread(target=loop, name="bench-sampler")
    t.start()
    t.join()
    return result[0]


def run_warm(tick: Callable[[], None], n: int = 300) -> float:
    """CPU µs per tick() when ticks run back to back (warm caches), as the B6 anchor measured it."""
    result: List[float] = []

    def loop() -> None:
        exclude_me(tick)
        tick()
        c0 = time.thread_time()
        for _ in range(n):
            tick()
        result.append((time.thread_time() - c0) / n * 1e6)

    t = threading.Thread(target=loop, name="bench-sampler")
    t.start()
    t.join()
    return result[0]


def workload(k: int, depth: int, busy: bool) -> Callable[[], None]:
    stop = threading.Event()
    ready = threading.Barrier(k + 1)

    def deep(d: int) -> None:
        if d > 1:
            deep(d - 1)
            return
        ready.wait()
        if busy:
            x = 0
            while not stop.is_set():
                for i in range(500):
                    x += i
        else:
            stop.wait()

    # thread bootstrap adds ~3 frames; recurse so that the total depth is about `depth`
    threads = [threading.Thread(target=deep, args=(depth - 3,), daemon=True) for _ in range(k)]
    for t in threads:
        t.start()
    ready.wait()

    def done() -> None:
        stop.set()
        for t in threads:
            t.join()

    return done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0.6)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="1,8,32,128")
    ap.add_argument("--depth", type=int, default=30)
    ap.add_argument("--sdk", default=_SDK, help="directory holding the hotpath package to measure")
    a = ap.parse_args()
    rows = []
    for k in [int(x) for x in a.threads.split(",")]:
        for busy in (True, False):
            done = workload(k, a.depth, busy)
            try:
                runs: Dict[str, List[float]] = {
                    k: [] for k in ("hotpath_100hz", "naive_100hz", "empty_100hz", "hotpath_warm", "hotpath_first_line_warm", "naive_warm")
                }
                # Under GIL contention each warm tick can wait a switch interval per busy thread:
                # fewer back-to-back ticks at 128 threads keep the run short.
                n = 300 if k <= 32 else 40
                for _ in range(a.reps):  # interleaved A B C A B C ...
                    runs["hotpath_100hz"].append(run_sampler(Sampler().tick, a.seconds))
                    runs["naive_100hz"].append(run_sampler(naive_tick_factory(), a.seconds))
                    runs["empty_100hz"].append(run_sampler(lambda: None, a.seconds))
                    runs["hotpath_warm"].append(run_warm(Sampler().tick, n))
                    runs["hotpath_first_line_warm"].append(run_warm(Sampler(line_no=LineNo.First).tick, n))
                    runs["naive_warm"].append(run_warm(naive_tick_factory(), n))
                # the flush-time conversion is paid once per upload, not per tick: report it apart
                s = Sampler()
                run_sampler(s.tick, a.seconds)
                s.exclude.add(threading.get_ident())
                c0 = time.thread_time()
                values = s.take()
                namer = FrameNamer()
                for (raw, _labels) in values:
                    namer.stack(raw)
                flush_ms = (time.thread_time() - c0) * 1e3
            finally:
                done()
            row = {"threads": k, "depth": a.depth, "state": "busy" if busy else "idle", "flush_ms": round(flush_ms, 2)}
            for name, xs in runs.items():
                row[name] = {"median_us": round(statistics.median(xs), 1), "min_us": round(min(xs), 1), "max_us": round(max(xs), 1)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "rate_hz": 100,
                "seconds_per_run": a.seconds,
                "reps": a.reps,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
