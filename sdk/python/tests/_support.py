"""Shared test helpers: import path, fake frames and clocks, a protobuf reader, a local HTTP server."""

from __future__ import annotations

import gzip
import http.server
import os
import socket
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(os.path.dirname(SDK_DIR))
if SDK_DIR not in sys.path:
    sys.path.insert(0, SDK_DIR)


# -- fake frames ---------------------------------------------------------------------------------


class FakeCode:
    def __init__(self, name: str, filename: str = "/app/main.py", firstlineno: int = 1) -> None:
        self.co_name = name
        self.co_qualname = name
        self.co_filename = filename
        self.co_firstlineno = firstlineno
        self.co_flags = 0

    def co_lines(self) -> Any:
        """Line n at instruction offset 2n, as FakeFrame sets f_lasti."""
        return ((2 * n, 2 * n + 2, n) for n in range(1000))


class FakeFrame:
    def __init__(self, code: FakeCode, lineno: int, back: Optional["FakeFrame"] = None) -> None:
        self.f_code = code
        self.f_lineno = lineno
        self.f_lasti = lineno * 2
        self.f_back = back
        self.f_globals: Dict[str, Any] = {}


def stack(*names: str) -> FakeFrame:
    """A fake stack from root-first names 'func' or 'func:line' (returns the leaf frame)."""
    frame = None
    for n in names:
        name, _, line = n.partition(":")
        frame = FakeFrame(FakeCode(name, f"/app/{name}.py", 1), int(line or 1), frame)
    assert frame is not None
    return frame


def labels_here() -> Dict[str, str]:
    """The labels the sampler would attach to a sample of the calling code, right now."""
    from hotpath.sampler import Sampler

    s = Sampler(cpu_clock=lambda ident: 0)
    return dict(s._walk(threading.get_ident(), sys._getframe(1))[1])


class FakeClock:
    """Monotonic ns clock and per-thread CPU clocks that tests advance by hand."""

    def __init__(self) -> None:
        self.now = 0
        self.cpu: Dict[int, int] = {}
        self.unseen = 0  # CPU (ns) of threads the frame source never shows (ended, or native)

    def process_cpu(self) -> int:
        """The process CPU clock: every thread the test knows plus the unseen ones."""
        return sum(self.cpu.values()) + self.unseen

    def __call__(self) -> int:
        return self.now

    def cpu_of(self, ident: int) -> int:
        if ident not in self.cpu:
            raise OSError(22, "no such thread")
        return self.cpu[ident]

    def advance(self, ms: float, **cpu_ms: float) -> None:
        """Moves wall time by ms and thread 't<ident>' CPU clocks by the given ms."""
        self.now += int(ms * 1e6)
        for key, used in cpu_ms.items():
            ident = int(key[1:])
            self.cpu[ident] = self.cpu.get(ident, 0) + int(used * 1e6)


def burn(seconds: float) -> int:
    """Uses `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(2000):
            x += i
    return x


class RecordedProcessClock:
    """time.process_time_ns that keeps its readings, to check a Sampler's totals against them."""

    def __init__(self) -> None:
        self.readings: List[int] = []

    def __call__(self) -> int:
        self.readings.append(time.process_time_ns())
        return self.readings[-1]

    def span(self) -> int:
        """Process CPU ns between the first and the last reading."""
        return self.readings[-1] - self.readings[0]


# -- protobuf reading (tests only) ---------------------------------------------------------------


def _varint(b: bytes, i: int) -> Tuple[int, int]:
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return result, i


def fields(b: bytes) -> List[Tuple[int, Any]]:
    """Top-level (field number, value) pairs: ints for varints, bytes for length-delimited."""
    out: List[Tuple[int, Any]] = []
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i : i + n], i + n
        else:
            raise ValueError(f"unexpected wire type {wt}")
        out.append((num, v))
    return out


def packed(b: bytes) -> List[int]:
    out, i = [], 0
    while i < len(b):
        v, i = _varint(b, i)
        out.append(v)
    return out


def decode_pprof(data: bytes) -> Dict[str, Any]:
    """Decodes the parts of a pprof the SDK writes into plain Python (folded stacks by labels)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    top = fields(data)
    strings = [v.decode() for n, v in top if n == 6]
    functions = {}
    for n, v in top:
        if n == 5:
            f = dict(fields(v))
            functions[f.get(1, 0)] = (strings[f.get(2, 0)], strings[f.get(4, 0)], f.get(5, 0))
    locations = {}
    for n, v in top:
        if n == 4:
            f = fields(v)
            loc_id = dict(f)[1]
            line = dict(fields(dict(f)[4]))
            locations[loc_id] = (functions[line.get(1, 0)], line.get(2, 0))
    sample_types = []
    for n, v in top:
        if n == 1:
            f = dict(fields(v))
            sample_types.append((strings[f.get(1, 0)], strings[f.get(2, 0)]))
    samples = []
    for n, v in top:
        if n == 2:
            locs: List[int] = []
            values: List[int] = []
            labels = {}
            for sn, sv in fields(v):
                if sn == 1:
                    locs += packed(sv)
                elif sn == 2:
                    values += packed(sv)
                elif sn == 3:
                    lf = dict(fields(sv))
                    labels[strings[lf.get(1, 0)]] = strings[lf.get(2, 0)]
            names = [locations[loc][0][0] for loc in locs]
            samples.append({"stack": ";".join(reversed(names)), "values": values, "labels": labels})
    scalars = {n: v for n, v in top if n in (9, 10, 12)}
    period_type = None
    for n, v in top:
        if n == 11:
            f = dict(fields(v))
            period_type = (strings[f.get(1, 0)], strings[f.get(2, 0)])
    return {
        "strings": strings,
        "sample_types": sample_types,
        "samples": samples,
        "time_nanos": scalars.get(9, 0),
        "duration_nanos": scalars.get(10, 0),
        "period": scalars.get(12, 0),
        "period_type": period_type,
        "functions": functions,
    }


def decode_push(body: bytes) -> List[Dict[str, Any]]:
    """Decodes a (possibly gzipped) push.v1.PushRequest into [{labels, profiles: [pprof bytes], ids}]."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    out = []
    for n, series in fields(body):
        assert n == 1
        labels: List[Tuple[str, str]] = []
        profiles, ids = [], []
        for sn, sv in fields(series):
            if sn == 1:
                lp = dict(fields(sv))
                labels.append((lp.get(1, b"").decode(), lp.get(2, b"").decode()))
            elif sn == 2:
                raw = dict(fields(sv))
                profiles.append(raw[1])
                ids.append(raw[2].decode())
        out.append({"labels": labels, "profiles": profiles, "ids": ids})
    return out


# -- a real Hotpath server --------------------------------------------------------------------------


def start_hotpath_server(test: Any) -> str:
    """Starts `hotpath server --store memory` on a free port for `test` (a unittest.TestCase), stopped
    by its cleanups; returns its URL. Skips the test when node, the CLI or node_modules is missing."""
    import shutil
    import subprocess
    import tempfile

    cli = os.path.join(REPO_ROOT, "packages", "cli", "bin", "hotpath.js")
    node = shutil.which("node")
    if node is None:
        test.skipTest("node is not installed: cannot start the Hotpath server")
    if not os.path.exists(cli):
        test.skipTest(f"the Hotpath CLI is missing ({os.path.relpath(cli, REPO_ROOT)})")
    if not os.path.isdir(os.path.join(REPO_ROOT, "node_modules")):
        test.skipTest("node_modules is missing: run `make install` to start the Hotpath server")
    data_dir = tempfile.mkdtemp(prefix="hotpath-e2e-")
    test.addCleanup(shutil.rmtree, data_dir, True)
    server = subprocess.Popen(
        [node, cli, "server", "--port", str(free_port()), "--data-dir", data_dir, "--store", "memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO_ROOT,
    )

    def stop() -> None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()

    test.addCleanup(stop)
    assert server.stdout is not None
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Hotpath listening on" in line:
            return line.split("Hotpath listening on", 1)[1].strip()
    test.skipTest("the Hotpath server did not start: " + "".join(lines)[-500:])
    raise AssertionError("unreachable")


# -- a local HTTP server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """A stdlib HTTP server on 127.0.0.1 whose answers come from `respond(n)`: a status, a
    (status, headers) pair, or 'hang'."""

    def __init__(self, respond: Callable[[int], Any] = lambda n: 200) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.respond = respond
        self.release = threading.Event()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                n = len(recorder.requests)
                recorder.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "at": time.monotonic()}
                )
                answer = recorder.respond(n)
                if answer == "hang":
                    recorder.release.wait(10)
                    return
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
