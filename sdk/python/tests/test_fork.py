"""Fork safety: a forked child (os.fork, multiprocessing) profiles itself, without the parent's data."""

from __future__ import annotations

import multiprocessing
import os
import unittest
from typing import Dict, Tuple

from _support import Recorder, burn, decode_pprof, decode_push

import hotpath


def tagged_burn(tag: str, seconds: float) -> None:
    with hotpath.tag_wrapper({"vehicle": tag}):
        burn(seconds)


def cpu_by_pid_and_tag(server: Recorder) -> Dict[Tuple[str, str], int]:
    out: Dict[Tuple[str, str], int] = {}
    for r in server.requests:
        for series in decode_push(r["body"]):
            for raw in series["profiles"]:
                for s in decode_pprof(raw)["samples"]:
                    key = (s["labels"].get("pid", "?"), s["labels"].get("vehicle", "-"))
                    out[key] = out.get(key, 0) + s["values"][0]
    return out


@unittest.skipUnless(hasattr(os, "fork") and hasattr(os, "register_at_fork"), "needs os.fork and os.register_at_fork")
class ForkSafety(unittest.TestCase):
    def setUp(self) -> None:
        self.server = Recorder(lambda n: 200)
        hotpath.configure(application_name="fork-test", server_address=self.server.url, upload_interval=60, report_pid=True)

    def tearDown(self) -> None:
        hotpath.shutdown(timeout=1.0)
        self.server.close()

    def test_os_fork_child_has_its_own_sampler_and_no_parent_samples(self) -> None:
        tagged_burn("before", 0.2)  # sampled in the parent, not yet uploaded when we fork
        pid = os.fork()
        if pid == 0:  # child
            code = 1
            try:
                tagged_burn("child", 0.2)
                code = 0 if hotpath.shutdown(timeout=2.0) else 2
            finally:
                os._exit(code)
        tagged_burn("parent", 0.1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        hotpath.shutdown(timeout=2.0)
        cpu = cpu_by_pid_and_tag(self.server)
        me, child = str(os.getpid()), str(pid)
        self.assertGreater(cpu.get((child, "child"), 0), 0.1e9)
        self.assertGreater(cpu.get((me, "parent"), 0), 0.05e9)
        before = {p: v for (p, tag), v in cpu.items() if tag == "before"}
        self.assertEqual(set(before), {me}, "the child uploaded the parent's samples")
        self.assertLess(before[me], 0.3e9)  # counted once, not twice
        self.assertNotIn((me, "child"), cpu)

    def test_configure_in_a_forked_worker_replaces_the_inherited_agent(self) -> None:
        pid = os.fork()
        if pid == 0:  # child: like gunicorn's post_fork hook calling configure() again
            code = 1
            try:
                hotpath.configure(application_name="worker", server_address=self.server.url, upload_interval=60,
                                  report_pid=True)
                tagged_burn("worker", 0.15)
                code = 0 if hotpath.shutdown(timeout=2.0) else 2
            except BaseException:
                code = 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        hotpath.shutdown(timeout=2.0)
        services = {dict(series["labels"])["service_name"] for r in self.server.requests for series in decode_push(r["body"])}
        self.assertIn("worker", services)
        self.assertGreater(cpu_by_pid_and_tag(self.server).get((str(pid), "worker"), 0), 0.05e9)
        with self.assertRaisesRegex(RuntimeError, "already configured"):
            hotpath.configure(application_name="again", server_address=self.server.url)
            hotpath.configure(application_name="again", server_address=self.server.url)

    def test_multiprocessing_fork_children_flush_their_last_window(self) -> None:
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=tagged_burn, args=(f"worker{i}", 0.15)) for i in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(20)
            self.assertEqual(p.exitcode, 0)
        hotpath.shutdown(timeout=2.0)
        cpu = cpu_by_pid_and_tag(self.server)
        for i, p in enumerate(procs):
            self.assertGreater(cpu.get((str(p.pid), f"worker{i}"), 0), 0.05e9, cpu)


if __name__ == "__main__":
    unittest.main()
