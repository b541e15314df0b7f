"""Imports the Hotpath profiler (from the repository's sdk/python when it is not installed) and starts it
with the app's settings. Pre-forking servers call start() in each worker, after the fork."""
from __future__ import annotations

import os
import sys

try:
    import hotpath
except ImportError:
    _sdk = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "sdk", "python")
    sys.path.insert(0, os.path.normpath(_sdk))
    import hotpath

from lib.settings import settings


def start(framework: str) -> None:
    """The server address, upload interval and the rest come from the profiler's HOTPATH_* variables."""
    options = {}
    if "HOTPATH_MEM_ENABLED" not in os.environ:
        options["mem_enabled"] = True  # the vehicle pools are what the memory profiles are about
    hotpath.configure(
        application_name=settings.application_name,
        tags={"region": settings.region, "framework": framework},
        # One node per function (its first line) rather than one per executing line: the busy loops
        # then show as one wide find_nearest_vehicle, as the tour describes.
        line_no=hotpath.LineNo.First,
        **options,
    )


__all__ = ["hotpath", "start"]
