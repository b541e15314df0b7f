"""Span profiles from the demo: a real rideshare app's uploads label each order's samples with the span
id its answer names, and only that order's stacks carry it (decoded from the pprof the SDK sends), with
`hotpath.span` and with the OpenTelemetry SDK (a fake of it: the real one is not installable here)."""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
import unittest
import urllib.request
from pathlib import Path

import harness

SDK_TESTS = harness.REPO / "sdk" / "python" / "tests"
sys.path.insert(0, str(SDK_TESTS))
from _support import Recorder, decode_pprof, decode_push  # noqa: E402  (the SDK tests' pprof reader)

ORDERS = {"car": "order_car", "scooter": "order_scooter", "bike": "order_bike"}


class SpanProfilesOfOrders(unittest.TestCase):
    def order_all_at_once(self, env: dict[str, str], tracer: str) -> None:
        """Orders a car, a scooter and a bike at once; checks the uploads against the answers."""
        recorder = Recorder(lambda n: 200)
        self.addCleanup(recorder.close)
        procs = harness.Processes()
        self.addCleanup(procs.close)
        env = {"RIDESHARE_WORK_SCALE": "0.5", "HOTPATH_UPLOAD_INTERVAL": "3600", "HOTPATH_MEM_ENABLED": "false", **env}
        base = harness.start_region(procs, "stdlib", "us-east", recorder.url, sys.executable, env)
        self.assertEqual(json.loads(harness.http_get(base + "/")[1])["tracer"], tracer)

        answers: dict[str, dict] = {}

        def order(vehicle: str) -> None:
            with urllib.request.urlopen(f"{base}/{vehicle}", timeout=60) as r:
                answers[vehicle] = json.load(r)

        threads = [threading.Thread(target=order, args=(v,)) for v in ORDERS]  # concurrent, one thread each in the app
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertEqual(set(answers), set(ORDERS), procs.logs())
        span_ids = {answers[v]["span_id"]: v for v in ORDERS}
        self.assertEqual(len(span_ids), 3, answers)
        for span_id in span_ids:
            self.assertRegex(span_id, r"^[0-9a-f]{16}$")

        procs.stop("stdlib-us-east")  # SIGTERM: the profiler uploads its last window
        harness.wait_for("the app's upload", lambda: recorder.requests or None, timeout_s=30)

        cpu = dict.fromkeys(ORDERS, 0)
        for r in recorder.requests:
            for series in decode_push(r["body"]):
                self.assertFalse({k for k, _ in series["labels"]} & {"span_id", "span_name"}, series["labels"])
                for raw in series["profiles"]:
                    for s in decode_pprof(raw)["samples"]:
                        vehicle = span_ids.get(s["labels"].get("span_id", ""))
                        if vehicle is None:
                            self.assertNotRegex(s["stack"], "|".join(ORDERS.values()), "an order's stack without its span")
                            continue
                        self.assertEqual(s["labels"]["span_name"], f"GET /{vehicle}")
                        functions = set(re.findall(r"order_\w+", s["stack"]))
                        self.assertEqual(functions, {ORDERS[vehicle]}, s["stack"])
                        cpu[vehicle] += s["values"][0]
        # The orders' busy loops run for wall time (0.3 s a car, 0.1 s a bike at work scale 0.5) while
        # the three threads share the GIL: every span has CPU, the car's the most.
        self.assertTrue(all(cpu.values()), cpu)
        self.assertGreater(cpu["car"], cpu["bike"], cpu)

    def test_with_hotpath_span(self) -> None:
        self.order_all_at_once({}, "hotpath")  # no OpenTelemetry SDK in this Python

    def test_with_the_opentelemetry_sdk_and_hotpaths_span_processor(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            package = Path(d, "opentelemetry", "sdk", "trace")
            package.mkdir(parents=True)
            for parent in (package.parent.parent, package.parent):
                (parent / "__init__.py").write_text("")
            (package / "__init__.py").write_text((SDK_TESTS / "fake_opentelemetry.py").read_text())
            path = os.pathsep.join(p for p in (d, os.environ.get("PYTHONPATH", "")) if p)
            self.order_all_at_once({"PYTHONPATH": path}, "opentelemetry")


if __name__ == "__main__":
    unittest.main()
