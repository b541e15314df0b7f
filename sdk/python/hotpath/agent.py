"""The running profiler: sampler thread, window flushes, memory slices, uploads, fork handling."""

from __future__ import annotations

import atexit
import logging
import os
import platform
import random
import sys
import threading
import time
from typing import Callable, List, Optional
from urllib.parse import quote

from . import tags as _tags
from .config import Config
from .memory import MemoryProfiler
from .pprof import ProfileBuilder, Series, encode_push_request, gzip_bytes, series_labels
from .sampler import FrameNamer, Sampler
from .uploader import Request, Uploader

log = logging.getLogger("hotpath")

VERSION = "0.1.0"


class Agent:
    def __init__(self, config: Config, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._wall = wall_clock
        self.sampler = Sampler(
            oncpu=config.oncpu,
            line_no=config.line_no,
            report_pid=config.report_pid,
            report_thread_id=config.report_thread_id,
            report_thread_name=config.report_thread_name,
        )
        self.namer = FrameNamer(config.line_no)
        self.memory = MemoryProfiler(config.mem_max_nframe, config.mem_duty_cycle) if config.mem_enabled else None
        if self.memory is not None and not self.memory.available:
            log.warning(
                "hotpath: memory profiles are off: Python %s cannot stop tracemalloc safely while threads"
                " run (CPython gh-128679) and ctypes, needed to pause it instead, is not available",
                platform.python_version(),
            )
            self.memory = None
        self.uploader = self._new_uploader()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._window_start = 0.0
        self._slice_end = 0.0
        self.flushes = 0
        self.flush_errors = 0
        self.effective_rate = float(config.sample_rate)  # Hz, lowered by the max_overhead cap
        self.inherited = False  # True in a forked child, whose agent was restarted from the parent's

    def _new_uploader(self) -> Uploader:
        c = self.config
        headers = Uploader.auth_headers(c.basic_auth_username, c.basic_auth_password, c.tenant_id, c.http_headers)
        return Uploader(c.server_address, headers=headers, timeout=c.upload_timeout, max_pending=c.upload_buffer)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.uploader.start()
        self._stop.clear()
        self._window_start = self._wall()
        if self.memory is not None:
            self.memory.start_slice()
            self._slice_end = self._window_start + self.config.upload_interval * self.config.mem_duty_cycle
        self._thread = threading.Thread(target=self._run, name="hotpath-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops sampling, uploads the last window, waits up to `timeout` s for pending uploads."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(3.0)
        self.uploader.stop(timeout)
        if self.memory is not None:
            # Last, with the uploader thread gone: where tracemalloc.stop() is unsafe it only runs
            # when no other thread is left (see memory.py).
            self.memory.stop()

    def _run(self) -> None:
        me = threading.get_ident()
        self.sampler.exclude.add(me)
        if self.uploader.ident is not None:
            self.sampler.exclude.add(self.uploader.ident)
        base_interval = 1.0 / self.config.sample_rate
        interval = base_interval
        budget = self.config.max_overhead
        upload_every = self.config.upload_interval
        mono, sleep, thread_cpu = time.monotonic, time.sleep, time.thread_time
        next_tick = mono()
        next_flush = (int(self._wall() / upload_every) + 1) * upload_every
        tick = self.sampler.tick
        stopped = self._stop.is_set
        cpu_enabled = self.config.cpu_enabled
        # Overhead cap: once a second compare the CPU the ticks took with the wall time that
        # passed; above the budget, stretch the tick interval (CPU ns are charged exactly whatever
        # the interval, so totals stay right and only stack resolution drops). Only the ticks
        # count: memory slices and uploads cost the same at any interval, and counting them
        # stretched ticks to a second, which left most of a short request's CPU to no stack.
        window_wall, tick_cpu = mono(), 0.0
        rand = random.random
        while True:
            # ±50 % jitter keeps ticks from phase-locking with periodic work (which would bias
            # the split between code paths); the mean interval is unchanged.
            next_tick += interval * (0.5 + rand())
            delay = next_tick - mono()
            if delay > 0:
                sleep(delay)  # time.sleep, not Event.wait: far cheaper per tick; stop() waits one tick
            else:  # fell behind (GIL, suspend): skip ticks rather than burst
                next_tick = mono()
            if stopped():
                break
            if cpu_enabled:
                if budget > 0:  # two clock reads a tick, only for the cap
                    before = thread_cpu()
                    tick()
                    tick_cpu += thread_cpu() - before
                else:
                    tick()
            now = self._wall()
            if self.memory is not None and self.memory.tracing and now >= self._slice_end:
                self._end_memory_slice()
            if now >= next_flush:
                next_flush = (int(now / upload_every) + 1) * upload_every
                self.flush(now)
            if budget > 0:
                elapsed = mono() - window_wall
                if elapsed >= 1.0:
                    share = tick_cpu / elapsed
                    window_wall, tick_cpu = mono(), 0.0
                    if share > budget:
                        interval = min(1.0, interval * share / budget)
                    elif share < budget / 2 and interval > base_interval:
                        interval = max(base_interval, interval * 0.8)
                    self.effective_rate = 1.0 / interval
        # Final window: charge the CPU used since the last tick, then upload.
        if cpu_enabled:
            tick()
        self.flush(self._wall(), final=True)

    # -- flushing -------------------------------------------------------------------------------

    def _end_memory_slice(self) -> None:
        assert self.memory is not None
        try:
            self._memory_snapshot = self.memory.end_slice()
        except Exception:  # noqa: BLE001
            self._memory_snapshot = None
            self.flush_errors += 1

    _memory_snapshot = None

    def flush(self, now: float, final: bool = False) -> None:
        """Ends the current window [window_start, now) and queues its profiles. Never raises."""
        start, self._window_start = self._window_start, now
        try:
            self._flush(start, now, final)
            self.flushes += 1
        except Exception:  # noqa: BLE001 - never raise into the application
            self.flush_errors += 1
            log.exception("hotpath: building the profile failed; window dropped")

    def _flush(self, start: float, end: float, final: bool) -> None:
        c = self.config
        time_nanos = int(start * 1e9)
        duration_nanos = max(0, int((end - start) * 1e9))
        series: List[Series] = []
        values = self.sampler.take()
        if values:
            metric, sample_type = ("process_cpu", "cpu") if c.oncpu else ("wall", "wall")
            builder = ProfileBuilder(
                sample_types=[(sample_type, "nanoseconds")],
                period_type=(sample_type, "nanoseconds"),
                period=1_000_000_000 // c.sample_rate,
                time_nanos=time_nanos,
                duration_nanos=duration_nanos,
            )
            stack = self.namer.stack
            for (raw, labels), value in values.items():
                builder.add(stack(raw), (value,), labels)
            series.append(Series(series_labels(metric, c.tags, c.application_name), builder.encode()))
        if self.memory is not None:
            if self.memory.tracing:
                self._end_memory_slice()
            snapshot, self._memory_snapshot = self._memory_snapshot, None
            if snapshot is not None:
                mem = self.memory.build(snapshot, self.namer, time_nanos, duration_nanos)
                if mem.sample_count:
                    series.append(Series(series_labels("memory", c.tags, c.application_name), mem.encode()))
            if not final:
                self.memory.start_slice()
                self._slice_end = end + c.upload_interval * c.mem_duty_cycle
        # /ingest takes whole seconds: cover the window, at least one second long.
        from_s = int(start)
        until_s = max(from_s + 1, -int(-end // 1))
        for request in self._requests(series, from_s, until_s):
            self.uploader.submit(request)

    def _requests(self, series: List[Series], start_s: int, end_s: int) -> List[Request]:
        if not series:
            return []
        c = self.config
        user_agent = f"hotpath-python/{VERSION} python/{sys.version_info[0]}.{sys.version_info[1]}"
        if c.upload_protocol == "push":
            body = gzip_bytes(encode_push_request(series))
            headers = {"Content-Type": "application/proto", "Content-Encoding": "gzip", "User-Agent": user_agent}
            return [Request("/push.v1.PusherService/Push", body, headers)]
        out = []
        for s in series:
            tags = ",".join(f"{k}={v}" for k, v in s.labels if k not in ("__name__", "service_name"))
            app = dict(s.labels).get("service_name", c.application_name)
            name = f"{app}{{{tags}}}" if tags else app
            query = (
                f"?name={quote(name, safe='')}&from={start_s}&until={end_s}&format=pprof"
                f"&sampleRate={c.sample_rate}&spyName=pyspy"
            )
            headers = {"Content-Type": "binary/octet-stream", "User-Agent": user_agent}
            out.append(Request("/ingest" + query, gzip_bytes(s.pprof), headers))
        return out

    # -- fork -----------------------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """The child has only the forking thread: start its own sampler and uploader, no old data."""
        self._stop = threading.Event()
        self.inherited = True
        self.sampler.reset_after_fork()
        self.sampler.exclude.clear()
        self.uploader = self._new_uploader()  # the parent's queue is the parent's to send
        self._memory_snapshot = None
        if self.memory is not None:
            self.memory.reset_after_fork()  # tracemalloc state was inherited; restart it cleanly
        self.start()


_agent: Optional[Agent] = None
_lock = threading.Lock()


def current() -> Optional[Agent]:
    return _agent


def install(agent: Agent) -> None:
    global _agent
    with _lock:
        previous = _agent
        if previous is not None and not previous.inherited:
            raise RuntimeError("hotpath is already configured; call hotpath.shutdown() first")
        if previous is not None:
            # configure() in a forked worker (gunicorn post_fork, as pyroscope-io's docs say) while
            # the master had configured too: the worker's settings replace the inherited agent.
            previous.stop(timeout=1.0)
        _agent = agent
        agent.start()
    _flush_in_multiprocessing_children(agent)


def _flush_in_multiprocessing_children(agent: Agent) -> None:
    # multiprocessing children leave through os._exit(), which skips atexit; its own finalizers
    # do run, so each child registers one that flushes the child's last window.
    try:
        import multiprocessing.util as mp_util

        def register(_: object) -> None:
            mp_util.Finalize(None, _at_exit, exitpriority=-100)

        mp_util.register_after_fork(agent, register)
    except Exception:  # noqa: BLE001
        log.debug("hotpath: multiprocessing hook not installed", exc_info=True)


def uninstall(timeout: float = 5.0) -> bool:
    global _agent
    with _lock:
        agent, _agent = _agent, None
    if agent is None:
        return False
    agent.stop(timeout)
    return True


def _after_fork_child() -> None:
    global _lock
    _lock = threading.Lock()
    _tags.reset_after_fork()
    agent = _agent
    if agent is not None:
        try:
            agent.after_fork_in_child()
        except Exception:  # noqa: BLE001
            log.exception("hotpath: could not restart the profiler in the forked child")


def _at_exit() -> None:
    try:
        uninstall()
    except Exception:  # noqa: BLE001
        pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)
atexit.register(_at_exit)
