"""The work behind every ride: a CPU search tagged with the vehicle, a driver check, and eu-north's
slow path. eu-north takes the slow path in even periods only (even minutes by default), so its CPU
alternates high and low; each vehicle keeps a memory pool that grows and is trimmed, so the memory
profiles show real allocations."""
from __future__ import annotations

import time

from lib.profiling import hotpath
from lib.settings import settings

# 64 KiB per allocation; a car allocates 4 at a time, a scooter 2, a bike 1.
CHUNK_BYTES = 64 * 1024
CHUNKS_PER_ORDER = {"bike": 1, "scooter": 2, "car": 4}
# A pool holding this many chunks is trimmed to its newest TRIM_TO (16 MiB -> 8 MiB per vehicle).
TRIM_AT = 256
TRIM_TO = 128

_pools: dict[str, list[bytearray]] = {vehicle: [] for vehicle in CHUNKS_PER_ORDER}


def is_slow_period(now_s: float, period_s: float) -> bool:
    """True in even periods. With period_s=60 that is every even minute: minutes since the epoch and
    the minute of the hour have the same parity, because an hour has an even number of minutes."""
    return int(now_s // period_s) % 2 == 0


# The busy loops below are written out in each function (not shared through a helper) so that each
# function's own frame holds its CPU time in the flame graph.


def period_end_s(now_s: float, period_s: float) -> float:
    """When the period holding now_s ends (the next multiple of period_s)."""
    return (int(now_s // period_s) + 1) * period_s


def mutex_lock(n: float) -> None:
    # The contention lasts as long as the slow period does: it never runs on into the fast one.
    now = time.time()
    deadline = min(now + n * 10 * settings.work_scale, period_end_s(now, settings.period_s))
    i = 0
    while time.time() < deadline:
        i += 1


def check_driver_availability(n: float) -> None:
    deadline = time.time() + n / 2 * settings.work_scale
    i = 0
    while time.time() < deadline:
        i += 1
    if settings.region == "eu-north" and is_slow_period(time.time(), settings.period_s):
        mutex_lock(n)


def allocate_vehicle_memory(vehicle: str) -> int:
    """Adds this order's chunks to the vehicle's pool; returns the pool's size in chunks."""
    pool = _pools[vehicle]
    for _ in range(CHUNKS_PER_ORDER[vehicle]):
        pool.append(bytearray(CHUNK_BYTES))
    if len(pool) >= TRIM_AT:
        del pool[:-TRIM_TO]
    return len(pool)


def find_nearest_vehicle(n: float, vehicle: str) -> None:
    if vehicle not in CHUNKS_PER_ORDER:
        raise ValueError(f"unknown vehicle {vehicle!r}; expected one of {sorted(CHUNKS_PER_ORDER)}")
    with hotpath.tag_wrapper({"vehicle": vehicle}):
        deadline = time.time() + n * settings.work_scale
        i = 0
        while time.time() < deadline:
            i += 1
        allocate_vehicle_memory(vehicle)
        if vehicle == "car":
            check_driver_availability(n)
