"""Each server variant (Flask, FastAPI on uvicorn, Django on gunicorn with two pre-forked workers)
starts under the interpreter running the tests, serves /car and gets profiled into a real hotpath
server, its samples tagged with the route (`endpoint`) by the profiler, not the app. A variant is
skipped only when that interpreter cannot import its framework."""
from __future__ import annotations

import sys
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import (
    Processes,
    function_ticks,
    http_get,
    label_values,
    missing_modules,
    missing_prerequisite,
    render,
    start_hotpath,
    start_region,
    wait_for,
)

APP_ENV = {"RIDESHARE_WORK_SCALE": "0.1", "HOTPATH_UPLOAD_INTERVAL": "1", "HOTPATH_REPORT_PID": "true"}
APT_PACKAGES = {"flask": "python3-flask", "fastapi": "python3-fastapi python3-uvicorn", "django": "python3-django gunicorn"}


class FrameworkVariants(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        reason = missing_prerequisite()
        if reason:
            raise unittest.SkipTest(reason)
        cls.procs = Processes()
        try:
            cls.server = start_hotpath(cls.procs, store="memory")
        except BaseException:
            cls.procs.close()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.procs.close()

    def profile_variant(self, framework: str, region: str, processes: int, requests: int = 6) -> set[str]:
        """Starts the variant, sends rounds of `requests` concurrent /car rides until order_car samples
        from `processes` processes are queryable; returns the `pid` label values of its samples."""
        missing = missing_modules(framework)
        if missing:
            self.skipTest(f"{sys.executable} cannot import {', '.join(missing)} (Debian: apt-get install {APT_PACKAGES[framework]})")
        started_ms = int(time.time() * 1000) - 1000
        base = start_region(self.procs, framework, region, self.server, sys.executable, APP_ENV)
        try:

            def ride_round() -> None:
                with ThreadPoolExecutor(requests) as pool:
                    statuses = list(pool.map(lambda _: http_get(base + "/car", timeout_s=30)[0], range(requests)))
                self.assertEqual(statuses, [200] * requests)

            def profiled() -> set[str] | None:
                until_ms = int(time.time() * 1000) + 1000
                # The apps never tag endpoint themselves: configure() does, from each framework's routes.
                ticks = function_ticks(render(self.server, started_ms, until_ms, region=region, endpoint="/car")["flamebearer"])
                pids = set(label_values(self.server, "pid", started_ms, until_ms, region=region))
                if "order_car" in ticks and len(pids) >= processes:
                    return pids
                # A sampler starved of the GIL by six busy rides may tick only after they are over and
                # charge their CPU to the idle pool threads; more rides, not a longer wait, fix that.
                ride_round()
                return None

            ride_round()
            try:
                pids = wait_for(f"order_car samples under endpoint=/car from {processes} {framework} process(es)", profiled, timeout_s=45, every_s=0.5)
            except AssertionError as e:
                self.fail(f"{e}\n{self.procs.logs()}")
            until_ms = int(time.time() * 1000) + 1000
            self.assertLessEqual(set(label_values(self.server, "endpoint", started_ms, until_ms, region=region)), {"/", "/car"})
            self.assertEqual(label_values(self.server, "method", started_ms, until_ms, region=region), ["GET"])
            return pids
        finally:
            self.procs.stop(f"{framework}-{region}")

    def test_flask(self) -> None:
        self.assertEqual(len(self.profile_variant("flask", "flask-region", processes=1)), 1)

    def test_fastapi_on_uvicorn(self) -> None:
        self.assertEqual(len(self.profile_variant("fastapi", "fastapi-region", processes=1)), 1)

    def test_django_on_gunicorn_profiles_every_forked_worker(self) -> None:
        # Two sync workers, six concurrent rides: both workers serve, and each must have started its
        # own profiler after the fork for its pid to appear (the master, which never serves, must not).
        self.assertEqual(len(self.profile_variant("django", "django-region", processes=2)), 2)


if __name__ == "__main__":
    unittest.main()
