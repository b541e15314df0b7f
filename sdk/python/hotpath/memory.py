"""Memory profiles from tracemalloc, duty-cycled so the cost is bounded.

Sampling rule: in every upload window of T seconds, tracemalloc traces allocations during the
first `duty_cycle × T` seconds only (default 2 %: 0.2 s of every 10 s), then a snapshot is taken
and tracing stops (which frees tracemalloc's tables). The application pays tracemalloc's
per-allocation cost during the traced slice and nothing outside it. The slice is a share of wall
time, so however slow tracemalloc makes the code inside it, the application loses at most
`duty_cycle / (1 - duty_cycle)` of its progress (2.04 % by default) plus the snapshot's cost; in
exchange a slice traces only `duty_cycle / tracemalloc's slowdown` of the window's work.

From each snapshot (the allocations made during the slice that are still alive at its end,
grouped by allocating stack):
- inuse_space / inuse_objects: those bytes / blocks, as is;
- alloc_space / alloc_objects: the same scaled by 1 / duty_cycle, an estimate of what the whole
  window allocated and kept for at least the rest of the slice. Temporaries allocated and freed
  inside the slice are not seen (tracemalloc does not count freed blocks).
If the application already runs tracemalloc itself, hotpath never starts or stops it and reads
a snapshot at the end of each slice.

Dynamic tags (`tag_wrapper`, `add_thread_tag`): tracemalloc records only file and line per frame,
not the thread or the frame object, so it cannot tell two requests apart. During a slice, every
garbage collection the interpreter starts (it starts one after ~700 net container allocations,
in the thread that made them; on 3.12+ at the next bytecode boundary, on 3.12 possibly another
thread's) records that thread's stack, one node per function from the root,
with the tags in force at each node (`AllocationTags`). Each allocating stack of the snapshot then
takes the tags seen at the deepest node its own stack reaches, split in proportion to how often
each tag set was seen there. What this misses: a stack whose functions no collection passed
through shares the tags of the collections that passed through its callers (so a thread that
allocates only strings or bytes, never containers, takes the tags of its siblings on the shared
part of their stacks); with `gc.disable()`, or an allocating stack deeper than `max_nframe`
(tracemalloc cuts it at the root end), memory samples carry no dynamic tags.

Interpreters that cannot stop tracemalloc safely: before CPython 3.12.9 and 3.13.2 (so every 3.9,
3.10 and 3.11), `tracemalloc.stop()` crashes the process (SIGSEGV) when another thread is inside a
raw allocation made without the GIL (`os.getcwd()` is one) at that moment: CPython gh-128679.
Tracing all the time is no way out (20-170x on allocation-bound code), so on those interpreters
hotpath starts tracemalloc once and pauses it between slices instead of stopping it
(`TracemallocPause`): the object and mem allocator domains, which are only ever used with the GIL
held, are switched back to the interpreter's own allocators, and tracemalloc's `tracing` flag is
lowered (3.9-3.11, layout checked at run time) so new objects skip its lookup. The raw-domain hook
stays installed, so a thread waiting in it always finds tracemalloc's state alive; its few traces
are cleared when the next slice starts. Where that cannot be set up (no ctypes), memory profiling
is turned off with a warning rather than risk the crash.
"""

from __future__ import annotations

import atexit
import ctypes
import dis
import gc
import os
import sys
import threading
import tracemalloc
from typing import Any, Dict, List, Optional, Tuple

from . import tags as _tags
from .spans import SPAN_KEYS
from .pprof import FrameKey, LabelsKey, ProfileBuilder

_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def stop_is_safe(version: Tuple[int, ...] = tuple(sys.version_info[:3])) -> bool:
    """Whether tracemalloc.stop() may run while other threads allocate (fixed in 3.12.9 and 3.13.2)."""
    return version >= (3, 13, 2) or (3, 12, 9) <= version < (3, 13)


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


# A trie node: children (a file's node: by the line a caller called from; a line's node, and the
# root: by file name), and how often each tag set was seen through it.
_Node = Tuple[Dict[Any, Any], Dict[LabelsKey, int]]


class AllocationTags:
    """The tags of the code that allocated during a slice, sampled at its garbage collections.

    Each collection's "start" callback runs in the thread whose allocations triggered it and walks
    that thread's stack from the root: per frame one trie node for its file and, below it, one
    for the line a caller called from (the leaf has none: the collection fires at some
    allocation of the leaf, not necessarily at the one traced), counting at each node the tags
    in force there (the thread's tags, then every tag_wrapper block of the frames from the root
    down to it). File and line are all a tracemalloc frame has; they match whether or not the
    source can be read (frozen modules, `-c`).
    """

    MAX_SAMPLES = 20_000  # per slice: bounds the trie on collection-heavy code

    def __init__(
        self,
        frame_tags: Optional[Dict[Any, _tags.TagItems]] = None,
        thread_tags: Optional[Dict[int, _tags.TagItems]] = None,
    ) -> None:
        self._frame_tags = _tags.frame_tags if frame_tags is None else frame_tags
        self._thread_tags = _tags.thread_tags if thread_tags is None else thread_tags
        self.root: _Node = ({}, {})
        self.samples = 0
        self._installed = False

    def install(self) -> None:
        """Starts sampling with an empty trie."""
        self.root, self.samples = ({}, {}), 0
        if not self._installed:
            gc.callbacks.append(self._on_gc)
            self._installed = True

    def remove(self) -> _Node:
        """Stops sampling; returns the slice's trie."""
        if self._installed:
            try:
                gc.callbacks.remove(self._on_gc)
            except ValueError:
                pass
            self._installed = False
        root, self.root = self.root, ({}, {})
        return root

    def _on_gc(self, phase: str, info: Any) -> None:
        if phase != "start" or self.samples >= self.MAX_SAMPLES:
            return
        try:
            self.record(sys._getframe(1), threading.get_ident())
        except Exception:  # noqa: BLE001 - never raise into the collector
            pass

    def record(self, frame: Any, ident: int) -> None:
        root = self.root  # remove() may swap it while this runs
        chain = []
        f = frame
        while f is not None:
            chain.append(f)
            f = f.f_back
        chain.reverse()
        for f in chain:
            filename = f.f_code.co_filename
            if filename != threading.__file__:
                if filename.startswith(_OWN_DIR):
                    return  # a thread of hotpath's own (sampler, uploader): not the application's
                break
        frame_tags = self._frame_tags
        tags = self._thread_tags.get(ident, ())
        merged: Dict[str, str] = dict(tags)
        labels: LabelsKey = tuple(sorted(merged.items()))
        node = root
        last = len(chain) - 1
        for i, f in enumerate(chain):
            filename = f.f_code.co_filename
            if filename.startswith(_OWN_DIR) or filename == tracemalloc.__file__:
                continue
            found = frame_tags.get(f) if frame_tags else None
            if found:
                merged.update(found)
                # No span labels: in-use memory outlives the request, and a label per request would
                # split every allocating stack into one sample per request.
                labels = tuple(sorted(kv for kv in merged.items() if kv[0] not in SPAN_KEYS))
            # The file, then (for a caller) the line it called from: a stack that shares a caller's
            # file but not its line still finds the tags of the caller's blocks.
            keys: Tuple[Any, ...] = (filename,) if i == last else (filename, f.f_lineno)
            for key in keys:
                child = node[0].get(key)
                if child is None:
                    child = node[0][key] = ({}, {})
                counts = child[1]
                counts[labels] = counts.get(labels, 0) + 1
                node = child
        self.samples += 1

    @staticmethod
    def split(root: _Node, path: List[Any]) -> List[Tuple[LabelsKey, float]]:
        """Tag sets and their shares for an allocating stack (keys as record() makes them, root
        first), from the deepest node of the trie it reaches; [((), 1.0)] when it reaches none."""
        node, best = root, None
        for key in path:
            node = node[0].get(key)
            if node is None:
                break
            best = node
        if best is None:
            return [((), 1.0)]
        counts = list(best[1].items())
        total = sum(c for _, c in counts)
        return [(labels, c / total) for labels, c in counts]


class _Allocator(ctypes.Structure):
    # PyMemAllocatorEx
    _fields_ = [(name, ctypes.c_void_p) for name in ("ctx", "malloc", "calloc", "realloc", "free")]


_DOMAINS = (1, 2)  # PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ: used only with the GIL held
_exiting = [False]
_pauses: List["TracemallocPause"] = []
_original_start = tracemalloc.start


def _guarded_start(*args: Any, **kwargs: Any) -> None:
    """tracemalloc.start() while hotpath has it paused would wrap tracemalloc's own raw hook (the
    flag says "not tracing") and loop forever: hand tracing back to the caller first."""
    for pause in _pauses:
        pause.release()
    _original_start(*args, **kwargs)


tracemalloc.start = _guarded_start


class TracemallocPause:
    """Pauses and resumes a running tracemalloc without ever calling tracemalloc.stop().

    Every call happens with the GIL held (ctypes.pythonapi keeps it), which is what the mem and obj
    domains require of any caller, so switching them is not racy; the raw domain is left alone.
    """

    def __init__(self) -> None:
        api = ctypes.pythonapi
        self._get = api.PyMem_GetAllocator
        self._get.argtypes = [ctypes.c_int, ctypes.POINTER(_Allocator)]
        self._get.restype = None
        self._set = api.PyMem_SetAllocator
        self._set.argtypes = [ctypes.c_int, ctypes.POINTER(_Allocator)]
        self._set.restype = None
        try:
            # struct _PyTraceMalloc_Config {initialized, tracing, max_nframe} (3.9-3.11); checked in start().
            self._config: Optional[Any] = (ctypes.c_int * 3).in_dll(api, "_Py_tracemalloc_config")
        except (ValueError, AttributeError):
            self._config = None  # 3.12 keeps it inside _PyRuntime: only the allocators are switched
        self._originals: Dict[int, _Allocator] = {}
        self._hooks: Dict[int, _Allocator] = {}
        self.started = False
        self.paused = False
        self.released = False  # the application started tracemalloc itself: it is not ours any more
        _pauses.append(self)
        atexit.register(self._before_exit)

    @classmethod
    def load(cls) -> Optional["TracemallocPause"]:
        """The process's one instance: a session left paused by an earlier agent is taken over."""
        if _pauses:
            return _pauses[0]
        try:
            return cls()
        except (AttributeError, OSError, TypeError):
            return None

    @property
    def held(self) -> bool:
        """A session hotpath started and still owns (tracing or paused)."""
        return self.started and not self.released

    def stop_now(self) -> None:
        """tracemalloc.stop() for real: only where no other thread can be allocating."""
        if self.started:
            if not self.released:
                self.resume()  # the flag up, or stop() would do nothing
            if tracemalloc.is_tracing():
                tracemalloc.stop()
        self.started = False
        self.paused = False

    def _read(self, domain: int) -> _Allocator:
        a = _Allocator()
        self._get(domain, ctypes.byref(a))
        return a

    @staticmethod
    def _same(a: _Allocator, b: _Allocator) -> bool:
        return (a.ctx, a.malloc, a.calloc, a.realloc, a.free) == (b.ctx, b.malloc, b.calloc, b.realloc, b.free)

    def start(self, max_nframe: int) -> None:
        """tracemalloc.start(), remembering the allocators it wraps and the ones it installs."""
        self._originals = {d: self._read(d) for d in _DOMAINS}
        _original_start(max_nframe)
        self.started, self.paused, self.released = True, False, False
        self._hooks = {d: self._read(d) for d in _DOMAINS}
        c = self._config
        if c is not None and not (c[0] == 1 and c[1] == 1 and c[2] == max_nframe):
            self._config = None  # not the layout we know: leave the flag alone

    def _switch(self, frm: Dict[int, _Allocator], to: Dict[int, _Allocator]) -> bool:
        if not all(self._same(self._read(d), frm[d]) for d in _DOMAINS):
            return False  # someone else installed allocator hooks since: do not clobber them
        for d in _DOMAINS:
            self._set(d, ctypes.byref(to[d]))
        return True

    def pause(self) -> bool:
        if self.paused or _exiting[0]:
            return self.paused
        if not self._switch(self._hooks, self._originals):
            return False
        if self._config is not None:
            self._config[1] = 0  # tracing: new objects stop looking themselves up in the traces
        self.paused = True
        return True

    def _unpause(self, clear: bool) -> bool:
        if not self.paused:
            return True
        if self._config is not None:
            self._config[1] = 1
        if clear:
            tracemalloc.clear_traces()  # raw-domain and stale traces from the pause
        if not self._switch(self._originals, self._hooks):
            return False
        self.paused = False
        return True

    def resume(self) -> bool:
        """Tracing back on for a new slice, with the pause's leftover traces cleared."""
        return self._unpause(clear=True)

    def release(self) -> None:
        """Tracing fully back on (flag up, hooks in), traces kept, and no longer hotpath's to pause."""
        self._unpause(clear=False)
        self.released = True

    def _before_exit(self) -> None:
        # Finalisation runs tracemalloc's own stop, which does nothing while the flag is down.
        _exiting[0] = True
        if self.paused and self._config is not None:
            self._config[1] = 1


class MemoryProfiler:
    """Starts/ends the traced slices and turns snapshots into a 4-type memory pprof."""

    SAMPLE_TYPES = (("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes"))

    def __init__(self, max_nframe: int = 128, duty_cycle: float = 0.02, *, stop_safe: Optional[bool] = None) -> None:
        self.max_nframe = max_nframe
        self.duty_cycle = duty_cycle
        self.stop_safe = stop_is_safe() if stop_safe is None else stop_safe
        # Where stop() is unsafe, slices end with a pause; without one, no memory profiles at all.
        self._pause = None if self.stop_safe else TracemallocPause.load()
        self.available = self.stop_safe or self._pause is not None
        self.functions = FunctionIndex()
        self.tags = AllocationTags()
        self._slice_tags: _Node = ({}, {})  # the trie of the last ended slice, for build()
        self._owned = False
        self.tracing = False

    def _forget_if_taken_over(self) -> None:
        # The application started tracemalloc itself while hotpath had it paused: not ours any more.
        if self._owned and self._pause is not None and self._pause.released:
            self._owned = False

    def start_slice(self) -> None:
        if not self.available:
            return
        if self._pause is not None and self._pause.held:
            # Ours (this profiler's, or left paused by an earlier agent whose threads were running).
            self._owned = True
            self.tracing = self._pause.resume()
            if self.tracing:
                self.tags.install()
            return
        self._forget_if_taken_over()  # then read the application's session, leave it running
        if not tracemalloc.is_tracing():
            if self._pause is not None:
                self._pause.start(self.max_nframe)
            else:
                tracemalloc.start(self.max_nframe)
            self._owned = True
        self.tracing = True
        self.tags.install()

    def end_slice(self) -> Optional[Any]:
        """Takes the slice's snapshot (None if not tracing) and ends tracing if hotpath started it:
        tracemalloc.stop() where that is safe, else a pause."""
        if not self.tracing:
            return None
        self.tracing = False
        snapshot = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        self._slice_tags = self.tags.remove()
        self._forget_if_taken_over()
        if self._owned:
            if self._pause is None:
                tracemalloc.stop()
                self._owned = False
            else:
                tracemalloc.clear_traces()  # free the tables now; the pause keeps the hooks' state alive
                if not self._pause.pause():
                    self.available = False  # allocator hooks changed under us: leave them alone
        return snapshot

    def stop(self) -> None:
        """Ends memory profiling. Where stop() is unsafe, tracemalloc is stopped only when no other
        thread is left that could be allocating; otherwise it stays paused until the process exits."""
        self.tags.remove()
        self._forget_if_taken_over()
        if self._owned:
            if self._pause is None:
                if tracemalloc.is_tracing():
                    tracemalloc.stop()
            elif threading.active_count() <= 1:
                self._pause.stop_now()
            else:
                if tracemalloc.is_tracing():
                    tracemalloc.clear_traces()
                self._pause.pause()
                self.tracing = False
                return  # still owned: a later stop() (threads gone) may end it
        self.tracing = False
        self._owned = False

    def reset_after_fork(self) -> None:
        """In a forked child (one thread, so stop() is safe on any version): end what was inherited."""
        self.tags.remove()
        self._slice_tags = ({}, {})
        if self._owned:
            if self._pause is not None:
                self._pause.stop_now()
            elif tracemalloc.is_tracing():
                tracemalloc.stop()
        self._owned = False
        self.tracing = False

    def build(self, snapshot: Any, namer: Any, time_nanos: int, duration_nanos: int) -> ProfileBuilder:
        builder = ProfileBuilder(
            sample_types=self.SAMPLE_TYPES,
            period_type=("space", "bytes"),
            period=1,
            time_nanos=time_nanos,
            duration_nanos=duration_nanos,
        )
        scale = 1.0 / self.duty_cycle
        tags, self._slice_tags = self._slice_tags, ({}, {})
        split = AllocationTags.split
        for stat in snapshot.statistics("traceback"):
            traceback = list(stat.traceback)  # oldest frame first; pprof wants the leaf first
            if not traceback or traceback[-1].filename.startswith(_OWN_DIR):
                # What hotpath allocated itself (AllocationTags' trie, tag_wrapper's tuples) is not
                # the application's, though it happens below application frames.
                continue
            frames: List[FrameKey] = []
            path: List[Any] = []
            for fr in traceback:
                if fr.filename.startswith(_OWN_DIR) or fr.filename == tracemalloc.__file__:
                    continue
                name, start = self.functions.function(fr.filename, fr.lineno)
                frames.append(namer.frame(name, fr.filename, start, fr.lineno))
                path.append(fr.filename)
                path.append(fr.lineno)
            if not frames:
                continue
            path.pop()  # the allocating line: AllocationTags keys the leaf by its function only
            frames.reverse()
            stack = tuple(frames)
            count, size = stat.count, stat.size
            for labels, share in split(tags, path):
                values = (round(count * scale * share), round(size * scale * share), round(count * share), round(size * share))
                if any(values):
                    builder.add(stack, values, labels)
        return builder
