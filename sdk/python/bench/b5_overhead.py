"""B5: slowdown of Python programs when profiled by hotpath at 100 Hz (SDK off vs on).

Workloads, each run in a fresh child process, off and on interleaved (off on off on ...), 5 reps:
- cpu_pure: pure-Python arithmetic and recursion (single thread);
- cpu_stdlib: json, re, sorting and hashing from the standard library (single thread);
- http_8 / http_32: a ThreadingHTTPServer (one thread per keep-alive connection, so 8 or 32
  handler threads) answering requests that cost ~1 ms of CPU, driven by 8 / 32 client threads in
  another process (pinned to the other core with taskset when available).
Measured in the child around the work only: wall seconds and process CPU seconds (user+sys,
including hotpath's own threads); for HTTP also client-side p50/p99 latency. Also the CPU seconds
of hotpath's own threads (sampler + uploader) divided by the wall time: the direct cost, which a
noisy shared machine cannot blur the way it blurs A/B wall-time differences. "on" means
hotpath.configure(sample_rate=100, upload_interval=1) against a local sink that accepts the
pushes, so encoding and uploads are included (10x more uploads than the default interval).

Prints one JSON document. Usage: python b5_overhead.py [--reps 5] [--only cpu_pure,http_8] [--sdk DIR]
(--sdk: measure the hotpath package in DIR, e.g. an older checkout for an A/B run).
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD_PRELUDE = """
import os, sys, time, resource, json
sys.path.insert(0, {sdk!r})
PROFILE = {profile!r}
if PROFILE:
    import hotpath
    hotpath.configure(application_name="b5", server_address={sink!r}, sample_rate=100, upload_interval=1,
                      max_overhead={max_overhead!r})
def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def agent_cpu():
    # CPU seconds used so far by hotpath's own threads (sampler + uploader); 0 when off.
    if not PROFILE:
        return 0.0
    from hotpath import agent
    from hotpath.sampler import thread_cpu_clockid
    a = agent.current()
    total = 0.0
    for t in (a._thread, a.uploader._thread):
        try:
            total += time.clock_gettime(thread_cpu_clockid(t.native_id))
        except OSError:
            pass
    return total
"""

CPU_PURE = """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def arith(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x
time.sleep(0.2)  # let the sampler settle
w0, c0, a0 = time.perf_counter(), cpu_s(), agent_cpu()
for _ in range(4):
    fib(24); arith(600000)
w1, c1, a1 = time.perf_counter(), cpu_s(), agent_cpu()
if PROFILE:
    hotpath.shutdown()
print(json.dumps({"wall": w1 - w0, "cpu": c1 - c0, "agent_cpu": a1 - a0}))
"""

CPU_STDLIB = """
import json as j, re, hashlib, random
rnd = random.Random(42)
docs = [{"id": i, "name": "item%d" % i, "tags": [rnd.random() for _ in range(8)]} for i in range(2000)]
pat = re.compile(r"item(\\d+)7")
time.sleep(0.2)
w0, c0, a0 = time.perf_counter(), cpu_s(), agent_cpu()
for _ in range(12):
    s = j.dumps(docs)
    back = j.loads(s)
    hits = sum(1 for d in back if pat.match(d["name"]))
    back.sort(key=lambda d: d["tags"][3])
    hashlib.sha256(s.encode()).hexdigest()
w1, c1, a1 = time.perf_counter(), cpu_s(), agent_cpu()
if PROFILE:
    hotpath.shutdown()
print(json.dumps({"wall": w1 - w0, "cpu": c1 - c0, "agent_cpu": a1 - a0}))
"""

HTTP_SERVER = """
import http.server, json as j
state = {}
def work():
    x = 0
    for i in range(6000):
        x += i * i
    return j.dumps({"x": x, "items": list(range(50))}).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/__start":
            state["w"], state["c"], state["a"] = time.perf_counter(), cpu_s(), agent_cpu()
            body = b"{}"
        elif self.path == "/__stop":
            body = j.dumps({"wall": time.perf_counter() - state["w"], "cpu": cpu_s() - state["c"],
                            "agent_cpu": agent_cpu() - state["a"]}).encode()
            threading.Thread(target=srv.shutdown).start()
        else:
            body = work()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
import threading
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog (5) drops SYNs of 32 clients: 1 s retransmits in p99
srv = Server(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
if PROFILE:
    hotpath.shutdown()
"""


class Sink:
    """Accepts and discards uploads, like a fast server."""

    def __init__(self) -> None:
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


PIN = False


def pin(cpu: int) -> List[str]:
    ok = PIN and shutil.which("taskset") and (os.cpu_count() or 1) >= 2
    return ["taskset", "-c", str(cpu)] if ok else []


MAX_OVERHEAD = 0.0


def child(code: str, profile: bool, sink: str) -> List[str]:
    prelude = CHILD_PRELUDE.format(sdk=SDK, profile=profile, sink=sink, max_overhead=MAX_OVERHEAD)
    return [sys.executable, "-c", prelude + code]


def run_cpu(code: str, profile: bool, sink: str) -> Dict[str, float]:
    out = subprocess.run(pin(0) + child(code, profile, sink), capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_http(clients: int, total: int, profile: bool, sink: str) -> Dict[str, float]:
    p = subprocess.Popen(pin(0) + child(HTTP_SERVER, profile, sink), stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    port = int(p.stdout.readline())
    time.sleep(0.3)
    latencies: List[float] = []
    lock = threading.Lock()
    per_client = total // clients

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per_client):
            t0 = time.perf_counter()
            conn.request("GET", "/ride")
            conn.getresponse().read()
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    ctl = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ctl.request("GET", "/__start")
    ctl.getresponse().read()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctl.request("GET", "/__stop")
    stats = json.loads(ctl.getresponse().read())
    ctl.close()
    p.wait(30)
    p.stdout.close()
    latencies.sort()
    stats["p50_ms"] = latencies[len(latencies) // 2] * 1e3
    stats["p99_ms"] = latencies[int(len(latencies) * 0.99)] * 1e3
    stats["requests"] = len(latencies)
    return stats


def summarize(runs: Dict[str, List[Dict[str, float]]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    on_runs = runs["on"]
    out["agent_cpu_share_of_wall_pct"] = {
        "median": round(statistics.median(r["agent_cpu"] / r["wall"] * 100 for r in on_runs), 3),
        "min": round(min(r["agent_cpu"] / r["wall"] * 100 for r in on_runs), 3),
        "max": round(max(r["agent_cpu"] / r["wall"] * 100 for r in on_runs), 3),
    }
    for metric in runs["off"][0]:
        if metric == "agent_cpu":
            continue
        off = [r[metric] for r in runs["off"]]
        on = [r[metric] for r in runs["on"]]
        ratios = [b / a for a, b in zip(off, on) if a]
        out[metric] = {
            "off_median": round(statistics.median(off), 4),
            "on_median": round(statistics.median(on), 4),
            "change_pct_median": round((statistics.median(on) / statistics.median(off) - 1) * 100, 2),
            "pair_change_pct_min": round((min(ratios) - 1) * 100, 2),
            "pair_change_pct_max": round((max(ratios) - 1) * 100, 2),
        }
    return out


def main() -> None:
    global PIN, MAX_OVERHEAD, SDK
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="cpu_pure,cpu_stdlib,http_8,http_32")
    ap.add_argument("--requests", type=int, default=1600)
    ap.add_argument("--pin", action="store_true", help="taskset: server/program on core 0, clients on core 1")
    ap.add_argument("--max-overhead", type=float, default=0.0, help="hotpath max_overhead (0 = fixed 100 Hz)")
    ap.add_argument("--sdk", default=SDK, help="directory holding the hotpath package to measure")
    a = ap.parse_args()
    SDK = a.sdk
    PIN = a.pin
    MAX_OVERHEAD = a.max_overhead
    sink = Sink()
    results: Dict[str, Any] = {}
    try:
        for name in a.only.split(","):
            runs: Dict[str, List[Dict[str, float]]] = {"off": [], "on": []}
            for rep in range(a.reps):
                order = (False, True) if rep % 2 == 0 else (True, False)  # alternate who goes first
                for profile in order:
                    if name == "cpu_pure":
                        r = run_cpu(CPU_PURE, profile, sink.url)
                    elif name == "cpu_stdlib":
                        r = run_cpu(CPU_STDLIB, profile, sink.url)
                    else:
                        r = run_http(int(name.split("_")[1]), a.requests, profile, sink.url)
                    runs["on" if profile else "off"].append(r)
            results[name] = summarize(runs)
            print(name, json.dumps(results[name]), file=sys.stderr)
    finally:
        sink.close()
    print(json.dumps({"python": platform.python_version(), "reps": a.reps, "pinned": bool(pin(0)),
                      "max_overhead": MAX_OVERHEAD, "workloads": results}))


if __name__ == "__main__":
    main()
