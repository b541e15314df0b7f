"""Automatic tags against real frameworks and a real Hotpath server: Flask (its own server), Django
under gunicorn (2 pre-forked workers), FastAPI under uvicorn, a Celery prefork worker and an RQ
worker on a real redis-server. The apps (tests/live_apps) only call hotpath.configure(); each test
queries the server and finds the route's or task's own function under its `endpoint` / `task`
value, and not under the other one's.

Skipped only when this interpreter lacks the framework (Debian: python3-flask python3-django
gunicorn python3-fastapi python3-uvicorn python3-celery python3-rq python3-redis redis-server), or
when node / the server cannot run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional

from _support import REPO_ROOT, SDK_DIR

sys.path.insert(0, os.path.join(REPO_ROOT, "examples", "rideshare", "tests"))
import harness  # noqa: E402  (the rideshare tests' process and query helpers)

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "live_apps")
APP_ENV = {"PYTHONPATH": os.pathsep.join((SDK_DIR, APPS)), "HOTPATH_UPLOAD_INTERVAL": "1"}


def setUpModule() -> None:
    global procs, server
    reason = harness.missing_prerequisite()
    if reason:
        raise unittest.SkipTest(reason)
    procs = harness.Processes()
    try:
        server = harness.start_hotpath(procs, store="memory")
    except BaseException:
        procs.close()
        raise


def tearDownModule() -> None:
    procs.close()


def require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise unittest.SkipTest(f"{sys.executable} cannot import {', '.join(missing)}")


def start(name: str, argv: List[str], env: Optional[Dict[str, str]] = None) -> None:
    clean = {k: "" for k in os.environ if k.startswith("HOTPATH_")}
    procs.start(name, argv, env={**clean, **APP_ENV, "HOTPATH_SERVER_ADDRESS": server, **(env or {})}, cwd=APPS)


class LiveCase(unittest.TestCase):
    def setUp(self) -> None:
        self.started_ms = int(time.time() * 1000) - 1000

    def functions(self, service: str, **labels: str) -> Dict[str, Dict[str, int]]:
        until_ms = int(time.time() * 1000) + 1000
        fb = harness.render(server, self.started_ms, until_ms, service_name=service, **labels)["flamebearer"]
        return harness.function_ticks(fb)

    def values(self, service: str, name: str) -> List[str]:
        return harness.label_values(server, name, self.started_ms, int(time.time() * 1000) + 1000, service_name=service)

    def await_split(self, service: str, tag: str, car: str, bike: str, more_work: Callable[[], None], what: str) -> None:
        """Keeps the app busy until order_car is found under tag=car and order_bike under tag=bike,
        then checks neither is under the other's value."""

        def found() -> Optional[bool]:
            under_car, under_bike = self.functions(service, **{tag: car}), self.functions(service, **{tag: bike})
            if "order_car" in under_car and "order_bike" in under_bike:
                self.assertNotIn("order_bike", under_car, f"bike's function under {tag}={car}")
                self.assertNotIn("order_car", under_bike, f"car's function under {tag}={bike}")
                return True
            more_work()
            return None

        more_work()
        try:
            harness.wait_for(what, found, timeout_s=60, every_s=0.5)
        except AssertionError as e:
            self.fail(f"{e}\n{procs.logs()}")


class WebFrameworks(LiveCase):
    def serve(self, name: str, argv: List[str], car: str, bike: str, workers: int = 1) -> None:
        port = harness.free_port()
        start(name, [a.replace("{port}", str(port)) for a in argv])
        base = f"http://127.0.0.1:{port}"
        harness.wait_for(f"{name} to answer", lambda: True if harness.http_get(base + "/car/0", 5)[0] == 200 else None, 60)

        def rides() -> None:
            # Raw paths differ on every ride; the endpoint values must not.
            paths = [f"/car/{i}" for i in range(4)] + [f"/bike/{i}" for i in range(4)]
            with ThreadPoolExecutor(len(paths)) as pool:
                statuses = list(pool.map(lambda p: harness.http_get(base + p, timeout_s=30)[0], paths))
            self.assertEqual(statuses, [200] * len(paths))

        service = f"autotags-{name}"
        self.await_split(service, "endpoint", car, bike, rides, f"{name}: order_car under endpoint={car}")
        self.assertEqual(sorted(set(self.values(service, "endpoint")) - {"<unmatched>"}), sorted([car, bike]))
        self.assertEqual(self.values(service, "method"), ["GET"])
        if workers > 1:
            # Pre-forked: every worker profiles itself (and tags its own requests).
            def every_worker() -> Optional[bool]:
                if len(self.values(service, "pid")) >= workers:
                    return True
                rides()
                return None

            harness.wait_for(f"samples from {workers} {name} workers", every_worker, 45)
        procs.stop(name)

    def test_flask_endpoint_is_the_route_rule(self) -> None:
        require("flask")
        self.serve("flask", [sys.executable, "flask_app.py", "{port}"], "/car/<id>", "/bike/<id>")

    def test_django_under_gunicorn_every_worker_tags_its_requests(self) -> None:
        require("django", "gunicorn")
        argv = [sys.executable, "-m", "gunicorn", "-w", "2", "--preload", "-b", "127.0.0.1:{port}", "django_app:application"]
        self.serve("django", argv, "/car/<int:id>", "/bike/<int:id>", workers=2)

    def test_fastapi_under_uvicorn_thread_pool_and_coroutine_routes(self) -> None:
        require("fastapi", "uvicorn")
        argv = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning"]
        self.serve("fastapi", argv, "/car/{id}", "/bike/{id}")


class TaskQueues(LiveCase):
    redis_url = ""

    @classmethod
    def setUpClass(cls) -> None:
        if shutil.which("redis-server") is None:
            raise unittest.SkipTest("redis-server is not installed (Debian: apt-get install redis-server)")
        require("redis")
        port = harness.free_port()
        procs.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], env={})

        def pong() -> Optional[bool]:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"PING\r\n")
                    return True if s.recv(16).startswith(b"+PONG") else None
            except OSError:
                return None

        harness.wait_for("redis-server to answer PING", pong, 30)
        cls.redis_url = f"redis://127.0.0.1:{port}/0"

    @classmethod
    def tearDownClass(cls) -> None:
        if "redis" in procs.children:
            procs.stop("redis")

    def test_celery_prefork_pool_tags_task_and_queue(self) -> None:
        require("celery")
        from celery import Celery

        argv = [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool", "prefork", "-c", "2", "-Q", "rides",
                "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        start("celery", argv, {"AUTOTAGS_REDIS_URL": self.redis_url})
        client = Celery("client", broker=self.redis_url)

        def send() -> None:
            for name in ("rides.car", "rides.bike") * 2:
                client.send_task(name, queue="rides")

        try:
            self.await_split("autotags-celery", "task", "rides.car", "rides.bike", send, "celery: order_car under task=rides.car")
            self.assertEqual(self.values("autotags-celery", "queue"), ["rides"])
        finally:
            procs.stop("celery")

    def test_rq_work_horse_uploads_its_job_before_os_exit(self) -> None:
        require("rq")
        from redis import Redis
        from rq import Queue

        # Windows of 10 s, jobs of ~0.13 s CPU each: a horse that did not flush before os._exit()
        # would leave almost every job's samples unsent.
        start("rq", [sys.executable, "rq_worker.py"], {"AUTOTAGS_REDIS_URL": self.redis_url, "HOTPATH_UPLOAD_INTERVAL": "10"})
        queue = Queue("rides", connection=Redis.from_url(self.redis_url))
        jobs = [queue.enqueue(name) for name in ("rq_jobs.car", "rq_jobs.bike") * 3]
        try:
            harness.wait_for("6 rq jobs to finish", lambda: True if all(j.get_status(refresh=True) == "finished" for j in jobs) else None, 60)
            used_ns = 3 * 0.13e9  # rq_jobs.car's CPU per job, three jobs

            def uploaded() -> Optional[int]:
                until_ms = int(time.time() * 1000) + 1000
                fb = harness.render(server, self.started_ms, until_ms, service_name="autotags-rq", task="rq_jobs.car")["flamebearer"]
                return fb["numTicks"] if fb["numTicks"] >= 0.6 * used_ns else None

            try:
                harness.wait_for("rq_jobs.car's CPU of all three horses", uploaded, 30)
            except AssertionError as e:
                self.fail(f"{e}\n{procs.logs()}")
            under_car, under_bike = self.functions("autotags-rq", task="rq_jobs.car"), self.functions("autotags-rq", task="rq_jobs.bike")
            self.assertIn("order_car", under_car)
            self.assertNotIn("order_bike", under_car)
            self.assertIn("order_bike", under_bike)
            self.assertEqual(self.values("autotags-rq", "queue"), ["rides"])
        finally:
            procs.stop("rq")


if __name__ == "__main__":
    unittest.main()
