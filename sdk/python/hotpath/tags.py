"""Dynamic tags: frame-scoped (`tag_wrapper`) and thread-scoped (`add_thread_tag`).

`tag_wrapper` keys its tags by the frame that executes the `with` statement, not by the OS
thread. The sampler finds them while walking a sampled stack, so two asyncio tasks interleaving
on one event-loop thread each carry their own tags (the coroutine's frame is on the stack only
while that task runs), and a tag never leaks to code that is not below the `with` block.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any, Dict, Mapping, Optional, Tuple

TagItems = Tuple[Tuple[str, str], ...]

# frame -> merged tags of every tag_wrapper block currently open in that frame (inner wins).
# Values are immutable tuples so the sampler can read them without a lock while app threads
# enter and leave blocks (single dict get/set/del are atomic under the GIL).
frame_tags: Dict[FrameType, TagItems] = {}
# thread ident -> tags set by add_thread_tag on that thread.
thread_tags: Dict[int, TagItems] = {}
# Bumped whenever a tag_wrapper block is entered or left; the sampler's per-thread stack cache is
# valid only while it is unchanged. A one-element list so the sampler reads it without a global.
version = [0]
_thread_lock = threading.Lock()

_CO_GENERATOR = 0x20
_CO_ASYNC_GENERATOR = 0x200


def validate_tags(tags: Any, what: str) -> Dict[str, str]:
    """Checks a user tag dict: string keys matching [A-Za-z0-9_.]+ (not __*), scalar values."""
    if not isinstance(tags, Mapping):
        raise ValueError(f"{what} must be a dict of str to str, got {type(tags).__name__}")
    out: Dict[str, str] = {}
    for k, v in tags.items():
        validate_tag_key(k, what)
        if not isinstance(v, (str, int, float, bool)):
            raise ValueError(f"{what}: value of {k!r} must be a string, got {type(v).__name__}")
        out[k] = str(v)
    return out


def validate_tag_key(k: Any, what: str) -> None:
    if not isinstance(k, str) or not k:
        raise ValueError(f"{what}: tag names must be non-empty strings, got {k!r}")
    if k.startswith("__"):
        raise ValueError(f"{what}: tag name {k!r} is reserved (names starting with '__')")
    if not all(c.isalnum() or c in "_." for c in k) or not k.isascii():
        raise ValueError(f"{what}: tag name {k!r} may only contain letters, digits, '_' and '.'")


def _is_contextlib(frame: FrameType) -> bool:
    return frame.f_globals.get("__name__") == "contextlib"


def owner_frame(frame: Optional[FrameType]) -> Optional[FrameType]:
    """The frame whose stack position the tags belong to.

    `with tag_wrapper(...)` written inside a @contextmanager generator (or entered through an
    ExitStack) runs in a frame that is suspended while the user's block runs; the tags belong to
    the frame that entered the outer context manager, so contextlib frames and the generator
    frames they drive are skipped.
    """
    f = frame
    while f is not None:
        back = f.f_back
        if _is_contextlib(f):
            f = back
        elif f.f_code.co_flags & (_CO_GENERATOR | _CO_ASYNC_GENERATOR) and back is not None and _is_contextlib(back):
            f = back
        else:
            return f
    return frame


def merge(base: TagItems, extra: Mapping[str, str]) -> TagItems:
    d = dict(base)
    d.update(extra)
    return tuple(d.items())


class tag_wrapper:
    """Context manager: samples taken below the `with` block carry `tags` (nestable; restores outer)."""

    __slots__ = ("_tags", "_frame", "_previous")

    def __init__(self, tags: Mapping[str, Any]) -> None:
        self._tags = validate_tags(tags, "tag_wrapper")
        self._frame: Optional[FrameType] = None
        self._previous: Optional[TagItems] = None

    def __enter__(self) -> "tag_wrapper":
        if self._frame is not None:
            raise RuntimeError("tag_wrapper is already entered; create a new one per with block")
        frame = owner_frame(sys._getframe(1))
        assert frame is not None
        self._frame = frame
        self._previous = frame_tags.get(frame)
        frame_tags[frame] = merge(self._previous or (), self._tags)
        version[0] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        frame = self._frame
        self._frame = None
        if frame is None:
            return
        if self._previous is None:
            frame_tags.pop(frame, None)
        else:
            frame_tags[frame] = self._previous
        version[0] += 1
        self._previous = None

    # async with support: same semantics, the coroutine's frame owns the tags.
    async def __aenter__(self) -> "tag_wrapper":
        if self._frame is not None:
            raise RuntimeError("tag_wrapper is already entered; create a new one per with block")
        frame = owner_frame(sys._getframe(1))
        assert frame is not None
        self._frame = frame
        self._previous = frame_tags.get(frame)
        frame_tags[frame] = merge(self._previous or (), self._tags)
        version[0] += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


def add_thread_tag(key: str, value: Any) -> None:
    """Tags every later sample of the calling OS thread with key=value (pyroscope-io semantics)."""
    validate_tag_key(key, "add_thread_tag")
    ident = threading.get_ident()
    with _thread_lock:
        thread_tags[ident] = merge(thread_tags.get(ident, ()), {key: str(value)})


def remove_thread_tag(key: str, value: Any) -> None:
    """Removes key from the calling thread's tags (only if it still has this value)."""
    validate_tag_key(key, "remove_thread_tag")
    ident = threading.get_ident()
    with _thread_lock:
        current = dict(thread_tags.get(ident, ()))
        if current.get(key) == str(value):
            del current[key]
        if current:
            thread_tags[ident] = tuple(current.items())
        else:
            thread_tags.pop(ident, None)


def reset_after_fork() -> None:
    """In a forked child only the forking thread survives; other threads' tags are stale."""
    global _thread_lock
    _thread_lock = threading.Lock()
    me = threading.get_ident()
    mine = thread_tags.get(me)
    thread_tags.clear()
    if mine:
        thread_tags[me] = mine
