"""The whole agent against a local recording server: push and /ingest uploads, tags, memory, shutdown."""

from __future__ import annotations

import time
import unittest
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlsplit

import _support
from _support import Recorder, decode_pprof, decode_push

import hotpath


def burn(seconds: float) -> int:
    # A frame of this file on the burning stacks, which the stack test below looks for.
    return _support.burn(seconds)


def cpu_by_vehicle(profiles: List[bytes]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for raw in profiles:
        for s in decode_pprof(raw)["samples"]:
            v = s["labels"].get("vehicle", "-")
            out[v] = out.get(v, 0) + s["values"][0]
    return out


class AgentUploads(unittest.TestCase):
    def setUp(self) -> None:
        self.server = Recorder(lambda n: 200)

    def tearDown(self) -> None:
        hotpath.shutdown(timeout=1.0)
        self.server.close()
        # Where tracemalloc cannot be stopped while threads run, shutdown leaves it paused; the
        # recorder's threads are gone now.
        import tracemalloc

        from hotpath.memory import TracemallocPause

        pause = TracemallocPause.load()
        if pause is not None:
            pause.stop_now()
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def test_push_uploads_carry_series_labels_and_tagged_cpu(self) -> None:
        hotpath.configure(
            application_name="agent-test",
            server_address=self.server.url,
            tags={"region": "us-east"},
            upload_interval=0.5,
            report_pid=True,
            auto_tags=False,  # exactly the user's labels, not the checkout's service_git_ref
        )
        with hotpath.tag_wrapper({"vehicle": "car"}):
            burn(0.3)
        with hotpath.tag_wrapper({"vehicle": "bike"}):
            burn(0.1)
        self.assertTrue(hotpath.shutdown(timeout=2.0))
        self.assertTrue(self.server.requests, "nothing was uploaded")
        profiles: List[bytes] = []
        for r in self.server.requests:
            self.assertEqual(r["path"], "/push.v1.PusherService/Push")
            self.assertEqual(r["headers"]["Content-Type"], "application/proto")
            self.assertEqual(r["headers"]["Content-Encoding"], "gzip")
            for series in decode_push(r["body"]):
                self.assertEqual(series["labels"], [("__name__", "process_cpu"), ("region", "us-east"), ("service_name", "agent-test")])
                profiles += series["profiles"]
        first = decode_pprof(profiles[0])
        self.assertEqual(first["sample_types"], [("cpu", "nanoseconds")])
        self.assertEqual(first["period"], 10_000_000)
        self.assertGreater(first["duration_nanos"], 0)
        cpu = cpu_by_vehicle(profiles)
        # 300 ms and 100 ms of thread CPU were burnt; the sampler charges measured CPU time.
        self.assertGreater(cpu.get("car", 0), 0.2e9)
        self.assertGreater(cpu.get("bike", 0), 0.05e9)
        self.assertLess(cpu.get("car", 0), 0.45e9)
        stacks = [s["stack"] for raw in profiles for s in decode_pprof(raw)["samples"] if s["labels"].get("vehicle") == "car"]
        self.assertTrue(any("burn (test_agent.py:" in st for st in stacks), stacks[:3])
        pids = {s["labels"].get("pid") for raw in profiles for s in decode_pprof(raw)["samples"]}
        self.assertEqual(len(pids), 1)

    def test_ingest_protocol(self) -> None:
        hotpath.configure(
            application_name="ingest-test",
            server_address=self.server.url,
            tags={"region": "eu"},
            upload_interval=3600,
            upload_protocol="ingest",
            auto_tags=False,  # exactly the user's labels, not the checkout's service_git_ref
        )
        burn(0.1)
        hotpath.shutdown(timeout=2.0)
        # Windows end on wall-clock multiples of the interval: one upload at shutdown, or two when
        # the test straddles an hour boundary.
        self.assertIn(len(self.server.requests), (1, 2))
        for r in self.server.requests:
            url = urlsplit(r["path"])
            self.assertEqual(url.path, "/ingest")
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.assertEqual(q["name"], "ingest-test{region=eu}")
            self.assertEqual((q["format"], q["spyName"], q["sampleRate"]), ("pprof", "pyspy", "100"))
            self.assertLess(int(q["from"]), int(q["until"]))
        self.assertGreater(sum(cpu_by_vehicle([r["body"] for r in self.server.requests]).values()), 0.05e9)

    def test_memory_profiles(self) -> None:
        hotpath.configure(
            application_name="mem-test",
            server_address=self.server.url,
            upload_interval=3600,  # windows end on multiples of it: one upload, at shutdown
            mem_enabled=True,
            mem_duty_cycle=0.5,
            cpu_enabled=False,
        )
        keep: List[Any] = []

        def allocate_vehicle_memory() -> None:
            for _ in range(50):
                keep.append(bytearray(64 * 1024))

        allocate_vehicle_memory()
        hotpath.shutdown(timeout=2.0)
        (r,) = self.server.requests
        (series,) = decode_push(r["body"])
        self.assertEqual(series["labels"][0], ("__name__", "memory"))
        p = decode_pprof(series["profiles"][0])
        self.assertEqual(
            p["sample_types"], [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes")]
        )
        mine = [s for s in p["samples"] if "allocate_vehicle_memory" in s["stack"]]
        self.assertTrue(mine, [s["stack"] for s in p["samples"]][:5])
        inuse = sum(s["values"][3] for s in mine)
        alloc = sum(s["values"][1] for s in mine)
        self.assertGreaterEqual(inuse, 50 * 64 * 1024)
        self.assertEqual(alloc, inuse * 2)  # scaled by 1 / duty_cycle
        leaf = mine[0]["stack"].split(";")[-1]
        self.assertRegex(leaf, r"allocate_vehicle_memory \(test_agent\.py:\d+\)")

    def test_memory_samples_carry_the_dynamic_tags_of_the_allocating_code(self) -> None:
        hotpath.configure(
            application_name="mem-tags",
            server_address=self.server.url,
            upload_interval=3600,  # one upload, at shutdown
            mem_enabled=True,
            mem_duty_cycle=0.5,
            cpu_enabled=False,
        )
        keep: List[Any] = []

        def allocate_car_memory() -> None:
            for i in range(20000):  # containers, so the interpreter collects (and Hotpath samples tags)
                keep.append({"seat": i})

        with hotpath.tag_wrapper({"vehicle": "car"}):
            allocate_car_memory()
        hotpath.shutdown(timeout=2.0)
        (r,) = self.server.requests
        (series,) = decode_push(r["body"])
        p = decode_pprof(series["profiles"][0])
        mine = [s for s in p["samples"] if "allocate_car_memory" in s["stack"]]
        self.assertTrue(mine)
        self.assertEqual({s["labels"].get("vehicle") for s in mine}, {"car"})

    def test_a_failing_flush_is_counted_not_raised(self) -> None:
        from hotpath import agent as A

        hotpath.configure(application_name="flush-fail", server_address=self.server.url, upload_interval=60)
        a = A.current()
        assert a is not None

        def broken() -> dict:
            raise RuntimeError("boom")

        a.sampler.take = broken  # type: ignore[method-assign]
        a.flush(time.time())
        self.assertEqual(hotpath.stats()["flush_errors"], 1)

    def test_an_application_tracemalloc_session_is_left_running(self) -> None:
        import tracemalloc

        tracemalloc.start(5)
        try:
            hotpath.configure(application_name="tm", server_address=self.server.url, upload_interval=60,
                              mem_enabled=True, cpu_enabled=False)
            keep = [bytearray(10000) for _ in range(10)]
            hotpath.shutdown(timeout=2.0)
            self.assertTrue(tracemalloc.is_tracing())
            self.assertEqual(len(keep), 10)
        finally:
            tracemalloc.stop()

    def test_stats_and_nothing_raised_when_the_server_is_down(self) -> None:
        self.server.close()
        hotpath.configure(application_name="down", server_address=self.server.url, upload_interval=0.2)
        burn(0.3)
        deadline = time.monotonic() + 5
        while hotpath.stats()["upload_retries"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        st = hotpath.stats()
        self.assertGreater(st["upload_retries"], 0)
        self.assertEqual(st["sent"] if "sent" in st else st["uploads_sent"], 0)
        self.assertEqual(st["sampler_errors"], 0)
        self.server = Recorder(lambda n: 200)  # for tearDown



class OverheadCap(unittest.TestCase):
    """The cap stretches the tick interval only for what ticks cost: other work of the sampler
    thread costs the same at any interval, and stretching for it lost short requests' stacks."""

    def setUp(self) -> None:
        self.server = Recorder(lambda n: 200)

    def tearDown(self) -> None:
        hotpath.shutdown(timeout=1.0)
        self.server.close()

    def run_agent(self, slow_part: str) -> float:
        from unittest import mock

        from hotpath import agent as agent_module
        from hotpath.sampler import Sampler

        owner = agent_module.Agent if slow_part == "flush" else Sampler
        original = getattr(owner, slow_part)

        def slow(*args: Any, **kwargs: Any) -> Any:
            burn(0.03 if slow_part == "flush" else 0.002)  # flush: 30 % of a core; ticks: 20 %
            return original(*args, **kwargs)

        with mock.patch.object(owner, slow_part, slow):
            hotpath.configure(application_name="cap-test", server_address=self.server.url, upload_interval=0.1)
            agent = agent_module.current()
            assert agent is not None
            time.sleep(2.5)
            return agent.effective_rate

    def test_slow_uploads_do_not_stretch_ticks(self) -> None:
        self.assertGreater(self.run_agent("flush"), 50.0)  # it fell to 1 Hz when they counted

    def test_slow_ticks_are_stretched_to_the_budget(self) -> None:
        self.assertLess(self.run_agent("tick"), 50.0)

if __name__ == "__main__":
    unittest.main()