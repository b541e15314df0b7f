"""The rideshare app's own knobs, read once from the environment (the same names in Docker and locally).
The profiler reads its own HOTPATH_* variables (HOTPATH_SERVER_ADDRESS, HOTPATH_UPLOAD_INTERVAL, ...)."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    application_name: str
    region: str
    listen_host: str
    listen_port: int
    # Length of one slow/fast phase in seconds: eu-north is slow in even periods (even minutes at 60).
    period_s: float
    # Multiplies every busy loop; below 1 makes the demo cheaper (the tests use small values).
    work_scale: float


def _positive_float(name: str, default: str) -> float:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds or a factor, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {raw!r}")
    return value


def load() -> Settings:
    return Settings(
        application_name=os.environ.get("HOTPATH_APPLICATION_NAME", "ride-sharing-app"),
        region=os.environ.get("REGION", "us-east"),
        listen_host=os.environ.get("RIDESHARE_LISTEN_HOST", "127.0.0.1"),
        listen_port=int(os.environ.get("RIDESHARE_LISTEN_PORT", "5000")),
        period_s=_positive_float("RIDESHARE_PERIOD_S", "60"),
        work_scale=_positive_float("RIDESHARE_WORK_SCALE", "1"),
    )


settings = load()
