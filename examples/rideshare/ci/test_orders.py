"""A small real test suite over the rideshare code, profiled in CI with `pytest --hotpath` (see docs/ci.md)."""
from __future__ import annotations

import threading

import pytest

from lib import routes, utility


@pytest.mark.parametrize("vehicle", ["car", "scooter", "bike"])
def test_order(vehicle: str) -> None:
    for _ in range(2):
        assert routes.order(vehicle)["vehicle"] == vehicle


def test_concurrent_orders() -> None:
    answers = []
    threads = [threading.Thread(target=lambda v=v: answers.append(routes.order(v))) for v in ("car", "scooter", "bike")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a["vehicle"] for a in answers) == ["bike", "car", "scooter"]


def test_unknown_vehicle_is_refused() -> None:
    with pytest.raises(ValueError):
        utility.find_nearest_vehicle(0.01, "rocket")
