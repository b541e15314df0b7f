"""The rideshare CI suite's setup: the rideshare code on sys.path and a short search time per order."""
from __future__ import annotations

import os
import sys

# Before lib.settings reads it: a fifth of the demo's search time keeps the suite a few seconds long.
os.environ.setdefault("RIDESHARE_WORK_SCALE", "0.5")
os.environ.setdefault("REGION", "us-east")  # eu-north's slow path depends on the clock minute
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
