"""`python -m hotpath run` profiles an unmodified script or module in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from _support import SDK_DIR, Recorder, decode_pprof, decode_push

SCRIPT = textwrap.dedent(
    """
    import sys, time

    def crunch():
        end = time.thread_time() + 0.3
        while time.thread_time() < end:
            sum(range(1000))

    crunch()
    print("args", sys.argv[1:])
    sys.exit(3)
    """
)


class Runner(unittest.TestCase):
    def setUp(self) -> None:
        self.server = Recorder(lambda n: 200)
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        self.server.close()
        self.tmp.cleanup()

    def run_hotpath(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=SDK_DIR + os.pathsep + self.tmp.name, HOTPATH_SERVER_ADDRESS=self.server.url)
        env.pop("HOTPATH_APPLICATION_NAME", None)
        return subprocess.run([sys.executable, "-m", "hotpath", *args], capture_output=True, text=True, env=env, cwd=self.tmp.name, timeout=60)

    def stacks(self) -> list:
        out = []
        for r in self.server.requests:
            for series in decode_push(r["body"]):
                for raw in series["profiles"]:
                    out += [(dict(series["labels"]), s["stack"]) for s in decode_pprof(raw)["samples"]]
        return out

    def test_runs_a_script_with_its_arguments_and_exit_code(self) -> None:
        path = os.path.join(self.tmp.name, "crunch_app.py")
        with open(path, "w") as fh:
            fh.write(SCRIPT)
        p = self.run_hotpath("run", "--tag", "region=test", "crunch_app.py", "a", "--b")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("args ['a', '--b']", p.stdout)
        stacks = self.stacks()
        self.assertTrue(stacks, p.stderr)
        labels = stacks[0][0]
        self.assertEqual((labels["service_name"], labels["region"]), ("crunch_app", "test"))
        self.assertTrue(any("crunch (crunch_app.py:" in s for _, s in stacks), stacks)

    def test_runs_a_module(self) -> None:
        with open(os.path.join(self.tmp.name, "crunch_mod.py"), "w") as fh:
            fh.write(SCRIPT)
        p = self.run_hotpath("run", "--application-name", "mod-app", "-m", "crunch_mod", "x")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("args ['x']", p.stdout)
        self.assertTrue(any(lbl["service_name"] == "mod-app" and "crunch (crunch_mod.py:" in s for lbl, s in self.stacks()))

    def test_bad_settings_exit_2_with_a_message(self) -> None:
        p = self.run_hotpath("run", "--sample-rate", "0", "x.py")
        self.assertEqual(p.returncode, 2)
        self.assertIn("sample_rate must be between 1 and 1000", p.stderr)


if __name__ == "__main__":
    unittest.main()
