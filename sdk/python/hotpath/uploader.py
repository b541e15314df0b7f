"""Background uploads: a bounded queue drained by one daemon thread, with retries and backoff.

The sampler hands finished requests to `submit()`, which never blocks and never raises. The
uploader thread sends them in order; on a network error, a timeout, HTTP 429 or 5xx it retries
the same request after an exponential backoff (0.5 s doubling to 30 s, ±20 % jitter), or after the
server's `Retry-After` when that is longer (a rate-limited tenant waits as told, capped at the
backoff maximum). Any other
status is a rejection: the request is dropped and counted. When the queue is full the oldest
request is dropped (and counted) to make room, so a dead server costs bounded memory.
"""

from __future__ import annotations

import base64
import collections
import http.client
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional
from urllib.parse import urlsplit

log = logging.getLogger("hotpath")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class Request:
    path: str  # path and query, appended to the server address's path
    body: bytes
    headers: Dict[str, str]


@dataclass
class UploadStats:
    sent: int = 0  # requests accepted by the server (2xx)
    retries: int = 0  # failed attempts that were retried
    dropped_full: int = 0  # requests dropped because the buffer was full (oldest first)
    dropped_rejected: int = 0  # requests the server rejected with a non-retryable status
    dropped_shutdown: int = 0  # requests still pending when shutdown's deadline passed
    last_error: str = ""


class Uploader:
    def __init__(
        self,
        server_address: str,
        *,
        headers: Optional[Dict[str, str]] = None,
        timeout: float = 10.0,
        max_pending: int = 32,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        url = urlsplit(server_address)
        self._https = url.scheme == "https"
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if self._https else 80)
        self._base_path = url.path.rstrip("/")
        self._headers = dict(headers or {})
        self.timeout = timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._rand = rand
        self._queue: Deque[Request] = collections.deque()
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline: Optional[float] = None
        self._thread: Optional[threading.Thread] = None
        self._retry_after = 0.0  # seconds the last retryable answer asked for (Retry-After), else 0
        self.stats = UploadStats()

    @staticmethod
    def auth_headers(basic_user: str, basic_password: str, tenant_id: str, extra: Dict[str, str]) -> Dict[str, str]:
        """Headers as pyroscope-io sends them: Basic auth if both parts set, X-Scope-OrgID, extras last."""
        h: Dict[str, str] = {}
        if basic_user and basic_password:
            token = base64.b64encode(f"{basic_user}:{basic_password}".encode()).decode()
            h["Authorization"] = f"Basic {token}"
        if tenant_id:
            h["X-Scope-OrgID"] = tenant_id
        h.update(extra)
        return h

    @property
    def ident(self) -> Optional[int]:
        return self._thread.ident if self._thread else None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hotpath-uploader", daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> None:
        """Queues a request; drops the oldest pending one if the buffer is full. Never blocks."""
        with self._cond:
            if len(self._queue) >= self._max_pending:
                self._queue.popleft()
                self.stats.dropped_full += 1
                log.warning("hotpath: upload buffer full (%d), dropped the oldest profile", self._max_pending)
            self._queue.append(request)
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Sends what is pending, giving up (and counting drops) after `timeout` seconds."""
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout + self.timeout + 1)

    def _run(self) -> None:
        attempt = 0
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                if self._stopping and self._deadline is not None and time.monotonic() >= self._deadline:
                    self.stats.dropped_shutdown += len(self._queue)
                    self._queue.clear()
                    return
                request = self._queue[0]
            outcome = self._send(request)
            with self._cond:
                if outcome == "retry" and not self._stopping:
                    self.stats.retries += 1
                    delay = min(self.backoff_max, self.backoff_initial * (2 ** attempt)) * (0.8 + 0.4 * self._rand())
                    delay = max(delay, min(self.backoff_max, self._retry_after))
                    attempt += 1
                    retry_at = time.monotonic() + delay
                    while not self._stopping and time.monotonic() < retry_at:
                        self._cond.wait(retry_at - time.monotonic())  # stop() cuts the wait short
                    continue
                if outcome == "retry":
                    self.stats.retries += 1
                    if self._deadline is not None and time.monotonic() < self._deadline:
                        self._cond.wait(min(0.2, max(0.0, self._deadline - time.monotonic())))
                        continue
                attempt = 0
                if self._queue and self._queue[0] is request:
                    self._queue.popleft()
                if outcome == "sent":
                    self.stats.sent += 1
                elif outcome == "rejected":
                    self.stats.dropped_rejected += 1
                elif outcome == "retry":
                    self.stats.dropped_shutdown += 1

    def _send(self, request: Request) -> str:
        timeout = self.timeout
        if self._deadline is not None:
            timeout = max(0.1, min(timeout, self._deadline - time.monotonic()))
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            headers = {**request.headers, **self._headers}
            conn.request("POST", self._base_path + request.path, body=request.body, headers=headers)
            resp = conn.getresponse()
            detail = resp.read(512)
            status = resp.status
            self._retry_after = parse_retry_after(resp.getheader("Retry-After"))
        except Exception as e:  # noqa: BLE001 - network errors of every kind are retried
            self.stats.last_error = f"{type(e).__name__}: {e}"
            log.info("hotpath: upload failed (%s), will retry", self.stats.last_error)
            return "retry"
        finally:
            conn.close()
        if 200 <= status < 300:
            return "sent"
        self.stats.last_error = f"HTTP {status}: {detail[:200].decode('utf-8', 'replace')}"
        if status in RETRYABLE_STATUS:
            log.info("hotpath: upload got %s, will retry", self.stats.last_error)
            return "retry"
        log.warning("hotpath: upload rejected, dropped: %s", self.stats.last_error)
        return "rejected"


def parse_retry_after(value: Optional[str]) -> float:
    """Seconds from a Retry-After header in its delay-seconds form; 0 when absent or not a number."""
    if not value:
        return 0.0
    try:
        seconds = float(value.strip())
    except ValueError:
        return 0.0  # the HTTP-date form: fall back to the exponential backoff
    return seconds if seconds > 0 and seconds == seconds else 0.0
