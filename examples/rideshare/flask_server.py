"""The rideshare app on Flask (its built-in server, one thread per request)."""
from __future__ import annotations

import logging
import signal
import sys

from flask import Flask, jsonify

from lib import profiling, routes
from lib.settings import settings

FRAMEWORK = "flask"
app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(routes.describe(FRAMEWORK))


@app.route("/bike")
def bike():
    return jsonify(routes.order("bike"))


@app.route("/scooter")
def scooter():
    return jsonify(routes.order("scooter"))


@app.route("/car")
def car():
    return jsonify(routes.order("car"))


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    profiling.start(FRAMEWORK)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"rideshare {settings.region} ({FRAMEWORK}) on http://{settings.listen_host}:{settings.listen_port}", flush=True)
    try:
        app.run(host=settings.listen_host, port=settings.listen_port, threaded=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        profiling.hotpath.shutdown()


if __name__ == "__main__":
    main()
