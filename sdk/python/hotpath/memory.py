"""Memory profiles from tracemalloc, duty-cycled so the cost is bounded.

Sampling rule: in every upload window of T seconds, tracemalloc traces allocations during the
first `duty_cycle × T` seconds only (default 5 %: 0.5 s of every 10 s), then a snapshot is taken
and tracing stops (which frees tracemalloc's tables). The application pays tracemalloc's
per-allocation cost during the traced slice and nothing outside it, so the average cost is
`duty_cycle × tracemalloc overhead` (measured in bench/B5 notes).

From each snapshot (the allocations made during the slice that are still alive at its end,
grouped by allocating stack):
- inuse_space / inuse_objects: those bytes / blocks, as is;
- alloc_space / alloc_objects: the same scaled by 1 / duty_cycle, an estimate of what the whole
  window allocated and kept for at least the rest of the slice. Temporaries allocated and freed
  inside the slice are not seen (tracemalloc does not count freed blocks).
If the application already runs tracemalloc itself, hotpath never starts or stops it and reads
a snapshot at the end of each slice.
"""

from __future__ import annotations

import dis
import os
import tracemalloc
from typing import Any, Dict, List, Optional, Tuple

from .pprof import FrameKey, ProfileBuilder

_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FunctionIndex:
    """Maps (file, line) -> function qualname by compiling the source once per file.

    tracemalloc frames carry only a file and a line; the innermost code object whose lines
    contain the line names the function.
    """

    def __init__(self) -> None:
        self._files: Dict[str, List[Tuple[int, int, str, int]]] = {}
        self._cache: Dict[Tuple[str, int], Tuple[str, int]] = {}

    def _index(self, filename: str) -> List[Tuple[int, int, str, int]]:
        spans = self._files.get(filename)
        if spans is None:
            spans = []
            try:
                with open(filename, "rb") as fh:
                    source = fh.read()
                top = compile(source, filename, "exec", dont_inherit=True)
                todo = [top]
                while todo:
                    code = todo.pop()
                    lines = [ln for _, ln in dis.findlinestarts(code) if ln is not None]
                    if code is not top and lines:
                        name = getattr(code, "co_qualname", None) or code.co_name
                        spans.append((min(lines + [code.co_firstlineno]), max(lines), name, code.co_firstlineno))
                    todo.extend(c for c in code.co_consts if hasattr(c, "co_code"))
            except (OSError, SyntaxError, ValueError):
                pass
            self._files[filename] = spans
        return spans

    def function(self, filename: str, line: int) -> Tuple[str, int]:
        key = (filename, line)
        hit = self._cache.get(key)
        if hit is None:
            best: Optional[Tuple[int, int, str, int]] = None
            for span in self._index(filename):
                if span[0] <= line <= span[1] and (best is None or span[1] - span[0] < best[1] - best[0]):
                    best = span
            hit = (best[2], best[3]) if best else ("<module>", 1)
            self._cache[key] = hit
        return hit


class MemoryProfiler:
    """Starts/stops the traced slices and turns snapshots into a 4-type memory pprof."""

    SAMPLE_TYPES = (("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes"))

    def __init__(self, max_nframe: int = 128, duty_cycle: float = 0.05) -> None:
        self.max_nframe = max_nframe
        self.duty_cycle = duty_cycle
        self.functions = FunctionIndex()
        self._owned = False
        self.tracing = False

    def start_slice(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.max_nframe)
            self._owned = True
        self.tracing = True

    def end_slice(self) -> Optional[Any]:
        """Takes the slice's snapshot (None if not tracing) and stops tracing if hotpath started it."""
        if not self.tracing:
            return None
        self.tracing = False
        snapshot = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        if self._owned:
            tracemalloc.stop()
            self._owned = False
        return snapshot

    def stop(self) -> None:
        if self.tracing and self._owned and tracemalloc.is_tracing():
            tracemalloc.stop()
        self.tracing = False
        self._owned = False

    def build(self, snapshot: Any, namer: Any, time_nanos: int, duration_nanos: int) -> ProfileBuilder:
        builder = ProfileBuilder(
            sample_types=self.SAMPLE_TYPES,
            period_type=("space", "bytes"),
            period=1,
            time_nanos=time_nanos,
            duration_nanos=duration_nanos,
        )
        scale = 1.0 / self.duty_cycle
        for stat in snapshot.statistics("traceback"):
            frames: List[FrameKey] = []
            # tracemalloc orders frames oldest first; pprof wants the leaf first.
            for fr in reversed(list(stat.traceback)):
                if fr.filename.startswith(_OWN_DIR) or fr.filename == tracemalloc.__file__:
                    continue
                name, start = self.functions.function(fr.filename, fr.lineno)
                frames.append(namer.frame(name, fr.filename, start, fr.lineno))
            if not frames:
                continue
            builder.add(tuple(frames), (round(stat.count * scale), round(stat.size * scale), stat.count, stat.size))
        return builder
