"""Span profiles: samples taken while a request's root span is open carry its `span_id` and `span_name`.

`span` is a `tag_wrapper` block with reserved tags, so it follows the same rules: the labels are
pprof *sample* labels of the samples taken below the frame that opened the block (two threads, or
two asyncio tasks on one event loop, each carry their own span), and asyncio tasks created inside
the block carry them too while it is open. `span_id` is 16 lower-case hex digits, as Pyroscope's
clients send and Grafana's trace-to-profiles link queries; `trace_id` (32 hex digits) is added when
the trace is known. Only a *local root* labels samples: a span opened while another is open on the
same stack adds nothing (per-request labels only, so a request's profile is one selector away and a
deep trace does not multiply the samples).
"""

from __future__ import annotations

import os
import random
import sys
from types import FrameType
from typing import Any, Optional, Union

from . import tags as _tags

SPAN_ID = "span_id"
SPAN_NAME = "span_name"
TRACE_ID = "trace_id"
# Labels that identify one request: kept off memory profiles (see memory.AllocationTags.record).
SPAN_KEYS = frozenset((SPAN_ID, SPAN_NAME, TRACE_ID))

# New span ids: a generator of our own (an application's random.seed() must not make ids repeat),
# seeded from os.urandom, and again in each forked child (pre-fork workers must not share ids).
_ids = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.seed)


def _format_id(value: Union[int, str], bits: int, what: str) -> str:
    """bits/4 lower-case hex digits of a non-zero int or a hex string of that length; ValueError else."""
    digits = bits // 4
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{what} must be an int or {digits} hex digits, got {type(value).__name__}")
    if isinstance(value, str):
        if len(value) != digits or not all(c in "0123456789abcdefABCDEF" for c in value):
            raise ValueError(f"{what} must be {digits} hex digits, got {value!r}")
        number = int(value, 16)
    else:
        number = value
    if not 0 < number < 1 << bits:
        raise ValueError(f"{what} must be a non-zero {bits}-bit id, got {value!r}")
    return format(number, f"0{digits}x")


def format_span_id(span_id: Union[int, str, None]) -> str:
    """16 lower-case hex digits from an OpenTelemetry-style int, a hex string, or None (a new
    random id). Raises ValueError on anything else, and on 0 (OpenTelemetry's invalid span id)."""
    if span_id is None:
        while True:
            value = _ids.getrandbits(64)
            if value:
                return format(value, "016x")
    return _format_id(span_id, 64, "span_id")


def format_trace_id(trace_id: Union[int, str]) -> str:
    """32 lower-case hex digits from an OpenTelemetry-style int or a hex string (ValueError else)."""
    return _format_id(trace_id, 128, "trace_id")


def active_span_id(frame: Optional[FrameType]) -> Optional[str]:
    """The span_id in force for code running in `frame` (the root span's), or None."""
    frame_tags = _tags.frame_tags
    f = frame
    while f is not None:
        found = frame_tags.get(f)
        if found:
            for k, v in found:
                if k == SPAN_ID:
                    return v
        f = f.f_back
    return None


def current_span_id() -> Optional[str]:
    """The span_id the caller's samples carry right now (for logs, or a trace viewer link)."""
    return active_span_id(sys._getframe(1))


class span:
    """Context manager: samples taken below the block carry the sample labels span_id and span_name
    (and trace_id when given, so a trace id alone finds the request's profile).

        with hotpath.span(name="GET /car") as s:      # a new random id: s.span_id
            ...
        ctx = otel_span.get_span_context()
        with hotpath.span(span_id=ctx.span_id, name=otel_span.name, trace_id=ctx.trace_id):
            ...

    Inside another open span (on the same stack, or in an asyncio task created inside one) it is
    a child: it labels nothing and `span_id` is the root's. Works as `async with` too.
    """

    __slots__ = ("span_id", "name", "trace_id", "is_root", "_block")

    def __init__(
        self, span_id: Union[int, str, None] = None, name: str = "", trace_id: Union[int, str, None] = None
    ) -> None:
        if not isinstance(name, str):
            raise ValueError(f"span name must be a string, got {type(name).__name__}")
        self.span_id = format_span_id(span_id)
        self.name = name
        self.trace_id = format_trace_id(trace_id) if trace_id is not None else None
        self.is_root = False  # set on entry
        self._block: Optional[_tags.tag_wrapper] = None

    def enter_at(self, frame: FrameType) -> "span":
        """Opens the span for `frame` (the frame that stays on the stack while the span's work runs)."""
        if self._block is not None:
            raise RuntimeError("span is already entered; create a new one per with block")
        root = active_span_id(frame)
        self.is_root = root is None
        if root is not None:
            self.span_id = root
            return self
        labels = {SPAN_ID: self.span_id, SPAN_NAME: self.name}
        if self.trace_id is not None:
            labels[TRACE_ID] = self.trace_id
        self._block = _tags.tag_wrapper(labels)
        self._block.enter_at(frame)
        return self

    def __enter__(self) -> "span":
        frame = _tags.owner_frame(sys._getframe(1))
        assert frame is not None
        return self.enter_at(frame)

    def __exit__(self, *exc: Any) -> None:
        block, self._block = self._block, None
        if block is not None:
            block.__exit__()

    async def __aenter__(self) -> "span":
        frame = _tags.owner_frame(sys._getframe(1))
        assert frame is not None
        return self.enter_at(frame)

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__()
