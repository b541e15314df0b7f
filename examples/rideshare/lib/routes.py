"""What each route of every server variant does, so the four variants differ only in their framework."""
from __future__ import annotations

import os

from lib.bike import order_bike
from lib.car import order_car
from lib.profiling import hotpath
from lib.scooter import order_scooter
from lib.settings import settings
from lib.tracing import TRACER, request_span

# Search radius per vehicle, in seconds of search work (before RIDESHARE_WORK_SCALE).
VEHICLES = {"bike": (order_bike, 0.2), "scooter": (order_scooter, 0.3), "car": (order_car, 0.4)}


def order(vehicle: str) -> dict[str, str]:
    """Orders a ride inside the request's root span; the answer names the span (its flame graph's id)."""
    order_function, search_radius = VEHICLES[vehicle]
    with request_span(f"GET /{vehicle}"):
        order_function(search_radius)
        span_id = hotpath.current_span_id() or ""
    return {"vehicle": vehicle, "region": settings.region, "span_id": span_id}


def describe(framework: str) -> dict[str, object]:
    """The answer to `/`: which app this is and the environment it was configured with."""
    names = sorted(k for k in os.environ if k.startswith(("HOTPATH_", "RIDESHARE_")) or k == "REGION")
    return {
        "app": settings.application_name,
        "region": settings.region,
        "framework": framework,
        "tracer": TRACER,
        "routes": ["/" + v for v in VEHICLES],
        "environment": {k: os.environ[k] for k in names},
    }
