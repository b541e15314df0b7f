"""The rideshare lib and load generator on their own: the slow-period rule, the memory pools, the
target parsing and a short run against a real stdlib rideshare app."""
from __future__ import annotations

import datetime
import sys
import unittest

import harness  # noqa: F401  (puts examples/rideshare on sys.path)
import load_generator
from lib import utility


def epoch_s(hh_mm_ss: str) -> float:
    t = datetime.datetime.strptime("2026-11-25 " + hh_mm_ss, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


class SlowPeriods(unittest.TestCase):
    def test_even_minutes_are_slow_with_the_default_period(self) -> None:
        self.assertTrue(utility.is_slow_period(epoch_s("12:00:00"), 60))
        self.assertTrue(utility.is_slow_period(epoch_s("12:00:59"), 60))
        self.assertFalse(utility.is_slow_period(epoch_s("12:01:00"), 60))
        self.assertFalse(utility.is_slow_period(epoch_s("12:59:30"), 60))
        self.assertTrue(utility.is_slow_period(epoch_s("13:58:30"), 60))

    def test_a_short_period_alternates_every_period(self) -> None:
        phases = [utility.is_slow_period(epoch_s("12:00:00") + s, 5) for s in (0, 4.9, 5, 9.9, 10, 15)]
        self.assertEqual(phases, [True, True, False, False, True, False])


    def test_a_period_ends_on_the_next_multiple(self) -> None:
        self.assertEqual(utility.period_end_s(epoch_s("12:00:00"), 60), epoch_s("12:01:00"))
        self.assertEqual(utility.period_end_s(epoch_s("12:00:59") + 0.5, 60), epoch_s("12:01:00"))
        self.assertEqual(utility.period_end_s(epoch_s("12:00:07"), 5), epoch_s("12:00:10"))


class VehiclePools(unittest.TestCase):
    def test_pools_grow_by_vehicle_and_are_trimmed(self) -> None:
        sizes = [utility.allocate_vehicle_memory("car") for _ in range(70)]
        # A car adds 4 chunks; at 256 the pool is cut back to its newest 128.
        self.assertEqual(sizes[:3], [4, 8, 12])
        self.assertEqual(sizes[62:66], [252, 128, 132, 136])
        self.assertLess(max(sizes), utility.TRIM_AT)

    def test_unknown_vehicles_are_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "unknown vehicle 'boat'"):
            utility.find_nearest_vehicle(0.0, "boat")


class LoadGenerator(unittest.TestCase):
    def test_targets_parse_and_bad_ones_are_named(self) -> None:
        self.assertEqual(
            load_generator.parse_targets("us-east=http://127.0.0.1:1/, eu-north=http://h:2"),
            {"us-east": "http://127.0.0.1:1", "eu-north": "http://h:2"},
        )
        with self.assertRaisesRegex(ValueError, "'eu-north' is not region=http"):
            load_generator.parse_targets("eu-north")

    def test_rides_reach_a_real_app_and_are_counted(self) -> None:
        procs = harness.Processes()
        self.addCleanup(procs.close)
        # The profiler points at a closed port: the app must serve rides even when Hotpath is away.
        env = {"RIDESHARE_WORK_SCALE": "0.01", "HOTPATH_UPLOAD_INTERVAL": "1"}
        base = harness.start_region(procs, "stdlib", "us-east", f"http://127.0.0.1:{harness.free_port()}", sys.executable, env)
        stats = load_generator.Stats()
        load_generator.run({"us-east": base, "nowhere": f"http://127.0.0.1:{harness.free_port()}"}, stats, rate=20, workers=2, duration_s=1.5, report_s=10, seed=3)
        line = stats.summary()
        self.assertRegex(line, r"^load: \d+ requests in ")
        self.assertGreater(stats.by_region["us-east"], 0, line)
        self.assertEqual(stats.ok, stats.by_region["us-east"], line)
        self.assertEqual(stats.errors, stats.by_region["nowhere"], line)
        self.assertIn("last error: nowhere/", line)


if __name__ == "__main__":
    unittest.main()
