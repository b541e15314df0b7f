"""The uploader against a local stdlib HTTP server that fails, hangs, throttles and rejects."""

from __future__ import annotations

import time
import unittest
from typing import Callable

from _support import Recorder, free_port

from hotpath.uploader import Request, Uploader, parse_retry_after


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def req(n: int) -> Request:
    return Request(f"/push.v1.PusherService/Push?n={n}", f"body-{n}".encode(), {"Content-Type": "application/proto"})


class UploaderBehaviour(unittest.TestCase):
    def setUp(self) -> None:
        self.servers = []
        self.uploaders = []

    def tearDown(self) -> None:
        for u in self.uploaders:
            u.stop(0.5)
        for s in self.servers:
            s.close()

    def server(self, respond: Callable[[int], object]) -> Recorder:
        s = Recorder(respond)
        self.servers.append(s)
        return s

    def uploader(self, url: str, **kw: object) -> Uploader:
        kw.setdefault("backoff_initial", 0.01)
        kw.setdefault("backoff_max", 0.05)
        u = Uploader(url, **kw)  # type: ignore[arg-type]
        u.start()
        self.uploaders.append(u)
        return u

    def test_sends_in_order_with_auth_tenant_and_extra_headers(self) -> None:
        s = self.server(lambda n: 200)
        headers = Uploader.auth_headers("user", "pass", "team-a", {"X-Extra": "1"})
        u = self.uploader(s.url + "/prefix", headers=headers)
        for n in range(3):
            u.submit(req(n))
        self.assertTrue(wait_for(lambda: u.stats.sent == 3))
        self.assertEqual([r["path"] for r in s.requests], [f"/prefix/push.v1.PusherService/Push?n={n}" for n in range(3)])
        h = s.requests[0]["headers"]
        self.assertEqual(h["Authorization"], "Basic dXNlcjpwYXNz")
        self.assertEqual((h["X-Scope-OrgID"], h["X-Extra"]), ("team-a", "1"))
        self.assertEqual(s.requests[0]["body"], b"body-0")

    def test_basic_auth_needs_both_parts(self) -> None:
        self.assertNotIn("Authorization", Uploader.auth_headers("user", "", "", {}))

    def test_retries_5xx_and_429_then_succeeds(self) -> None:
        answers = [500, 429, 503, 200]
        s = self.server(lambda n: answers[n] if n < len(answers) else 200)
        u = self.uploader(s.url)
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: u.stats.sent == 1))
        self.assertEqual(u.stats.retries, 3)
        self.assertEqual(len(s.requests), 4)
        self.assertEqual({r["body"] for r in s.requests}, {b"body-0"})

    def test_a_throttled_upload_waits_as_long_as_retry_after_says(self) -> None:
        s = self.server(lambda n: (429, {"Retry-After": "0.3"}) if n == 0 else 200)
        u = self.uploader(s.url, backoff_max=5.0)
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: u.stats.sent == 1))
        # The exponential backoff alone would retry after ~0.01 s; the server asked for 0.3 s.
        self.assertGreaterEqual(s.requests[1]["at"] - s.requests[0]["at"], 0.3)

    def test_retry_after_is_capped_by_the_backoff_maximum_and_ignores_dates(self) -> None:
        self.assertEqual(parse_retry_after("120"), 120.0)
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), 0.0)
        self.assertEqual(parse_retry_after(None), 0.0)
        self.assertEqual(parse_retry_after("-3"), 0.0)
        s = self.server(lambda n: (429, {"Retry-After": "3600"}) if n == 0 else 200)
        u = self.uploader(s.url, backoff_max=0.05)
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: u.stats.sent == 1))

    def test_a_hanging_server_times_out_and_is_retried(self) -> None:
        s = self.server(lambda n: "hang" if n == 0 else 200)
        u = self.uploader(s.url, timeout=0.3)
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: u.stats.sent == 1))
        self.assertGreaterEqual(u.stats.retries, 1)
        self.assertIn("timed out", u.stats.last_error)

    def test_network_errors_are_retried_until_the_server_appears(self) -> None:
        port = free_port()
        u = self.uploader(f"http://127.0.0.1:{port}")
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: u.stats.retries >= 2))
        self.assertEqual(u.stats.sent, 0)
        self.assertIn("Connection", u.stats.last_error)

    def test_other_4xx_is_a_counted_rejection(self) -> None:
        s = self.server(lambda n: 400 if n == 0 else 200)
        u = self.uploader(s.url)
        u.submit(req(0))
        u.submit(req(1))
        self.assertTrue(wait_for(lambda: u.stats.sent == 1))
        self.assertEqual((u.stats.dropped_rejected, u.stats.retries), (1, 0))

    def test_a_full_buffer_drops_the_oldest_and_counts_it(self) -> None:
        s = self.server(lambda n: "hang" if n == 0 else 200)
        u = self.uploader(s.url, max_pending=3, timeout=5.0)
        u.submit(req(0))
        self.assertTrue(wait_for(lambda: len(s.requests) == 1))  # 0 is in flight, hanging
        for n in range(1, 6):
            u.submit(req(n))  # never blocks, even though the server hangs
        self.assertEqual(u.stats.dropped_full, 3)
        s.release.set()  # the hung request fails (empty reply) and is retried
        self.assertTrue(wait_for(lambda: u.pending == 0 and u.stats.sent >= 3))
        sent = [r["path"].rsplit("=", 1)[1] for r in s.requests[1:]]
        self.assertEqual(sent[-3:], ["3", "4", "5"])

    def test_stop_sends_pending_within_the_deadline_then_gives_up(self) -> None:
        s = self.server(lambda n: 200)
        u = Uploader(s.url)
        u.start()
        u.submit(req(0))
        u.stop(2.0)
        self.assertEqual(u.stats.sent, 1)
        dead = Uploader(f"http://127.0.0.1:{free_port()}", backoff_initial=0.01)
        dead.start()
        dead.submit(req(0))
        dead.submit(req(1))
        dead.stop(0.5)
        self.assertEqual(dead.stats.sent, 0)
        self.assertEqual(dead.stats.dropped_shutdown, 2)


if __name__ == "__main__":
    unittest.main()
