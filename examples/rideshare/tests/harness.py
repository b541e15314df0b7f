"""Runs the real pieces for the rideshare tests: a hotpath server, rideshare apps and the load
generator, each in its own process group (stopped, group and all, when the test ends), plus the
query-API helpers that read flame graphs back as {function: ticks}."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, TypeVar

RIDESHARE = Path(__file__).resolve().parents[1]
REPO = RIDESHARE.parents[1]
HOTPATH_BIN = REPO / "packages" / "cli" / "bin" / "hotpath.js"
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
APP = "ride-sharing-app"
REGIONS = ("us-east", "eu-north", "ap-south")
# Modules each server variant needs from the interpreter running it.
FRAMEWORK_MODULES = {"stdlib": (), "flask": ("flask",), "fastapi": ("fastapi", "uvicorn"), "django": ("django", "gunicorn")}

sys.path.insert(0, str(RIDESHARE))  # the tests also import lib and load_generator directly

T = TypeVar("T")


@lru_cache(maxsize=None)
def missing_prerequisite() -> Optional[str]:
    """Why the tests that run a hotpath server cannot run on this machine, or None when they can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (REPO / "sdk" / "python" / "hotpath" / "__init__.py").is_file():
        return "the Python SDK (sdk/python/hotpath) is not in this checkout"
    if not (REPO / "node_modules").is_dir():
        return "node_modules is missing: run `make install` first"
    try:
        out = subprocess.run(["node", str(HOTPATH_BIN), "--help"], capture_output=True, text=True, timeout=60, cwd=REPO)
    except subprocess.TimeoutExpired:
        return "`hotpath --help` did not answer within 60 s"
    if not any(line.split()[:1] == ["server"] for line in out.stdout.splitlines()):
        return "`hotpath --help` lists no `server` command yet"
    return None


def missing_modules(framework: str, python: str = sys.executable) -> list[str]:
    code = "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    out = subprocess.run([python, "-c", code, *FRAMEWORK_MODULES[framework]], capture_output=True, text=True, check=True)
    return out.stdout.split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], Optional[T]], timeout_s: float, every_s: float = 0.25) -> T:
    """Calls probe until it returns something other than None; fails with `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


def http_get(url: str, timeout_s: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


class Processes:
    """Child processes started in new sessions (their own process groups) with logs in a temp dir.
    stop_all() ends every group: SIGTERM, then SIGKILL for what is left after a grace period."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rideshare-test-"))
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")
        child = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.children[name] = child
        return child

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """Every child's log tail, for failure messages."""
        return "\n".join(f"--- {name} (exit {c.poll()}):\n{self.log(name)[-3000:]}" for name, c in self.children.items())

    def stop(self, name: str, grace_s: float = 10) -> None:
        child = self.children[name]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(child.pid, sig)
            except ProcessLookupError:
                pass
            try:
                child.wait(timeout=grace_s)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(child.pid, signal.SIGKILL)  # children of the group leader that outlived it
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.children)):
            self.stop(name)

    def close(self) -> None:
        self.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_hotpath(procs: Processes, store: str = "duckdb") -> str:
    """Starts `hotpath server` on a free port; returns its base URL once /ready answers 200."""
    port = free_port()
    argv = ["node", str(HOTPATH_BIN), "server", "--port", str(port), "--data-dir", str(procs.dir / "data")]
    if store != "duckdb":
        argv += ["--store", store]
    server = procs.start("hotpath", argv, env={})
    base = f"http://127.0.0.1:{port}"

    def ready() -> Optional[bool]:
        if server.poll() is not None:
            raise AssertionError(f"hotpath server exited with {server.returncode}:\n{procs.log('hotpath')}")
        return True if http_get(base + "/ready", timeout_s=2)[0] == 200 else None

    wait_for("hotpath server /ready", ready, timeout_s=60)
    return base


def start_region(procs: Processes, framework: str, region: str, server: str, python: str, env: dict[str, str]) -> str:
    """Starts one rideshare app; returns its base URL once `/` answers."""
    port = free_port()
    name = f"{framework}-{region}"
    app = procs.start(
        name,
        [python, str(RIDESHARE / f"{framework}_server.py")],
        env={"REGION": region, "RIDESHARE_LISTEN_PORT": str(port), "HOTPATH_SERVER_ADDRESS": server, **env},
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> Optional[bool]:
        if app.poll() is not None:
            raise AssertionError(f"{name} exited with {app.returncode}:\n{procs.log(name)}")
        return True if http_get(base + "/", timeout_s=2)[0] == 200 else None

    wait_for(f"{name} to answer /", up, timeout_s=60)
    return base


# ---- query API -------------------------------------------------------------------------------


def selector(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in {"service_name": APP, **labels}.items()) + "}"


def render(server: str, from_ms: int, until_ms: int, profile_type: str = CPU, **labels: str) -> dict:
    query = urllib.parse.urlencode({"query": profile_type + selector(**labels), "from": from_ms, "until": until_ms})
    return _get_json(f"{server}/pyroscope/render?{query}")


def render_diff(server: str, left: tuple[int, int], right: tuple[int, int], profile_type: str = CPU, **labels: str) -> dict:
    q = profile_type + selector(**labels)
    query = urllib.parse.urlencode(
        {"leftQuery": q, "leftFrom": left[0], "leftUntil": left[1], "rightQuery": q, "rightFrom": right[0], "rightUntil": right[1]}
    )
    return _get_json(f"{server}/pyroscope/render-diff?{query}")


def label_values(server: str, name: str, from_ms: int, until_ms: int, **labels: str) -> list[str]:
    body = {"name": name, "matchers": [selector(**labels)], "start": str(from_ms), "end": str(until_ms)}
    req = urllib.request.Request(
        f"{server}/querier.v1.QuerierService/LabelValues", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return sorted(json.load(r).get("names", []))


def spans(server: str, from_ms: int, until_ms: int, profile_type: str = CPU, **labels: str) -> list[dict]:
    """GET /api/spans: the spans of the selection, largest value first."""
    query = urllib.parse.urlencode({"query": selector(**labels), "profileType": profile_type, "from": from_ms, "until": until_ms})
    return _get_json(f"{server}/api/spans?{query}")["spans"]


def span_profile(server: str, span_ids: list[str], from_ms: int, until_ms: int, profile_type: str = CPU, **labels: str) -> dict:
    """SelectMergeSpanProfile (Connect JSON) as a flamebearer ({names, levels}) for function_ticks."""
    body = {"profileTypeID": profile_type, "labelSelector": selector(**labels), "spanSelector": span_ids,
            "start": str(from_ms), "end": str(until_ms), "maxNodes": "8192"}
    req = urllib.request.Request(
        f"{server}/querier.v1.QuerierService/SelectMergeSpanProfile", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        graph = json.load(r).get("flamegraph", {})
    return {"names": graph.get("names", []), "levels": [[int(v) for v in level.get("values", [])] for level in graph.get("levels", [])],
            "numTicks": int(graph.get("total", 0))}


def _get_json(url: str) -> dict:
    status, body = http_get(url, timeout_s=30)
    if status != 200:
        raise AssertionError(f"GET {url} answered {status}: {body[:500]!r}")
    return json.loads(body)


def function_name(frame: str) -> str:
    """The bare function name of a frame name: `Handler.do_GET (stdlib_server.py:21)` -> do_GET."""
    return frame.split(" (", 1)[0].rsplit(".", 1)[-1]


def function_ticks(flamebearer: dict) -> dict[str, dict[str, int]]:
    """Decodes single-format levels (4-tuples [x_delta, total, self, name]) into
    {function: {"total": ticks, "self": ticks}}, summed over every node of that function."""
    names = flamebearer["names"]
    out: dict[str, dict[str, int]] = {}
    for level in flamebearer["levels"][1:]:  # level 0 is the root, "total"
        for i in range(0, len(level), 4):
            entry = out.setdefault(function_name(names[level[i + 3]]), {"total": 0, "self": 0})
            entry["total"] += level[i + 1]
            entry["self"] += level[i + 2]
    return out


def diff_ticks(flamebearer: dict) -> dict[str, dict[str, int]]:
    """Decodes double-format levels (7-tuples [xL, totalL, selfL, xR, totalR, selfR, name]) into
    {function: {"left_total", "left_self", "right_total", "right_self"}}."""
    names = flamebearer["names"]
    out: dict[str, dict[str, int]] = {}
    keys = ("left_total", "left_self", "right_total", "right_self")
    for level in flamebearer["levels"][1:]:
        for i in range(0, len(level), 7):
            entry = out.setdefault(function_name(names[level[i + 6]]), dict.fromkeys(keys, 0))
            for key, offset in zip(keys, (1, 2, 4, 5)):
                entry[key] += level[i + offset]
    return out
