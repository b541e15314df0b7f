"""The pytest plugin on a real suite in a subprocess: phases told apart, threads a test starts, xdist
workers, pushes with deployment tags, and a run that never fails because the server is unreachable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from _support import Recorder, decode_pprof, decode_push, free_port

SDK = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _python_with(*modules: str) -> Optional[str]:
    """This interpreter if it has the modules, else Debian's (python3-pytest), else None."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(exe):
            probe = subprocess.run([exe, "-c", "import " + ", ".join(modules)], capture_output=True)
            if probe.returncode == 0:
                return exe
    return None


PYTEST = _python_with("pytest")
XDIST = _python_with("pytest", "xdist")

# Each function burns its own thread's CPU, so a loaded machine stretches it but never empties it.
SUITE = textwrap.dedent(
    """
    import threading, time
    import pytest

    def burn(cpu_s):
        end = time.thread_time() + cpu_s
        while time.thread_time() < end:
            pass

    def setup_work(): burn(0.15)
    def teardown_work(): burn(0.15)
    def call_work(): burn(0.2)
    def thread_work(): burn(0.15)

    @pytest.fixture
    def heavy():
        setup_work()
        yield
        teardown_work()

    def test_phases(heavy):
        call_work()

    def test_threads():
        threads = [threading.Thread(target=thread_work) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()

    @pytest.mark.parametrize("n", [1, 2])
    def test_param(n):
        call_work()
    """
)


def labelled_cpu(samples: List[Dict]) -> Dict[Tuple[str, str, str], int]:
    """(leaf function, test, phase) -> CPU ns, over the decoded samples."""
    out: Dict[Tuple[str, str, str], int] = defaultdict(int)
    for s in samples:
        leaf = s["stack"].split(";")[-1]
        out[(leaf, s["labels"].get("test", ""), s["labels"].get("phase", ""))] += s["values"][0]
    return out


@unittest.skipIf(PYTEST is None, "no Python with pytest (Debian: apt-get install python3-pytest)")
class PytestPlugin(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="hotpath-pytest-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "test_suite.py"), "w") as f:
            f.write(SUITE)

    def run_pytest(self, *args: str, python: Optional[str] = None, env: Optional[Dict[str, str]] = None):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTPATH_")}
        environ["PYTHONPATH"] = SDK
        environ.update(env or {})
        return subprocess.run(
            [python or PYTEST, "-m", "pytest", "-p", "hotpath.pytest", "-p", "no:cacheprovider", "--hotpath", *args],
            cwd=self.dir,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def profile(self, name: str = "hotpath-tests.pb.gz") -> Dict[Tuple[str, str, str], int]:
        with open(os.path.join(self.dir, name), "rb") as f:
            return labelled_cpu(decode_pprof(f.read())["samples"])

    def assert_charged(self, cpu, leaf: str, test: str, phase: str) -> None:
        found = {(t, p): v for (lf, t, p), v in cpu.items() if lf.startswith(leaf + " ")}
        self.assertGreater(found.get((test, phase), 0), 50_000_000, f"{leaf} under {test}/{phase}: {found}")
        wrong = {k: v for k, v in found.items() if k != (test, phase) and v > 20_000_000}
        self.assertEqual(wrong, {}, f"{leaf} charged elsewhere")

    def test_each_phase_and_each_thread_carries_its_test(self) -> None:
        r = self.run_pytest("-q")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hotpath: wrote", r.stdout)
        # burn() is the leaf; its caller tells which work it was, so look one frame up.
        with open(os.path.join(self.dir, "hotpath-tests.pb.gz"), "rb") as f:
            samples = decode_pprof(f.read())["samples"]
        by_caller: Dict[Tuple[str, str, str], int] = defaultdict(int)
        for s in samples:
            frames = s["stack"].split(";")
            caller = frames[-2] if len(frames) > 1 and frames[-1].startswith("burn ") else frames[-1]
            by_caller[(caller, s["labels"].get("test", ""), s["labels"].get("phase", ""))] += s["values"][0]
        self.assert_charged(by_caller, "setup_work", "test_suite.py::test_phases", "setup")
        self.assert_charged(by_caller, "teardown_work", "test_suite.py::test_phases", "teardown")
        # Threads the test started are charged to it, though no tag_wrapper runs in them.
        self.assert_charged(by_caller, "thread_work", "test_suite.py::test_threads", "call")
        calls = {t: v for (c, t, p), v in by_caller.items() if c.startswith("call_work ") and v > 50_000_000}
        self.assertEqual(
            sorted(calls),
            ["test_suite.py::test_param[1]", "test_suite.py::test_param[2]", "test_suite.py::test_phases"],
        )
        self.assertTrue(all(p == "call" for (c, t, p) in by_caller if c.startswith("call_work ") and t), by_caller)

    @unittest.skipIf(XDIST is None, "no Python with pytest-xdist (Debian: apt-get install python3-pytest-xdist)")
    def test_xdist_workers_profile_themselves_into_one_file(self) -> None:
        r = self.run_pytest("-q", "-n", "2", "--hotpath-output", "x.pb.gz", python=XDIST)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        cpu = self.profile("x.pb.gz")
        tests = {t for (_, t, _), v in cpu.items() if t}
        self.assertEqual(
            tests,
            {
                "test_suite.py::test_phases",
                "test_suite.py::test_threads",
                "test_suite.py::test_param[1]",
                "test_suite.py::test_param[2]",
            },
        )
        self.assertEqual({p for (_, t, p) in cpu if t}, {"setup", "call", "teardown"})

    def test_pushes_carry_deployment_tags_and_test_labels(self) -> None:
        server = Recorder()
        self.addCleanup(server.close)
        r = self.run_pytest(
            "-q",
            "--hotpath-server",
            server.url,
            "--hotpath-application-name",
            "suite-tests",
            env={"HOTPATH_SERVICE_GIT_REF": "abc123"},
        )
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # One upload at the end, or two if the run crossed a 10 s upload window boundary.
        self.assertRegex(r.stdout, rf"hotpath: sent [12] upload\(s\) to {re.escape(server.url)}\n")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "hotpath-tests.pb.gz")), "no file without --hotpath-output")
        series = [s for req in server.requests for s in decode_push(req["body"])]
        labels = dict(series[0]["labels"])
        self.assertEqual(labels["service_name"], "suite-tests")
        self.assertEqual(labels["service_git_ref"], "abc123")
        tests = set()
        for s in series:
            for raw in s["profiles"]:
                tests |= {x["labels"].get("test") for x in decode_pprof(raw)["samples"]}
        self.assertIn("test_suite.py::test_threads", tests)

    def test_an_unreachable_server_never_fails_the_run(self) -> None:
        dead = f"http://127.0.0.1:{free_port()}"
        r = self.run_pytest("-q", "--hotpath-server", dead)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("4 passed", r.stdout)
        self.assertIn("dropped", r.stdout)

    def test_a_failing_test_still_fails_the_run_and_is_profiled_in_wall_time(self) -> None:
        with open(os.path.join(self.dir, "test_fail.py"), "w") as f:
            f.write("def test_no():\n    assert False\n")
        r = self.run_pytest("-q", "--hotpath-wall")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("hotpath: wrote", r.stdout)
        with open(os.path.join(self.dir, "hotpath-tests.pb.gz"), "rb") as f:
            profile = decode_pprof(f.read())
        self.assertEqual(profile["sample_types"], [("wall", "nanoseconds")])
        self.assertIn("test_fail.py::test_no", {s["labels"].get("test") for s in profile["samples"]})


if __name__ == "__main__":
    unittest.main()
