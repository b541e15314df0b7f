"""The rideshare app on FastAPI, served by uvicorn. The routes are plain functions, so FastAPI runs each
request in its thread pool and the vehicle tag stays with the request's thread."""
from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from lib import profiling, routes
from lib.settings import settings

FRAMEWORK = "fastapi"
app = FastAPI()


@app.get("/")
def index() -> dict:
    return routes.describe(FRAMEWORK)


@app.get("/bike")
def bike() -> dict:
    return routes.order("bike")


@app.get("/scooter")
def scooter() -> dict:
    return routes.order("scooter")


@app.get("/car")
def car() -> dict:
    return routes.order("car")


def main() -> None:
    profiling.start(FRAMEWORK)
    print(f"rideshare {settings.region} ({FRAMEWORK}) on http://{settings.listen_host}:{settings.listen_port}", flush=True)
    try:
        # uvicorn handles SIGINT and SIGTERM itself and returns after a graceful stop.
        uvicorn.run(app, host=settings.listen_host, port=settings.listen_port, log_level="warning", access_log=False)
    finally:
        profiling.hotpath.shutdown()


if __name__ == "__main__":
    main()
