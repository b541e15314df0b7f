"""One root span per ride request, so every order has its own flame graph (span profiles).

With the OpenTelemetry SDK where the Python running the app has it (Hotpath's span processor then
links each root span to its samples through `pyroscope.profile.id`), else with `hotpath.span`. Either
way the order's samples carry the sample labels span_id and span_name."""
from __future__ import annotations

from typing import Any, ContextManager

from lib.profiling import hotpath

try:
    from opentelemetry.sdk.trace import TracerProvider

    from hotpath.otel import HotpathSpanProcessor

    _provider = TracerProvider()
    _provider.add_span_processor(HotpathSpanProcessor())
    _tracer: Any = _provider.get_tracer("rideshare")
except ImportError:
    _tracer = None

TRACER = "opentelemetry" if _tracer is not None else "hotpath"


def request_span(name: str) -> ContextManager[Any]:
    """The root span of one request. Returned, not wrapped in a generator of this module: the span's
    samples are those below the frame that enters it, which must be the frame doing the work."""
    if _tracer is not None:
        return _tracer.start_as_current_span(name)
    return hotpath.span(name=name)
