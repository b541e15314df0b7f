"""Automatic tags in one process: the patch-on-import hook, the generic WSGI / ASGI middleware,
unmatched routes, hotpath.instrument(), and the auto_tags switch. Each check asks the real Sampler
which labels a sample of the handler's stack would get. (Real servers: test_auto_tags_live.py.)"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any, Dict, List

from _support import SDK_DIR

from hotpath import integrations, web
from hotpath.sampler import Sampler


def labels_here() -> Dict[str, str]:
    """The labels the sampler gives a sample of the caller's stack."""
    frame = sys._getframe(1)
    ticks = iter(range(0, 10**9, 10**7))
    sampler = Sampler(oncpu=False, clock=lambda: next(ticks), frames=lambda: {1: frame})
    sampler.tick()
    sampler.tick()
    ((_, labels),) = sampler.take()
    return dict(labels)


def call_asgi(app: Any, path: str, method: str = "GET") -> List[bytes]:
    body: List[bytes] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"", "headers": [],
             "root_path": "", "scheme": "http", "server": ("test", 80), "client": ("test", 1), "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    return body


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class ImportHook(unittest.TestCase):
    def test_a_module_imported_later_is_patched_once_and_keeps_its_real_loader(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "hotpath_fake_framework.py"), "w") as f:
                f.write("class App:\n    def serve(self):\n        return 'served'\n")
            sys.path.insert(0, d)
            calls: List[str] = []

            def patch(module: Any) -> None:
                calls.append(module.__name__)

            try:
                integrations.when_imported("hotpath_fake_framework", patch)
                self.assertEqual(calls, [])  # nothing imported by Hotpath itself
                import hotpath_fake_framework  # type: ignore[import-not-found]

                self.assertEqual(calls, ["hotpath_fake_framework"])
                self.assertNotIsInstance(hotpath_fake_framework.__loader__, integrations._PatchingLoader)
                integrations.when_imported("hotpath_fake_framework", patch)  # already applied: not again
                self.assertEqual(calls, ["hotpath_fake_framework"])
            finally:
                sys.path.remove(d)
                sys.modules.pop("hotpath_fake_framework", None)

    def test_an_integration_that_raises_is_logged_not_raised(self) -> None:
        def broken(module: Any) -> None:
            raise AttributeError("no such class in this version")

        with self.assertLogs("hotpath", "WARNING"):
            integrations.when_imported("json", broken)


class GenericMiddleware(unittest.TestCase):
    def test_wsgi_tags_method_and_unmatched_or_the_given_endpoint(self) -> None:
        seen: List[Dict[str, str]] = []

        def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
            seen.append(labels_here())
            return [b""]

        web.WSGIMiddleware(app)({"REQUEST_METHOD": "POST", "PATH_INFO": "/car/17"}, None)
        web.WSGIMiddleware(app, endpoint=lambda env: "/car/:id")({"REQUEST_METHOD": "BREW"}, None)
        self.assertEqual(seen, [{"endpoint": "<unmatched>", "method": "POST"}, {"endpoint": "/car/:id", "method": "OTHER"}])

    def test_asgi_tags_coroutines_and_the_thread_pool_work_they_hand_off(self) -> None:
        seen: List[Dict[str, str]] = []

        async def app(scope: Dict[str, Any], receive: Any, send: Any) -> None:
            seen.append(labels_here())
            await asyncio.get_running_loop().run_in_executor(None, lambda: None)

        call_asgi(web.ASGIMiddleware(app, endpoint=lambda scope: "/bike/{id}"), "/bike/3", "PUT")
        self.assertEqual(seen, [{"endpoint": "/bike/{id}", "method": "PUT"}])

    def test_instrument_wraps_a_plain_callable_by_its_kind(self) -> None:
        async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
            pass

        def wsgi_app(environ: Any, start_response: Any) -> List[bytes]:
            return []

        self.assertIsInstance(web.instrument(asgi_app), web.ASGIMiddleware)
        self.assertIsInstance(web.instrument(wsgi_app), web.WSGIMiddleware)
        with self.assertRaises(ValueError):
            web.instrument(42)


class Frameworks(unittest.TestCase):
    @unittest.skipUnless(has("flask"), "flask is not importable here (Debian: python3-flask)")
    def test_flask_route_rule_and_unmatched(self) -> None:
        import flask

        app = web.instrument(flask.Flask("flask_autotags"))
        app.add_url_rule("/car/<id>", "car", lambda id: json.dumps(labels_here()))
        app.register_error_handler(404, lambda e: (json.dumps(labels_here()), 404))
        client = app.test_client()
        self.assertEqual(json.loads(client.get("/car/17").data), {"endpoint": "/car/<id>", "method": "GET"})
        self.assertEqual(json.loads(client.delete("/no/such/route").data), {"endpoint": "<unmatched>", "method": "DELETE"})

    @unittest.skipUnless(has("fastapi"), "fastapi is not importable here (Debian: python3-fastapi)")
    def test_fastapi_route_path_in_the_thread_pool_mounted_and_unmatched(self) -> None:
        import fastapi

        app = web.instrument(fastapi.FastAPI())
        app.get("/car/{id}")(lambda id: labels_here())  # a plain function: runs in anyio's thread pool

        async def not_found(request: Any, exc: Any) -> Any:
            return fastapi.responses.JSONResponse(labels_here(), status_code=404)

        app.add_exception_handler(404, not_found)
        v1 = fastapi.FastAPI()
        v1.get("/bike/{id}")(lambda id: labels_here())
        app.mount("/v1", v1)
        self.assertEqual(json.loads(b"".join(call_asgi(app, "/car/17"))), {"endpoint": "/car/{id}", "method": "GET"})
        self.assertEqual(json.loads(b"".join(call_asgi(app, "/v1/bike/3"))), {"endpoint": "/v1/bike/{id}", "method": "GET"})
        self.assertEqual(json.loads(b"".join(call_asgi(app, "/nope"))), {"endpoint": "<unmatched>", "method": "GET"})


class StandardLibrary(unittest.TestCase):
    def test_http_server_endpoint_is_the_handler_method(self) -> None:
        import http.server
        import threading
        import urllib.request

        integrations.when_imported("http.server", web._patch_http_server)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(labels_here()).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/car/17", timeout=10) as r:
                self.assertEqual(json.load(r), {"endpoint": "Handler.do_GET", "method": "GET"})
        finally:
            server.shutdown()
            server.server_close()


class Switch(unittest.TestCase):
    def patched_after_configure(self, auto_tags: str) -> bool:
        code = textwrap.dedent(
            """
            import hotpath, flask
            hotpath.configure(application_name="switch", server_address="http://127.0.0.1:9", upload_interval=3600)
            print(hasattr(flask.Flask.full_dispatch_request, "_hotpath_original"))
            """
        )
        env = {**os.environ, "PYTHONPATH": SDK_DIR, "HOTPATH_AUTO_TAGS": auto_tags}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip() == "True"

    @unittest.skipUnless(has("flask"), "flask is not importable here (Debian: python3-flask)")
    def test_configure_patches_frameworks_unless_auto_tags_is_off(self) -> None:
        self.assertTrue(self.patched_after_configure("true"))
        self.assertFalse(self.patched_after_configure("false"))


if __name__ == "__main__":
    unittest.main()
