"""Sampler math with a fake clock and fake frames: who is charged how much, with which labels."""

from __future__ import annotations

import os
import threading
import unittest
from typing import Any, Dict

from _support import FakeClock, FakeCode, FakeFrame, RecordedProcessClock, burn, stack

from hotpath.config import LineNo
from hotpath.sampler import UNSEEN_THREADS, FrameNamer, Sampler


def folded(sampler: Sampler, namer: FrameNamer) -> Dict[str, int]:
    """Drains the sampler into {"root;...;leaf{labels}": ms}."""
    out: Dict[str, int] = {}
    for (raw, labels), ns in sampler.take().items():
        names = [f[0].split(" (")[0] for f in namer.stack(raw)]
        key = ";".join(reversed(names)) + ("{" + ",".join(f"{k}={v}" for k, v in labels) + "}" if labels else "")
        out[key] = out.get(key, 0) + ns // 1_000_000
    return out


class SamplerMath(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = FakeClock()
        self.frames: Dict[int, Any] = {}
        self.frame_tags: Dict[Any, Any] = {}
        self.thread_tags: Dict[int, Any] = {}
        self.namer = FrameNamer(LineNo.LastInstruction, path=["/app"])

    def sampler(self, **kw: Any) -> Sampler:
        return Sampler(
            clock=self.clock,
            frames=lambda: dict(self.frames),
            cpu_clock=self.clock.cpu_of,
            frame_tags=self.frame_tags,
            thread_tags=self.thread_tags,
            thread_names=lambda: {1: "MainThread", 2: "worker"},
            **kw,
        )

    def test_cpu_time_since_last_tick_goes_to_the_current_stack(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main", "busy"), 2: stack("main", "idle")}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()  # baseline
        self.clock.advance(10, t1=8, t2=0)
        s.tick()
        self.clock.advance(10, t1=9, t2=1)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;busy": 17, "main;idle": 1})

    def test_first_tick_charges_nothing_and_idle_threads_show_nothing(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main", "sleep")}
        self.clock.cpu = {1: 5_000_000_000}
        s.tick()
        self.clock.advance(10)
        s.tick()
        self.assertEqual(folded(s, self.namer), {})

    def test_the_stack_at_tick_time_is_charged(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main", "a")}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=10)
        self.frames = {1: stack("main", "b")}
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;b": 10})

    def test_a_thread_born_between_ticks_is_charged_all_its_cpu(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main")}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=2, t2=7)
        self.frames = {1: stack("main"), 2: stack("worker", "job")}
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 2, "worker;job": 7})

    def test_a_thread_that_exited_is_skipped_without_error(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main"), 2: stack("worker")}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()
        del self.clock.cpu[2]  # its CPU clock is gone (clock_gettime -> EINVAL)
        self.clock.advance(10, t1=3)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 3})
        self.assertEqual(s.errors, 0)

    def test_wall_mode_charges_elapsed_time_to_every_thread(self) -> None:
        s = self.sampler(oncpu=False)
        self.frames = {1: stack("main", "busy"), 2: stack("main", "idle")}
        self.clock.cpu = {}
        s.tick()
        self.clock.advance(10)
        s.tick()
        self.clock.advance(20)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;busy": 30, "main;idle": 30})

    def test_excluded_threads_are_not_sampled(self) -> None:
        s = self.sampler()
        s.exclude.add(2)
        self.frames = {1: stack("main"), 2: stack("hotpath")}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()
        self.clock.advance(10, t1=1, t2=9)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 1})

    def test_cpu_of_threads_no_tick_saw_goes_to_one_frame(self) -> None:
        s = self.sampler(process_cpu=self.clock.process_cpu)
        s.exclude.add(3)
        self.frames = {1: stack("main"), 3: stack("hotpath")}
        self.clock.cpu = {1: 0, 3: 0}
        s.tick()
        # A thread that ran 40 ms and ended between the ticks, and the profiler's own 9 ms.
        self.clock.advance(50, t1=2, t3=9)
        self.clock.unseen += 40_000_000
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 2, UNSEEN_THREADS: 40})

    def test_clock_read_skew_is_carried_not_charged(self) -> None:
        s = self.sampler(process_cpu=self.clock.process_cpu)
        self.frames = {1: stack("main")}
        self.clock.cpu = {1: 0}
        s.tick()
        for _ in range(50):
            # Thread 1 runs 1 ms between the process clock read and its own: one tick sees the
            # threads ahead of the process, the next one behind. Only the sum is exact.
            self.clock.advance(10, t1=5)
            self.clock.unseen -= 1_000_000
            s.tick()
            self.clock.unseen += 1_000_000
        self.assertEqual(folded(s, self.namer), {"main": 250})
        self.clock.advance(10, t1=1)
        self.clock.unseen += 7_000_000  # a real unseen 7 ms: exactly that is charged, skew cancelled
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 1, UNSEEN_THREADS: 7})

    def test_an_idle_process_costs_one_clock_read_a_tick(self) -> None:
        reads = []
        frame_reads = []

        def cpu_of(ident: int) -> int:
            reads.append(ident)
            return self.clock.cpu_of(ident)

        def frames() -> Dict[int, Any]:
            frame_reads.append(1)
            return dict(self.frames)

        s = Sampler(clock=self.clock, frames=frames, cpu_clock=cpu_of, process_cpu=self.clock.process_cpu)
        self.frames = {1: stack("main", "wait"), 2: stack("worker", "wait")}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()  # baseline
        reads.clear(), frame_reads.clear()
        for _ in range(20):
            self.clock.advance(10, t1=0.01)  # 10 µs a tick: below the bound for 20 ticks
            s.tick()
        self.assertEqual((reads, frame_reads), ([], []))
        self.clock.advance(10, t1=1)  # past the bound: the threads are read and charged
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;wait": 1})
        self.assertEqual(sorted(reads), [1, 2])

    def test_a_thread_busy_at_the_same_instruction_is_still_read(self) -> None:
        # A loop sampled at the same instruction of the same frame looks idle; the process clock
        # shows the CPU it used, so it is read and charged where it is, not left to UNSEEN.
        s = self.sampler(process_cpu=self.clock.process_cpu)
        loop = stack("main", "order_car", "loop")
        self.frames = {1: loop, 2: stack("main", "idle")}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()
        for _ in range(5):
            self.clock.advance(10, t1=10)
            s.tick()
        self.frames = {1: stack("main", "order_bike"), 2: self.frames[2]}
        self.clock.advance(10, t1=3)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;order_car;loop": 50, "main;order_bike": 3})

    def test_with_real_clocks_short_threads_are_in_the_total(self) -> None:
        process_cpu = RecordedProcessClock()
        s = Sampler(process_cpu=process_cpu)
        s.tick()
        for _ in range(40):  # 40 threads of 2 ms CPU each, all started and ended between two ticks
            t = threading.Thread(target=burn, args=(0.002,))
            t.start()
            t.join()
        s.tick()
        values = s.take()
        unseen = sum(v for (raw, _), v in values.items() if FrameNamer().stack(raw)[0][0] == UNSEEN_THREADS)
        self.assertGreaterEqual(unseen, 80_000_000)
        # Every nanosecond of process CPU between the two ticks is charged or still carried.
        self.assertEqual(sum(values.values()) + s._unseen_ns, process_cpu.span())

    def test_a_thread_reusing_the_ident_of_one_that_ended_is_a_new_thread(self) -> None:
        owners = {1: object()}
        s = self.sampler(thread_of=owners.get)
        self.frames = {1: stack("request")}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=8)
        s.tick()
        # The thread ends and the next request's thread gets its ident, with a clock starting at 0.
        owners[1] = object()
        self.clock.cpu[1] = 3_000_000
        self.frames = {1: stack("next_request")}
        self.clock.advance(10)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"request": 8, "next_request": 3})

    def test_real_threads_reusing_idents_are_each_charged(self) -> None:
        process_cpu = RecordedProcessClock()
        s = Sampler(process_cpu=process_cpu)
        s.tick()
        idents = set()
        for _ in range(20):
            burned, done = threading.Event(), threading.Event()

            def request() -> None:
                burn(0.005)
                burned.set()
                done.wait()

            t = threading.Thread(target=request)
            t.start()
            burned.wait()
            s.tick()  # sees the thread once, 5 ms into its life
            idents.add(t.ident)
            done.set()
            t.join()
        self.assertLess(len(idents), 20)  # idents were reused, which is the case under test
        values = s.take()
        namer = FrameNamer()
        requests = sum(v for (raw, _), v in values.items() if any(f[0].split(" (")[0].endswith("request") for f in namer.stack(raw)))
        self.assertGreaterEqual(requests, 20 * 5_000_000)
        self.assertEqual(sum(values.values()) + s._unseen_ns, process_cpu.span())

    def test_take_starts_a_new_window(self) -> None:
        s = self.sampler()
        self.frames = {1: stack("main")}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=4)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 4})
        self.clock.advance(10, t1=6)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main": 6})

    def test_frame_tags_are_found_on_the_stack_and_inner_blocks_win(self) -> None:
        s = self.sampler()
        outer = FakeFrame(FakeCode("handler"), 1)
        inner = FakeFrame(FakeCode("work"), 1, outer)
        leaf = FakeFrame(FakeCode("loop"), 1, inner)
        self.frame_tags[outer] = (("vehicle", "car"), ("region", "eu"))
        self.frame_tags[inner] = (("vehicle", "bike"),)
        self.thread_tags[1] = (("span", "s1"), ("vehicle", "thread"))
        self.frames = {1: leaf, 2: outer}
        self.clock.cpu = {1: 0, 2: 0}
        s.tick()
        self.clock.advance(10, t1=5, t2=3)
        s.tick()
        self.assertEqual(
            folded(s, self.namer),
            {
                "handler;work;loop{region=eu,span=s1,vehicle=bike}": 5,
                "handler{region=eu,vehicle=car}": 3,
            },
        )

    def test_cpu_used_in_place_after_an_idle_tick_stays_with_that_stack(self) -> None:
        # The thread got no CPU for one tick (descheduled), then ran a loop in the same frame and
        # was sampled at the same instruction again, then moved on. Its CPU belongs to "car".
        s = self.sampler()
        car = stack("main", "order_car")
        self.frames = {1: car}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=0)
        s.tick()
        self.clock.advance(10, t1=10)
        s.tick()
        self.frames = {1: stack("main", "order_bike")}
        self.clock.advance(10, t1=2)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"main;order_car": 10, "main;order_bike": 2})

    def test_a_cached_stack_is_not_reused_after_tags_changed(self) -> None:
        from hotpath import tags as T

        s = self.sampler()
        outer = FakeFrame(FakeCode("handler"), 1)
        leaf = FakeFrame(FakeCode("c_call"), 5, outer)
        self.frames = {1: leaf}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=4)
        s.tick()  # charged and cached: same leaf frame, same instruction from now on
        self.frame_tags[outer] = (("vehicle", "car"),)
        T.version[0] += 1  # what tag_wrapper.__enter__ does
        self.clock.advance(10, t1=6)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"handler;c_call": 4, "handler;c_call{vehicle=car}": 6})

    def test_a_resumed_generator_frame_with_a_new_caller_is_walked_again(self) -> None:
        s = self.sampler()
        gen = FakeFrame(FakeCode("gen"), 3, FakeFrame(FakeCode("consumer_a"), 1))
        self.frames = {1: gen}
        self.clock.cpu = {1: 0}
        s.tick()
        self.clock.advance(10, t1=2)
        s.tick()
        gen.f_back = FakeFrame(FakeCode("consumer_b"), 1)  # same frame object and instruction
        self.clock.advance(10, t1=3)
        s.tick()
        self.assertEqual(folded(s, self.namer), {"consumer_a;gen": 2, "consumer_b;gen": 3})

    def test_report_pid_thread_id_and_name(self) -> None:
        s = self.sampler(report_pid=True, report_thread_id=True, report_thread_name=True)
        self.frames = {2: stack("w")}
        self.clock.cpu = {2: 0}
        s.tick()
        self.clock.advance(10, t2=1)
        s.tick()
        self.assertEqual(folded(s, self.namer), {f"w{{pid={os.getpid()},thread_id=2,thread_name=worker}}": 1})

    def test_a_failing_frame_source_is_counted_not_raised(self) -> None:
        def broken() -> Dict[int, Any]:
            raise RuntimeError("boom")

        s = Sampler(clock=self.clock, frames=broken, cpu_clock=self.clock.cpu_of)
        s.tick()
        s.tick()
        self.assertEqual(s.errors, 2)


class FrameNames(unittest.TestCase):
    def test_names_are_function_file_line_relative_to_sys_path(self) -> None:
        namer = FrameNamer(LineNo.LastInstruction, path=["/srv/app", "/usr/lib/python3.11", "/usr/lib/python3.11/site-packages"])
        code_a = FakeCode("handle", "/srv/app/shop/views.py", 10)
        code_b = FakeCode("loads", "/usr/lib/python3.11/site-packages/simplejson/decoder.py", 3)
        code_c = FakeCode("f", "relative.py", 1)
        # Raw stacks hold each frame's instruction offset; the fake line table puts line n at 2n.
        frames = namer.stack((code_b, 14, code_a, 24, code_c, 0))
        self.assertEqual([f[0] for f in frames], ["loads (simplejson/decoder.py:7)", "handle (shop/views.py:12)", "f (relative.py:1)"])
        self.assertEqual(frames[0][1], "/usr/lib/python3.11/site-packages/simplejson/decoder.py")

    def test_first_and_no_line_modes(self) -> None:
        code = FakeCode("handle", "/srv/app/views.py", 10)
        self.assertEqual(FrameNamer(LineNo.First, path=["/srv/app"]).stack((code,))[0][0], "handle (views.py:10)")
        self.assertEqual(FrameNamer(LineNo.NoLine, path=["/srv/app"]).stack((code,))[0][0], "handle (views.py)")

    def test_real_frames_with_first_line_mode(self) -> None:
        import sys
        import threading

        clock = FakeClock()
        me = threading.get_ident()
        clock.cpu[me] = 0
        s = Sampler(line_no=LineNo.First, clock=clock, cpu_clock=clock.cpu_of, frames=lambda: {me: sys._getframe()})
        s.tick()
        clock.advance(10, **{f"t{me}": 2})
        s.tick()
        (raw, _), = s.take().keys()
        names = [f[0] for f in FrameNamer(LineNo.First).stack(raw)]
        self.assertRegex(names[0], r"<lambda> \(test_sampler\.py:\d+\)$")
        self.assertIn("test_real_frames_with_first_line_mode (test_sampler.py:", " ".join(names))

    def test_real_frames_are_named_with_the_line_they_are_at(self) -> None:
        import sys
        import threading

        clock = FakeClock()
        me = threading.get_ident()
        clock.cpu[me] = 0
        expected = []

        def source() -> Dict[int, Any]:
            f = sys._getframe(1)
            while f.f_code.co_name != "inner":
                f = f.f_back
            expected[:] = []
            g = f
            while g is not None:
                expected.append(g.f_lineno)
                g = g.f_back
            return {me: f}

        def inner() -> None:
            s.tick()

        s = Sampler(clock=clock, cpu_clock=clock.cpu_of, frames=source)
        inner()
        clock.advance(10, **{f"t{me}": 2})
        inner()
        (raw, _), = s.take().keys()
        lines = [int(f[0].rsplit(":", 1)[1].rstrip(")")) for f in FrameNamer().stack(raw)]
        self.assertEqual(lines, expected)
        self.assertEqual(lines[0], inner.__code__.co_firstlineno + 1)

if __name__ == "__main__":
    unittest.main()
