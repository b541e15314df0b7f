"""The whole chain on real processes: hotpath server (embedded DuckDB store), the three stdlib regions
with the Python SDK, and the load generator, over four 8-second periods (two slow, two fast), then
checked through the query API only."""
from __future__ import annotations

import math
import sys
import time
import unittest

from harness import (
    RIDESHARE,
    REGIONS,
    Processes,
    diff_ticks,
    function_ticks,
    label_values,
    missing_prerequisite,
    render,
    render_diff,
    span_profile,
    spans,
    start_hotpath,
    start_region,
)

PERIOD_S = 8
PERIODS = 4
# The apps upload every second; each window is stored at its start, the first profiler tick at or
# after a whole second.
# Ticks at a fixed 100 Hz (no overhead cap): on a crowded machine the cap spaces ticks out, and CPU
# used late in a slow period is then charged at a tick well inside the next one. Memory slices of
# 30 % rather than 5 % of each 1 s window: a crowded run once saw no pool chunk allocated inside any
# 50 ms slice.
APP_ENV = {
    "RIDESHARE_PERIOD_S": str(PERIOD_S),
    "RIDESHARE_WORK_SCALE": "0.15",
    "HOTPATH_UPLOAD_INTERVAL": "1",
    "HOTPATH_MAX_OVERHEAD": "0",
    "HOTPATH_MEM_DUTY_CYCLE": "0.3",
}
# mutex_lock stops when its slow period ends, but the profiler charges a thread's CPU at its next tick
# to the stack the thread is in then, and on a crowded machine a thread can wait seconds for its
# turn after the boundary, still inside mutex_lock: so fast periods are read from their fourth second.
SPILL_MS = 3000
INUSE_SPACE = "memory:inuse_space:bytes:space:bytes"


class RideshareEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        cls.procs = Processes()
        try:
            cls.run_scenario()
        except BaseException:
            cls.procs.close()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.procs.close()

    @classmethod
    def run_scenario(cls) -> None:
        procs = cls.procs
        cls.server = start_hotpath(procs)
        targets = {region: start_region(procs, "stdlib", region, cls.server, sys.executable, APP_ENV) for region in REGIONS}
        started_s = time.time()
        procs.start(
            "load",
            [sys.executable, str(RIDESHARE / "load_generator.py"), "--rate", "8", "--report", "5", "--seed", "7",
             "--targets", ",".join(f"{r}={u}" for r, u in targets.items())],
            env={},
        )
        first_s = math.ceil((started_s + 0.5) / PERIOD_S) * PERIOD_S
        # (start_s, slow) for each full period; eu-north is slow in even periods.
        cls.periods = [(first_s + k * PERIOD_S, (first_s // PERIOD_S + k) % 2 == 0) for k in range(PERIODS)]
        end_s = first_s + PERIODS * PERIOD_S
        time.sleep(max(0.0, end_s - time.time()))
        # Stopping the apps makes each upload its last window, so nothing is left in flight.
        procs.stop("load")
        for region in REGIONS:
            procs.stop(f"stdlib-{region}")
        cls.range_ms = (int(started_s * 1000) - 5000, int(time.time() * 1000) + 1000)

    def fail_with_logs(self, message: str) -> None:
        self.fail(f"{message}\n{self.procs.logs()}")

    def slow_periods(self) -> list[tuple[int, int]]:
        return [(s * 1000, (s + PERIOD_S) * 1000 - 1) for s, slow in self.periods if slow]

    def fast_periods(self) -> list[tuple[int, int]]:
        return [(s * 1000 + SPILL_MS, (s + PERIOD_S) * 1000 - 1) for s, slow in self.periods if not slow]

    def test_load_generator_ran_without_errors(self) -> None:
        final = [line for line in self.procs.log("load").splitlines() if line.endswith("(final)")]
        if not final:
            self.fail_with_logs("the load generator printed no final summary line")
        self.assertRegex(final[0], r"^load: \d+ requests .*, 0 errors;")
        self.assertGreater(int(final[0].split()[1]), 50)

    def test_three_regions(self) -> None:
        self.assertEqual(label_values(self.server, "region", *self.range_ms), sorted(REGIONS))

    def test_vehicle_tags_on_samples(self) -> None:
        self.assertEqual(label_values(self.server, "vehicle", *self.range_ms), ["bike", "car", "scooter"])
        for vehicle in ("bike", "scooter", "car"):
            ticks = function_ticks(render(self.server, *self.range_ms, vehicle=vehicle)["flamebearer"])
            orders = {f for f in ticks if f.startswith("order_")}
            self.assertEqual(orders, {f"order_{vehicle}"}, f"order functions in samples tagged vehicle={vehicle}")

    def test_endpoint_and_method_tags_come_from_the_profiler(self) -> None:
        # http.server has no routes: the endpoint is the handler method. The app tags only `vehicle`.
        self.assertEqual(label_values(self.server, "endpoint", *self.range_ms), ["Handler.do_GET"])
        self.assertEqual(label_values(self.server, "method", *self.range_ms), ["GET"])
        ticks = function_ticks(render(self.server, *self.range_ms, endpoint="Handler.do_GET", vehicle="car")["flamebearer"])
        self.assertIn("order_car", ticks)

    def test_the_slowest_car_order_in_eu_north_has_its_own_flame_graph(self) -> None:
        # The demo guide's steps: the spans of eu-north, slowest first; the first GET /car; its profile.
        listed = spans(self.server, *self.range_ms, region="eu-north")
        self.assertTrue(listed, "no spans in eu-north")
        self.assertLessEqual({s["spanName"] for s in listed}, {"GET /car", "GET /bike", "GET /scooter"})
        values = [s["value"] for s in listed]
        self.assertEqual(values, sorted(values, reverse=True))
        car = next((s for s in listed if s["spanName"] == "GET /car"), None)
        self.assertIsNotNone(car, listed)
        profile = span_profile(self.server, [car["spanId"]], *self.range_ms, region="eu-north")
        ticks = function_ticks(profile)
        self.assertIn("order_car", ticks)
        self.assertFalse({"order_bike", "order_scooter"} & set(ticks), sorted(ticks))
        self.assertEqual(profile["numTicks"], car["value"])
        # Per request, never per series: no span label among the series labels.
        self.assertEqual(label_values(self.server, "span_id", *self.range_ms), [])
        self.assertEqual(label_values(self.server, "span_name", *self.range_ms), [])

    def test_order_car_is_the_largest_order_function(self) -> None:
        ticks = function_ticks(render(self.server, *self.range_ms)["flamebearer"])
        totals = {f: ticks.get(f, {"total": 0})["total"] for f in ("order_bike", "order_scooter", "order_car")}
        self.assertGreater(totals["order_bike"], 0, totals)
        self.assertGreater(totals["order_scooter"], 0, totals)
        self.assertGreater(totals["order_car"], max(totals["order_bike"], totals["order_scooter"]), totals)

    def test_mutex_lock_only_in_eu_north_slow_periods(self) -> None:
        for region in ("us-east", "ap-south"):
            ticks = function_ticks(render(self.server, *self.range_ms, region=region)["flamebearer"])
            self.assertIn("order_car", ticks, f"{region} has no order_car samples")
            self.assertNotIn("mutex_lock", ticks, f"{region} never takes the slow path")
        slow = [function_ticks(render(self.server, *p, region="eu-north")["flamebearer"]) for p in self.slow_periods()]
        in_slow = sum(t.get("mutex_lock", {"total": 0})["total"] for t in slow)
        self.assertGreater(in_slow, 0, "no mutex_lock in eu-north's slow periods")
        in_fast = 0
        for period in self.fast_periods():
            flamebearer = render(self.server, *period, region="eu-north")["flamebearer"]
            self.assertGreater(flamebearer["numTicks"], 0, f"eu-north sent no samples in fast period {period}")
            in_fast += function_ticks(flamebearer).get("mutex_lock", {"total": 0})["total"]
        # mutex_lock never runs past its period's end, but a thread starved of the GIL across the
        # boundary is charged at its next tick, inside the fast period: a trace of spill is physical.
        self.assertLessEqual(in_fast, in_slow * 0.05, f"mutex_lock in eu-north's fast periods: {in_fast} ns vs {in_slow} ns in slow ones")

    def test_memory_profiles_show_the_vehicle_pools(self) -> None:
        ticks = function_ticks(render(self.server, *self.range_ms, profile_type=INUSE_SPACE)["flamebearer"])
        self.assertGreater(ticks.get("allocate_vehicle_memory", {"self": 0})["self"], 0, sorted(ticks))

    def test_diff_of_a_slow_and_a_fast_period_shows_mutex_lock(self) -> None:
        slow = max(
            self.slow_periods(),
            key=lambda p: function_ticks(render(self.server, *p, region="eu-north")["flamebearer"]).get("mutex_lock", {"total": 0})["total"],
        )
        fast = self.fast_periods()[0]
        diff = render_diff(self.server, slow, fast, region="eu-north")
        self.assertEqual(diff["metadata"]["format"], "double")
        left_ticks, right_ticks = diff["leftTicks"], diff["rightTicks"]
        self.assertGreater(left_ticks, 0)
        self.assertGreater(right_ticks, 0)
        ticks = diff_ticks(diff["flamebearer"])
        self.assertGreater(ticks["mutex_lock"]["left_total"], 0)
        self.assertLessEqual(ticks["mutex_lock"]["right_total"], ticks["mutex_lock"]["left_total"] * 0.05)  # spill only
        # The change: the function whose own share of CPU grew the most from fast to slow.
        growth = {f: t["left_self"] / left_ticks - t["right_self"] / right_ticks for f, t in ticks.items()}
        self.assertEqual(max(growth, key=growth.__getitem__), "mutex_lock", growth)


if __name__ == "__main__":
    unittest.main()
