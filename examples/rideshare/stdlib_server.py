"""The rideshare app on the standard library's http.server (one thread per request)."""
from __future__ import annotations

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lib import profiling, routes
from lib.settings import settings

FRAMEWORK = "stdlib"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, routes.describe(FRAMEWORK))
        elif path.lstrip("/") in routes.VEHICLES:
            self._send(200, routes.order(path.lstrip("/")))
        else:
            self._send(404, {"error": f"no route {path}", "routes": ["/", "/bike", "/scooter", "/car"]})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown the demo's output


def main() -> None:
    profiling.start(FRAMEWORK)
    server = ThreadingHTTPServer((settings.listen_host, settings.listen_port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"rideshare {settings.region} ({FRAMEWORK}) on http://{settings.listen_host}:{settings.listen_port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        profiling.hotpath.shutdown()


if __name__ == "__main__":
    main()
