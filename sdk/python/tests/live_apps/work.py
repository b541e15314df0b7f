"""CPU work with a distinct function per route or task, so a flame graph shows whose stack it is."""
import time

import hotpath


def spin(cpu_seconds: float) -> None:
    end = time.thread_time() + cpu_seconds
    while time.thread_time() < end:
        sum(range(300))


def order_car() -> str:
    spin(0.03)
    return "car"


def order_bike() -> str:
    spin(0.03)
    return "bike"


def start(framework: str) -> None:
    """Profiles this process into HOTPATH_SERVER_ADDRESS every HOTPATH_UPLOAD_INTERVAL s (set by the test)."""
    hotpath.configure(application_name=f"autotags-{framework}", report_pid=True)
