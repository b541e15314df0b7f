"""pprof and PushRequest encoding, checked by three independent decoders:
the test decoder in _support, `go tool pprof -raw`, and Hotpath core's TypeScript importer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from _support import REPO_ROOT, decode_pprof, decode_push

from hotpath.pprof import ProfileBuilder, Series, encode_push_request, gzip_bytes, series_labels


def cpu_profile() -> bytes:
    b = ProfileBuilder(
        sample_types=[("cpu", "nanoseconds")],
        period_type=("cpu", "nanoseconds"),
        period=10_000_000,
        time_nanos=1_700_000_000_000_000_000,
        duration_nanos=10_000_000_000,
    )
    main = ("main (app.py:3)", "/srv/app.py", 1, 3)
    car = ("order_car (car.py:9)", "/srv/car.py", 7, 9)
    bike = ("order_bike (bike.py:4)", "/srv/bike.py", 2, 4)
    b.add((car, main), (30_000_000,), (("vehicle", "car"),))
    b.add((bike, main), (10_000_000,), (("vehicle", "bike"),))
    b.add((car, main), (5_000_000,), (("vehicle", "car"),))  # merges with the first sample
    b.add((main,), (1_000_000,))
    return b.encode()


class PprofEncoding(unittest.TestCase):
    def test_round_trip_through_the_test_decoder(self) -> None:
        p = decode_pprof(cpu_profile())
        self.assertEqual(p["strings"][0], "")
        self.assertEqual(p["sample_types"], [("cpu", "nanoseconds")])
        self.assertEqual(p["period_type"], ("cpu", "nanoseconds"))
        self.assertEqual(p["period"], 10_000_000)
        self.assertEqual(p["time_nanos"], 1_700_000_000_000_000_000)
        self.assertEqual(p["duration_nanos"], 10_000_000_000)
        got = sorted((s["stack"], s["values"], s["labels"]) for s in p["samples"])
        self.assertEqual(
            got,
            [
                ("main (app.py:3)", [1_000_000], {}),
                ("main (app.py:3);order_bike (bike.py:4)", [10_000_000], {"vehicle": "bike"}),
                ("main (app.py:3);order_car (car.py:9)", [35_000_000], {"vehicle": "car"}),
            ],
        )
        self.assertEqual(p["functions"][1], ("order_car (car.py:9)", "/srv/car.py", 7))

    def test_values_must_match_sample_types(self) -> None:
        b = ProfileBuilder(sample_types=[("cpu", "nanoseconds")], period_type=("cpu", "nanoseconds"), period=1)
        with self.assertRaises(ValueError):
            b.add((("f", "f.py", 1, 1),), (1, 2))

    def test_large_and_negative_int64_values_survive(self) -> None:
        b = ProfileBuilder(sample_types=[("v", "count")], period_type=("v", "count"), period=1)
        b.add((("f", "f.py", 1, 1),), (2**62,))
        self.assertEqual(decode_pprof(b.encode())["samples"][0]["values"], [2**62])

    def test_push_request_labels_order_and_raw_profile(self) -> None:
        pprof = cpu_profile()
        labels = series_labels("process_cpu", {"region": "us-east", "__name__": "ignored"}, "ride-sharing-app")
        body = gzip_bytes(encode_push_request([Series(labels, pprof)], sample_id="id-1"))
        (series,) = decode_push(body)
        self.assertEqual(
            series["labels"], [("__name__", "process_cpu"), ("region", "us-east"), ("service_name", "ride-sharing-app")]
        )
        self.assertEqual(series["profiles"], [pprof])
        self.assertEqual(series["ids"], ["id-1"])

    def test_service_name_tag_wins_over_the_application_name(self) -> None:
        labels = series_labels("memory", {"service_name": "svc"}, "app")
        self.assertEqual(labels, [("__name__", "memory"), ("service_name", "svc")])

    @unittest.skipUnless(shutil.which("go"), "go is not installed: `go tool pprof` cross-check skipped")
    def test_go_tool_pprof_reads_it(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cpu.pb.gz")
            with open(path, "wb") as fh:
                fh.write(gzip_bytes(cpu_profile()))
            env = dict(os.environ, HOME=d, PPROF_TMPDIR=d, GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
            out = subprocess.run(["go", "tool", "pprof", "-raw", path], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            text = out.stdout
            self.assertIn("PeriodType: cpu nanoseconds", text)
            self.assertIn("Period: 10000000", text)
            self.assertIn("35000000: ", text)
            self.assertIn("vehicle:[car]", text)
            self.assertIn("order_car (car.py:9) /srv/car.py:9 s=7", text)
            top = subprocess.run(
                ["go", "tool", "pprof", "-top", "-nodecount=5", path], capture_output=True, text=True, env=env, timeout=60
            )
            self.assertEqual(top.returncode, 0, top.stderr)
            self.assertRegex(top.stdout, r"46ms total")

    def test_hotpath_core_importer_reads_it(self) -> None:
        script = os.path.join(os.path.dirname(__file__), "decode_with_core.ts")
        tsx = os.path.join(REPO_ROOT, "node_modules", ".bin", "tsx")
        core = os.path.join(REPO_ROOT, "packages", "core", "src", "formats", "pprof.ts")
        if not (shutil.which("node") and os.path.exists(tsx) and os.path.exists(core)):
            self.skipTest("node, node_modules/.bin/tsx or packages/core/src/formats/pprof.ts missing: run `make install`")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cpu.pb.gz")
            with open(path, "wb") as fh:
                fh.write(gzip_bytes(cpu_profile()))
            out = subprocess.run([tsx, script, path], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            (p,) = json.loads(out.stdout)
        self.assertEqual(p["type"], "process_cpu:cpu:nanoseconds:cpu:nanoseconds")
        self.assertEqual(p["total"], 46_000_000)
        self.assertEqual(p["period"], 10_000_000)
        self.assertEqual(
            p["folded"].splitlines(),
            [
                "main (app.py:3) 1000000",
                "main (app.py:3);order_bike (bike.py:4) 10000000",
                "main (app.py:3);order_car (car.py:9) 35000000",
            ],
        )
        self.assertIn({"vehicle": "car"}, p["labelSets"])


if __name__ == "__main__":
    unittest.main()
