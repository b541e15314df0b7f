"""A minimal fake of the opentelemetry.sdk.trace objects hotpath.otel touches (the real SDK is not
installable where Hotpath's tests run): SpanProcessor, SpanContext (span_id, trace_id, is_remote),
spans with `name`, `context`, `parent`, `set_attribute` and `end`, and a tracer whose
`start_as_current_span` is a generator context manager keeping the current span in a contextvar, as
the real SDK's does. Tests load it as the module `opentelemetry.sdk.trace` (test_otel.py) or write it
out as that package for a child process (the rideshare demo's test)."""

import contextlib
import contextvars
import os


class SpanProcessor:
    def on_start(self, span, parent_context=None):
        pass

    def _on_ending(self, span):
        pass

    def on_end(self, span):
        pass

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis=30000):
        return True


class SpanContext:
    def __init__(self, span_id, is_remote=False, trace_id=0):
        self.span_id = span_id
        self.trace_id = trace_id
        self.is_remote = is_remote


class Span:
    def __init__(self, name, context, parent, processors):
        self.name, self.context, self.parent = name, context, parent
        self.attributes = {}
        self._processors = processors

    def set_attribute(self, key, value):
        self.attributes[key] = value

    def end(self):
        for p in self._processors:
            p.on_end(self)


_current = contextvars.ContextVar("current_span", default=None)


class Tracer:
    def __init__(self, processors):
        self._processors = processors

    def start_span(self, name, parent=None):
        if parent is None and _current.get() is not None:
            parent = _current.get().context
        trace_id = parent.trace_id if parent is not None else int.from_bytes(os.urandom(16), "big") or 1
        context = SpanContext(int.from_bytes(os.urandom(8), "big") or 1, trace_id=trace_id)
        span = Span(name, context, parent, self._processors)
        for p in self._processors:
            p.on_start(span, parent_context=None)
        return span

    @contextlib.contextmanager
    def start_as_current_span(self, name, parent=None):
        span = self.start_span(name, parent)
        token = _current.set(span)
        try:
            yield span
        finally:
            _current.reset(token)
            span.end()


class TracerProvider:
    def __init__(self):
        self._processors = []

    def add_span_processor(self, processor):
        self._processors.append(processor)

    def get_tracer(self, name):
        return Tracer(self._processors)
