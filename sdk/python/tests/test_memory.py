"""Memory slices and the interpreter's tracemalloc: never crash the application.

Before CPython 3.12.9 / 3.13.2, tracemalloc.stop() crashes the process when another thread is in a
raw allocation made without the GIL (os.getcwd() is one): CPython gh-128679. The hammer below is
such a thread; these tests run it in a child process against the profiler's slices.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import unittest
from typing import Any, Dict, List

from _support import SDK_DIR, decode_pprof

from hotpath import tags
from hotpath.memory import MemoryProfiler, TracemallocPause, stop_is_safe
from hotpath.sampler import FrameNamer

# Threads calling os.getcwd() (a raw allocation without the GIL) while the main thread runs a
# memory slice every millisecond. Prints the number of slices; exits with -11 if the stop crashed.
HAMMER = textwrap.dedent(
    """
    import os, sys, threading, time
    from hotpath.memory import MemoryProfiler
    running = True
    def hammer():
        while running:
            os.getcwd()
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    forced = {"default": None, "safe": True}[sys.argv[2]]
    m = MemoryProfiler(max_nframe=16, duty_cycle=0.05, stop_safe=forced)
    end = time.monotonic() + float(sys.argv[1])
    n = 0
    while time.monotonic() < end:
        m.start_slice()
        time.sleep(0.001)
        m.end_slice()
        n += 1
    running = False
    for t in threads:
        t.join()
    print(n)
    """
)


def run_hammer(seconds: float, mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SDK_DIR)
    return subprocess.run(
        [sys.executable, "-c", HAMMER, str(seconds), mode], env=env, capture_output=True, text=True, timeout=60
    )


class StopSafety(unittest.TestCase):
    def test_only_fixed_interpreters_are_trusted_to_stop(self) -> None:
        for version, safe in [
            ((3, 9, 18), False),
            ((3, 11, 2), False),
            ((3, 11, 14), False),
            ((3, 12, 8), False),
            ((3, 12, 9), True),
            ((3, 13, 0), False),
            ((3, 13, 1), False),
            ((3, 13, 2), True),
            ((3, 14, 0), True),
        ]:
            self.assertEqual(stop_is_safe(version), safe, version)

    def test_slices_do_not_crash_threads_that_allocate_without_the_gil(self) -> None:
        r = run_hammer(3.0, "default")
        self.assertEqual(r.returncode, 0, f"the child died: {r.returncode}\n{r.stderr[-2000:]}")
        self.assertGreater(int(r.stdout), 100)  # slices actually ran

    @unittest.skipIf(stop_is_safe(), "this interpreter has the tracemalloc.stop() fix")
    @unittest.skipIf(
        os.environ.get("HOTPATH_TEST_EXTRA_INTERPRETER") == "1",
        "a probabilistic crash proof: it runs under the main test interpreter only",
    )
    def test_the_hammer_does_crash_a_stop_on_this_interpreter(self) -> None:
        # Proof that the test above can fail: the same hammer against a forced stop() kills the child.
        codes: List[int] = []
        for _ in range(5):
            codes.append(run_hammer(2.0, "safe").returncode)
            if codes[-1] < 0:
                break
        self.assertLess(codes[-1], 0, f"no crash in {len(codes)} runs: {codes}")


@unittest.skipIf(TracemallocPause.load() is None, "ctypes cannot reach the allocator API here")
class PausedSlices(unittest.TestCase):
    """The path taken where stop() is unsafe, forced here on any version."""

    def tearDown(self) -> None:
        pause = TracemallocPause.load()
        if pause is not None:
            pause.stop_now()
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def test_a_later_profiler_takes_over_a_session_left_paused(self) -> None:
        first = MemoryProfiler(max_nframe=8, stop_safe=False)
        first.start_slice()
        first.end_slice()  # paused, as a shutdown with threads still running leaves it
        second = MemoryProfiler(max_nframe=8, stop_safe=False)
        self.assertIs(second._pause, first._pause)
        second.start_slice()  # a second tracemalloc.start() here would spin forever
        keep = [bytearray(100_000) for _ in range(3)]
        snap = second.end_slice()
        self.assertGreaterEqual(sum(s.size for s in snap.statistics("filename") if s.traceback[0].filename == __file__), 300_000)
        self.assertEqual(len(keep), 3)

    def test_slices_pause_and_resume_instead_of_stopping(self) -> None:
        m = MemoryProfiler(max_nframe=8, duty_cycle=0.05, stop_safe=False)
        pause = m._pause
        assert pause is not None
        m.start_slice()
        first = [bytearray(100_000) for _ in range(5)]
        line1 = sys._getframe().f_lineno - 1
        snap1 = m.end_slice()
        self.assertTrue(pause.paused)
        # Paused: the object allocator is the interpreter's own again, so nothing is traced.
        self.assertTrue(pause._same(pause._read(2), pause._originals[2]))
        between = [bytearray(300_000) for _ in range(2)]
        line_between = sys._getframe().f_lineno - 1
        m.start_slice()
        self.assertFalse(pause.paused)
        self.assertTrue(pause._same(pause._read(2), pause._hooks[2]))
        second = [bytearray(200_000) for _ in range(3)]
        line2 = sys._getframe().f_lineno - 1
        snap2 = m.end_slice()

        def size_at(snapshot: tracemalloc.Snapshot, line: int) -> int:
            return sum(s.size for s in snapshot.statistics("lineno") if s.traceback[0].lineno == line and s.traceback[0].filename == __file__)

        self.assertGreaterEqual(size_at(snap1, line1), 500_000)
        self.assertGreaterEqual(size_at(snap2, line2), 600_000)
        self.assertEqual(size_at(snap2, line1), 0)  # the first slice's blocks were cleared
        self.assertEqual(size_at(snap2, line_between), 0)  # nothing traced while paused
        self.assertEqual((len(first), len(between), len(second)), (5, 2, 3))
        self.assertEqual(m.duty_cycle, 0.05)  # slices keep their duty cycle and scaling

    def test_stop_with_other_threads_alive_stays_paused_then_stops_alone(self) -> None:
        import threading

        m = MemoryProfiler(max_nframe=8, stop_safe=False)
        pause = m._pause
        assert pause is not None
        m.start_slice()
        gate = threading.Event()
        t = threading.Thread(target=gate.wait)
        t.start()
        try:
            m.stop()
            self.assertTrue(pause.paused)
        finally:
            gate.set()
            t.join()
        m.stop()  # alone now: safe to stop for real
        self.assertFalse(pause.paused)
        self.assertFalse(tracemalloc.is_tracing())
        self.assertTrue(pause._same(pause._read(2), pause._originals[2]))

    def test_an_application_starting_tracemalloc_while_paused_takes_it_over(self) -> None:
        m = MemoryProfiler(max_nframe=8, stop_safe=False)
        pause = m._pause
        assert pause is not None
        m.start_slice()
        m.end_slice()
        self.assertTrue(pause.paused)
        tracemalloc.start(4)  # would wrap tracemalloc's own hook and spin forever if not guarded
        self.assertTrue(tracemalloc.is_tracing())
        self.assertTrue(pause.released)
        keep = [bytearray(50_000) for _ in range(4)]
        self.assertGreaterEqual(tracemalloc.get_traced_memory()[0], 200_000)
        m.start_slice()
        self.assertIsNotNone(m.end_slice())
        m.stop()
        self.assertTrue(tracemalloc.is_tracing())  # the application's session, left running
        self.assertEqual(len(keep), 4)

    def test_a_safe_interpreter_stops_between_slices(self) -> None:
        m = MemoryProfiler(max_nframe=8, duty_cycle=0.05, stop_safe=True)
        self.assertIsNone(m._pause)
        m.start_slice()
        self.assertIsNotNone(m.end_slice())
        self.assertFalse(tracemalloc.is_tracing())


# Allocators for the tag tests: each keeps what it allocates (containers, so collections run).
kept: List[Any] = []


def order_car(n: int) -> None:
    for i in range(n):
        kept.append({"car": i})


def order(n: int) -> None:
    for i in range(n):
        kept.append([i])


def inuse_by_leaf_and_tags(profiler: MemoryProfiler, snapshot: Any) -> Dict[str, Dict[str, int]]:
    """{"leaf function @ caller line": {"vehicle=car": inuse bytes}} of a slice's memory profile."""
    p = decode_pprof(profiler.build(snapshot, FrameNamer(), 0, 0).encode())
    out: Dict[str, Dict[str, int]] = {}
    for sample in p["samples"]:
        frames = sample["stack"].split(";")
        leaf = frames[-1].split(" (")[0]
        if leaf not in ("order_car", "order"):
            continue
        where = f"{leaf} @ {frames[-2].rsplit(':', 1)[1].rstrip(')')}"
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample["labels"].items()))
        out.setdefault(where, {})
        out[where][labels] = out[where].get(labels, 0) + sample["values"][3]
    return out


class DynamicTags(unittest.TestCase):
    def setUp(self) -> None:
        kept.clear()
        self.profiler = MemoryProfiler(max_nframe=64, duty_cycle=1.0)
        self.addCleanup(self.profiler.stop)
        self.addCleanup(kept.clear)

    def test_memory_samples_carry_the_tags_of_the_code_that_allocated(self) -> None:
        def car_thread() -> None:
            tags.add_thread_tag("vehicle", "car")
            try:
                order_car(20000)
            finally:
                tags.remove_thread_tag("vehicle", "car")

        self.profiler.start_slice()
        t = threading.Thread(target=car_thread)
        t.start()
        t.join()
        with tags.tag_wrapper({"vehicle": "bike"}):
            bike_line = sys._getframe().f_lineno + 1
            order(20000)
        untagged_line = sys._getframe().f_lineno + 1
        order(20000)
        got = inuse_by_leaf_and_tags(self.profiler, self.profiler.end_slice())
        (car,) = [v for k, v in got.items() if k.startswith("order_car")]
        self.assertEqual(list(car), ["vehicle=car"])
        self.assertEqual(list(got[f"order @ {bike_line}"]), ["vehicle=bike"])
        self.assertEqual(list(got[f"order @ {untagged_line}"]), [""])
        self.assertGreater(got[f"order @ {bike_line}"]["vehicle=bike"], 20000 * 56)

    def test_one_stack_under_several_tags_is_split_in_proportion(self) -> None:
        self.profiler.start_slice()
        for vehicle, n in (("car", 60000), ("bike", 20000)):
            with tags.tag_wrapper({"vehicle": vehicle}):
                line = sys._getframe().f_lineno + 1
                order(n)
        got = inuse_by_leaf_and_tags(self.profiler, self.profiler.end_slice())[f"order @ {line}"]
        self.assertEqual(sorted(got), ["vehicle=bike", "vehicle=car"])
        share = got["vehicle=car"] / (got["vehicle=car"] + got["vehicle=bike"])
        self.assertGreater(share, 0.6)  # 0.75 allocated under car; sampled at collections
        self.assertLess(share, 0.9)

    def test_collections_are_sampled_only_during_a_slice(self) -> None:
        self.profiler.start_slice()
        self.assertIn(self.profiler.tags._on_gc, gc.callbacks)
        self.profiler.end_slice()
        self.assertNotIn(self.profiler.tags._on_gc, gc.callbacks)


if __name__ == "__main__":
    unittest.main()
