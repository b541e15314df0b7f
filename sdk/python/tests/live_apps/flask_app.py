"""Flask on its own threaded server; configure() runs before Flask is imported (the import hook patches it)."""
import sys

import work

work.start("flask")

from flask import Flask  # noqa: E402

app = Flask(__name__)


@app.route("/car/<id>")
def car(id: str) -> str:
    return work.order_car()


@app.route("/bike/<id>")
def bike(id: str) -> str:
    return work.order_bike()


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
