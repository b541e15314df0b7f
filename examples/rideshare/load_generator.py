"""Sends rides to random regions and vehicles at a steady rate and prints a summary line every report
interval and on exit. Standard library only.

    python load_generator.py --targets us-east=http://127.0.0.1:5001,eu-north=http://127.0.0.1:5002 --rate 2
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

VEHICLES = ("bike", "scooter", "car")


def parse_targets(text: str) -> dict[str, str]:
    """`region=url,region=url` -> {region: url}."""
    targets = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        region, sep, url = part.partition("=")
        if not sep or not region or not url.startswith(("http://", "https://")):
            raise ValueError(f"target {part!r} is not region=http://host:port")
        targets[region] = url.rstrip("/")
    if not targets:
        raise ValueError("no targets given")
    return targets


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started_s = time.monotonic()
        self.ok = 0
        self.errors = 0
        self.last_error = ""
        self.by_vehicle: Counter[str] = Counter()
        self.by_region: Counter[str] = Counter()

    def record(self, region: str, vehicle: str, error: str | None) -> None:
        with self.lock:
            self.by_vehicle[vehicle] += 1
            self.by_region[region] += 1
            if error is None:
                self.ok += 1
            else:
                self.errors += 1
                self.last_error = error

    def summary(self) -> str:
        with self.lock:
            elapsed_s = time.monotonic() - self.started_s
            total = self.ok + self.errors
            vehicles = ", ".join(f"{v} {self.by_vehicle[v]}" for v in VEHICLES)
            regions = ", ".join(f"{r} {n}" for r, n in sorted(self.by_region.items()))
            line = (
                f"load: {total} requests in {elapsed_s:.1f} s ({total / max(elapsed_s, 1e-9):.1f}/s), "
                f"{self.ok} ok, {self.errors} errors; {vehicles}; {regions}"
            )
            if self.errors:
                line += f"; last error: {self.last_error}"
            return line


def ride(targets: dict[str, str], stats: Stats, rng: random.Random, timeout_s: float) -> None:
    region = rng.choice(sorted(targets))
    vehicle = rng.choice(VEHICLES)
    try:
        with urllib.request.urlopen(f"{targets[region]}/{vehicle}", timeout=timeout_s) as response:
            response.read()
        stats.record(region, vehicle, None)
    except (urllib.error.URLError, OSError) as e:
        stats.record(region, vehicle, f"{region}/{vehicle}: {e}")


def run(targets: dict[str, str], stats: Stats, rate: float, workers: int, duration_s: float, report_s: float, seed: int | None) -> None:
    """Each worker takes the next free slot of a shared schedule (one slot every 1/rate s), so the rate
    holds while requests are fast and degrades gracefully when every worker waits on a slow region."""
    stop = threading.Event()
    schedule_lock = threading.Lock()
    next_slot = [time.monotonic()]
    seeds = random.Random(seed)

    def worker(rng: random.Random) -> None:
        while not stop.is_set():
            with schedule_lock:
                slot = max(next_slot[0], time.monotonic())
                next_slot[0] = slot + 1 / rate
            if stop.wait(max(0.0, slot - time.monotonic())):
                return
            ride(targets, stats, rng, timeout_s=60)

    threads = [threading.Thread(target=worker, args=(random.Random(seeds.random()),), daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + duration_s if duration_s > 0 else float("inf")
    try:
        while not stop.wait(min(report_s, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            print(stats.summary(), flush=True)
    finally:
        stop.set()
        for t in threads:  # let rides in flight finish and be counted, within reason
            t.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--targets",
        default=os.environ.get("RIDESHARE_TARGETS", "us-east=http://us-east:5000,eu-north=http://eu-north:5000,ap-south=http://ap-south:5000"),
        help="region=url,... (env RIDESHARE_TARGETS)",
    )
    parser.add_argument("--rate", type=float, default=float(os.environ.get("RIDESHARE_RATE", "2")), help="requests per second (env RIDESHARE_RATE)")
    parser.add_argument("--workers", type=int, default=3, help="requests in flight at most")
    parser.add_argument("--duration", type=float, default=0, help="seconds to run; 0 runs until interrupted")
    parser.add_argument("--report", type=float, default=10, help="seconds between summary lines")
    parser.add_argument("--seed", type=int, default=None, help="seed for region and vehicle choices")
    args = parser.parse_args(argv)
    try:
        targets = parse_targets(args.targets)
    except ValueError as e:
        parser.error(str(e))
    if args.rate <= 0 or args.workers < 1:
        parser.error("--rate must be > 0 and --workers >= 1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"load: {args.rate:g} rides/s over {', '.join(sorted(targets))}", flush=True)
    stats = Stats()
    try:
        run(targets, stats, args.rate, args.workers, args.duration, args.report, args.seed)
    except (KeyboardInterrupt, SystemExit):
        pass
    print(stats.summary() + " (final)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
