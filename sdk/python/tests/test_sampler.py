"""Sampler math with a fake clock and fake frames: who is charged how much, with which labels."""

from __future__ import annotations

import os
import unittest
from typing import Any, Dict

from _support import FakeClock, FakeCode, FakeFrame, stack

from hotpath.config import LineNo
from hotpath.sampler import FrameNamer, Sampler


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
        frames = namer.stack((code_b, 7, code_a, 12, code_c, 0))
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


if __name__ == "__main__":
    unittest.main()
