"""Dynamic tags: frame-scoped (`tag_wrapper`) and thread-scoped (`add_thread_tag`).

`tag_wrapper` keys its tags by the frame that executes the `with` statement, not by the OS
thread. The sampler finds them while walking a sampled stack, so two asyncio tasks interleaving
on one event-loop thread each carry their own tags (the coroutine's frame is on the stack only
while that task runs), and a tag never leaks to code that is not below the `with` block.
asyncio tasks created inside a block inherit its tags while it is open (see inherit_tags).
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

TagItems = Tuple[Tuple[str, str], ...]

# frame -> merged tags of every tag_wrapper block open in that frame or inherited by it (the
# frame of an asyncio task's coroutine), inner wins; derived from `scopes` by _refresh.
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


class _Scope:
    """What a frame's entry in frame_tags is made of: the blocks open in that frame (in entry
    order, later wins) over the blocks its task inherited from the code that created it."""

    __slots__ = ("inherited", "blocks")

    def __init__(self) -> None:
        self.inherited: List["tag_wrapper"] = []  # blocks of the creating code, root-first
        self.blocks: List["tag_wrapper"] = []


# frame -> its scope, for every frame that has open blocks or inherited ones. Touched only by
# the thread running that frame (and its event loop's callbacks), never by the sampler.
scopes: Dict[FrameType, _Scope] = {}


def _refresh(frame: FrameType) -> None:
    scope = scopes.get(frame)
    d: Dict[str, str] = {}
    if scope is not None:
        for block in scope.inherited:
            d.update(block._tags)
        for block in scope.blocks:
            d.update(block._tags)
        if not scope.inherited and not scope.blocks:
            del scopes[frame]
    if d:
        frame_tags[frame] = tuple(d.items())
    else:
        frame_tags.pop(frame, None)
    version[0] += 1


class tag_wrapper:
    """Context manager: samples taken below the `with` block carry `tags` (nestable; restores outer).

    asyncio tasks created inside the block (create_task, gather, ensure_future, TaskGroup) carry
    the tags too, while the block is open: see inherit_tags.
    """

    __slots__ = ("_tags", "_items", "_frame", "_heirs")

    def __init__(self, tags: Mapping[str, Any]) -> None:
        self._tags = validate_tags(tags, "tag_wrapper")
        self._items: TagItems = tuple(self._tags.items())
        self._frame: Optional[FrameType] = None
        # frames of the asyncio tasks that inherited this block (created below it, or by its heirs)
        self._heirs: Optional[Set[FrameType]] = None

    def enter_at(self, frame: FrameType) -> "tag_wrapper":
        """Opens the block for `frame` rather than the caller's frame (for hooks that run below
        the frame that stays on the stack for the whole unit of work). Close it with __exit__()."""
        if self._frame is not None:
            raise RuntimeError("tag_wrapper is already entered; create a new one per with block")
        self._frame = frame
        scope = scopes.get(frame)
        if scope is None:  # the usual case: the first block in this frame, nothing inherited
            scope = scopes[frame] = _Scope()
            scope.blocks.append(self)
            frame_tags[frame] = self._items
            version[0] += 1
        else:
            scope.blocks.append(self)
            _refresh(frame)
        _hook_running_loop()
        return self

    def __enter__(self) -> "tag_wrapper":
        frame = owner_frame(sys._getframe(1))
        assert frame is not None
        return self.enter_at(frame)

    def __exit__(self, *exc: object) -> None:
        frame = self._frame
        self._frame = None
        if frame is None:
            return
        scope = scopes.get(frame)
        if scope is not None and not scope.inherited and len(scope.blocks) == 1 and scope.blocks[0] is self:
            del scopes[frame]
            frame_tags.pop(frame, None)
            version[0] += 1
        else:
            if scope is not None and self in scope.blocks:
                scope.blocks.remove(self)
            _refresh(frame)
        heirs, self._heirs = self._heirs, None
        for heir in heirs or ():
            scope = scopes.get(heir)
            if scope is not None and self in scope.inherited:
                scope.inherited.remove(self)
                _refresh(heir)

    # async with support: same semantics, the coroutine's frame owns the tags.
    async def __aenter__(self) -> "tag_wrapper":
        frame = owner_frame(sys._getframe(1))
        assert frame is not None
        return self.enter_at(frame)

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


# -- asyncio: tasks inherit the tags of the code that created them --------------------------------
#
# A task's coroutine runs from the event loop, not below the `with` block that created it, so the
# sampler would not find the block's frame on its stack. Instead, when a task is created while
# blocks are open, its coroutine's frame (on the stack whenever the task runs) gets a scope whose
# `inherited` lists those blocks; the sampler then finds the tags on that frame like any other,
# and its hot path is unchanged. Each inherited block ends the tags where it ends, even in a task
# that lives on: a block means "the work done while this block is open", and a fire-and-forget
# task outliving a request must not be charged to that request forever. Tasks are seen through
# the loop's task factory, installed (wrapping any factory already set) by the first block
# entered while that loop runs: until a block is open there is nothing to inherit.


def inherit_tags(coro: Any, creator: Optional[FrameType]) -> Optional[FrameType]:
    """Gives the frame of `coro` (a new task's coroutine) the blocks open on the stack from
    `creator` (the frame that created the task) down, and those the creator inherited itself.
    Returns the frame that inherited, or None when there was nothing to inherit."""
    if not scopes:
        return None
    frame = getattr(coro, "cr_frame", None)
    if frame is None:  # not a native coroutine, or already finished (an eager task)
        return None
    found: List[_Scope] = []
    f = creator
    while f is not None:
        scope = scopes.get(f)
        if scope is not None:
            found.append(scope)
        f = f.f_back
    sources: List[tag_wrapper] = []
    for scope in reversed(found):  # root-first, so inner blocks win
        sources.extend(scope.inherited)
        sources.extend(scope.blocks)
    if not sources:
        return None
    scope = scopes.get(frame)
    if scope is None:
        scope = scopes[frame] = _Scope()
    scope.inherited = sources
    for block in sources:
        if block._heirs is None:
            block._heirs = set()
        block._heirs.add(frame)
    _refresh(frame)
    return frame


def _release(frame: FrameType) -> None:
    """A task ended: its frame leaves the blocks it inherited (which would otherwise keep it)."""
    scope = scopes.get(frame)
    if scope is None:
        return
    for block in scope.inherited:
        if block._heirs is not None:
            block._heirs.discard(frame)
    scope.inherited = []
    _refresh(frame)


def _task_factory(previous: Optional[Callable[..., Any]]) -> Callable[..., Any]:
    def factory(loop: Any, coro: Any, **kwargs: Any) -> Any:
        if previous is not None:
            task = previous(loop, coro, **kwargs)
        else:
            task = sys.modules["asyncio"].Task(coro, loop=loop, **kwargs)
        if scopes:
            frame = inherit_tags(coro, sys._getframe(1))
            if frame is not None:
                task.add_done_callback(lambda _task: _release(frame))
        return task

    factory.hotpath_inherits_tags = True  # type: ignore[attr-defined]
    return factory


def _hook_running_loop() -> None:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return
    loop = asyncio.events._get_running_loop()
    if loop is None:
        return
    try:
        current = loop.get_task_factory()
        if not getattr(current, "hotpath_inherits_tags", False):
            loop.set_task_factory(_task_factory(current))
    except Exception:  # noqa: BLE001 - a loop without task factories: tasks just do not inherit
        pass


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
