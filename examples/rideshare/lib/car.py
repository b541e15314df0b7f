"""Ordering a car: search for the nearest one within the given radius (seconds of search work)."""
from lib.utility import find_nearest_vehicle


def order_car(search_radius: float) -> None:
    find_nearest_vehicle(search_radius, "car")
