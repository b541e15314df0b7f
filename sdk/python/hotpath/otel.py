"""OpenTelemetry span processor: a local root span's samples carry its span_id, and the span links to them.

    from opentelemetry.sdk.trace import TracerProvider
    from hotpath.otel import HotpathSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(HotpathSpanProcessor())

On a local root span's start (no parent, or a parent from another process) the processor sets the
span attribute `pyroscope.profile.id` to the span id in 16 hex digits (what Tempo and Grafana read
to link a trace to its profile) and opens a `hotpath.span` for the frame that started it, so every
sample taken below that frame, and in asyncio tasks it creates, carries `span_id`, `span_name` and
`trace_id`; on the span's end the labels end. Child spans add nothing (one label set per request,
not per span).

The frame that started the span is the first one outside OpenTelemetry's API and SDK, contextlib
and hotpath: the `with tracer.start_as_current_span(...)` line, a decorated function's caller, or an
instrumentation's middleware frame. A span started in a hook that returns before the request's work
runs (a before-request callback) labels nothing that runs after the hook: start the root span in a
frame that stays on the stack (a middleware, the handler itself).

The OpenTelemetry SDK is imported here only if the application has it: the processor subclasses
its SpanProcessor then (so SDK hooks added later have defaults), and a plain class otherwise.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any, Dict, Optional

from .spans import span as _span

try:
    from opentelemetry.sdk.trace import SpanProcessor as _Base
except ImportError:  # the SDK is optional: the processor only needs the objects it is handed
    _Base = object  # type: ignore[assignment,misc]

PROFILE_ID_ATTRIBUTE = "pyroscope.profile.id"
# Open root spans kept at most; beyond it the oldest is closed (a span that is never ended must
# not keep its frame alive for ever).
MAX_OPEN_SPANS = 10_000
# Module name prefixes of the code between the application and on_start.
_MACHINERY = ("opentelemetry.sdk", "opentelemetry.trace", "opentelemetry.context", "opentelemetry.util", "hotpath.")


def _started_in(frame: Optional[FrameType]) -> Optional[FrameType]:
    """The first frame at or above `frame` that is not tracing machinery."""
    f = frame
    while f is not None:
        module = f.f_globals.get("__name__") or ""
        if module != "contextlib" and not module.startswith(_MACHINERY):
            return f
        f = f.f_back
    return None


def is_local_root(otel_span: Any) -> bool:
    parent = getattr(otel_span, "parent", None)
    return parent is None or bool(getattr(parent, "is_remote", False))


class HotpathSpanProcessor(_Base):  # type: ignore[misc,valid-type]
    """Labels the samples of each local root span with span_id/span_name (see the module docstring)."""

    def __init__(self) -> None:
        self._open: Dict[int, _span] = {}  # OpenTelemetry span id -> the open hotpath.span
        self._lock = threading.Lock()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        try:
            if not is_local_root(span):
                return
            span_id = span.context.span_id
            if not span_id:
                return
            frame = _started_in(sys._getframe(1))
            if frame is None:
                return
            trace_id = getattr(span.context, "trace_id", 0)
            block = _span(span_id=span_id, name=str(span.name or ""), trace_id=trace_id or None).enter_at(frame)
            # The id the samples carry: a root started inside an open hotpath.span is its child.
            span.set_attribute(PROFILE_ID_ATTRIBUTE, block.span_id)
            if not block.is_root:
                return
            with self._lock:
                self._open[span_id] = block
                oldest = next(iter(self._open)) if len(self._open) > MAX_OPEN_SPANS else None
                stale = self._open.pop(oldest) if oldest is not None else None
            if stale is not None:
                stale.__exit__()
        except Exception:  # noqa: BLE001 - profiling must never break the application's tracing
            pass

    def on_end(self, span: Any) -> None:
        try:
            with self._lock:
                block = self._open.pop(span.context.span_id, None)
            if block is not None:
                block.__exit__()
        except Exception:  # noqa: BLE001
            pass

    def shutdown(self) -> None:
        with self._lock:
            blocks, self._open = list(self._open.values()), {}
        for block in blocks:
            block.__exit__()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


# The name pyroscope-otel users already have in their code.
PyroscopeSpanProcessor = HotpathSpanProcessor
