"""The CPU/wall sampler: one tick reads every thread's stack and charges it the time it used.

Each tick (sample_rate Hz) takes `sys._current_frames()` and, per thread, reads the thread's CPU
clock. The CPU nanoseconds a thread used since the previous tick are charged to the stack it is
in now, so a thread that slept or waited for the GIL costs one clock read and shows nothing, and a
tick delayed by the GIL still charges exactly the CPU that was used. With oncpu=False every thread
is charged the wall time since the previous tick instead.

A thread that starts and ends between two ticks is never seen, and threads that run no Python
(native libraries' own threads) are not in `sys._current_frames()`. So that the profile's total
stays the process's CPU time, each tick also reads the process CPU clock: what the process used
beyond the sum of the threads read (the sampler's own threads included, and not charged) goes to
one frame, UNSEEN_THREADS. The difference is carried from tick to tick rather than clamped, since
reading the clocks one after the other skews single ticks both ways and only the sum is exact;
it is charged once it passes UNSEEN_MIN_NS.

The process clock also says when reading the threads can wait. While the CPU no clock has read
yet (threads not shown, threads skipped, read skew) stays below SKIP_UNREAD_MAX_NS, a tick reads
nothing more: an idle process costs one clock read a tick. Past it, threads whose leaf frame,
instruction and caller are unchanged since their clock was last read are still skipped, and read
too (in the same tick) if what the others used does not bring the unread CPU back below the bound.
So a thread is never left unread while it uses more than the bound (a loop sampled at the same
instruction again is read and charged where it is); what a late reading can carry into a thread's
next stack is at most the bound, 1 ms, against 10 ms a tick at 100 Hz. (Skipping idle-looking
threads without this check biased tag splits: their CPU read late went to whatever stack came next.)

Everything the sampler needs from the outside (monotonic clock, frame source, per-thread CPU
clock) is injectable, so tests drive `tick()` with a fake clock and fake frames.
"""

from __future__ import annotations

import bisect
import dis
import os
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from . import tags as _tags
from .config import LineNo
from .pprof import FrameKey, LabelsKey, StackKey

# Raw stack: leaf-first code objects, each followed by its frame's f_lasti in LastInstruction mode
# (code0, lasti0, code1, lasti1...): an attribute read, where f_lineno searches the line table on
# every walk. FrameNamer turns (code, lasti) into the line once per window.
RawStack = Tuple[Any, ...]
SampleKey = Tuple[RawStack, LabelsKey]

_PERTHREAD_SCHED_CLOCK = 6  # Linux: CPUCLOCK_PERTHREAD_MASK (4) | CPUCLOCK_SCHED (2)

# The frame charged with CPU of threads no tick saw (see the module docstring).
UNSEEN_THREADS = "<threads not sampled: short-lived or running no Python>"
_UNSEEN_CODE = compile("pass", "<hotpath>", "exec").replace(co_name=UNSEEN_THREADS)
_UNSEEN_FRAME: FrameKey = (UNSEEN_THREADS, "<hotpath>", 0, 0)
# Skew between the clock reads of one tick stays far below this, so no false charge appears.
UNSEEN_MIN_NS = 5_000_000
# A thread still in the frame its clock was last read in is skipped while the process clock shows
# less than this much CPU unread (threads skipped, threads not shown, and clock-read skew together).
SKIP_UNREAD_MAX_NS = 1_000_000


def thread_cpu_clockid(native_id: int) -> int:
    """The Linux clockid of a thread's CPU clock, from its kernel tid (as in glibc/kernel headers).

    Unlike pthread_getcpuclockid() this never touches a possibly-exited thread's pthread struct:
    a dead tid just makes clock_gettime fail with EINVAL.
    """
    return ((~native_id) << 3) | _PERTHREAD_SCHED_CLOCK


class ThreadCpuClocks:
    """Reads the CPU time (ns) of a thread by its threading ident; raises OSError if it is gone.

    Idents are reused as soon as a thread ends: the Sampler, which notices a new Thread behind an
    ident, forgets the ident's cached clock then.
    """

    def __init__(self) -> None:
        self._clockids: Dict[int, int] = {}
        me = threading.get_native_id()
        self._formula_ok = sys.platform.startswith("linux") and self._probe(me)
        if self._formula_ok:
            # After fork, threading keeps the parent's native_id on the surviving Thread object
            # (CPython 3.11), which would read the parent's clock: seed the calling thread.
            self._clockids[threading.get_ident()] = thread_cpu_clockid(me)

    @staticmethod
    def _probe(native_id: int) -> bool:
        try:
            expected = time.pthread_getcpuclockid(threading.get_ident())
            return thread_cpu_clockid(native_id) == expected
        except (AttributeError, OSError):
            return False

    def _clockid(self, ident: int) -> int:
        clockid = self._clockids.get(ident)
        if clockid is None:
            thread = threading._active.get(ident)  # type: ignore[attr-defined]
            native_id = getattr(thread, "native_id", None)
            if self._formula_ok and native_id is not None:
                clockid = thread_cpu_clockid(native_id)
            else:
                clockid = time.pthread_getcpuclockid(ident)
            self._clockids[ident] = clockid
        return clockid

    def __call__(self, ident: int) -> int:
        try:
            return time.clock_gettime_ns(self._clockid(ident))
        except OSError:
            self._clockids.pop(ident, None)
            raise

    def forget(self, idents: Iterable[int]) -> None:
        for ident in idents:
            self._clockids.pop(ident, None)


def _thread_names() -> Dict[int, str]:
    return {ident: t.name for ident, t in list(threading._active.items())}  # type: ignore[attr-defined]


class Sampler:
    """Aggregates (stack, labels) -> nanoseconds. Call tick() at sample_rate Hz, take() to drain."""

    def __init__(
        self,
        *,
        oncpu: bool = True,
        line_no: LineNo = LineNo.LastInstruction,
        report_pid: bool = False,
        report_thread_id: bool = False,
        report_thread_name: bool = False,
        clock: Callable[[], int] = time.monotonic_ns,
        frames: Callable[[], Mapping[int, Any]] = sys._current_frames,
        cpu_clock: Optional[Callable[[int], int]] = None,
        thread_names: Callable[[], Mapping[int, str]] = _thread_names,
        thread_of: Callable[[int], Any] = threading._active.get,  # type: ignore[attr-defined]
        exclude: Optional[Set[int]] = None,
        frame_tags: Optional[Mapping[Any, _tags.TagItems]] = None,
        thread_tags: Optional[Mapping[int, _tags.TagItems]] = None,
        process_cpu: Optional[Callable[[], int]] = None,
    ) -> None:
        self.oncpu = oncpu
        self.line_no = LineNo(line_no)
        self.report_pid = report_pid
        self.report_thread_id = report_thread_id
        self.report_thread_name = report_thread_name
        self._clock = clock
        self._frames = frames
        self._cpu = cpu_clock if cpu_clock is not None else ThreadCpuClocks()
        # With the real thread clocks the real process clock; with injected ones, only if given.
        self._process_cpu = process_cpu if process_cpu is not None or cpu_clock is not None else time.process_time_ns
        self._last_process_cpu = 0
        self._unseen_ns = 0  # process CPU not yet matched by thread clocks (may be negative)
        self._unseen_raw: RawStack = (_UNSEEN_CODE, 0) if self.line_no == LineNo.LastInstruction else (_UNSEEN_CODE,)
        self._thread_names = thread_names
        self._thread_of = thread_of
        self.exclude: Set[int] = exclude if exclude is not None else set()
        self._frame_tags = _tags.frame_tags if frame_tags is None else frame_tags
        self._thread_tags = _tags.thread_tags if thread_tags is None else thread_tags
        self._lock = threading.Lock()
        self._values: Dict[SampleKey, int] = {}
        self._last_tick: Optional[int] = None
        self._last_cpu: Dict[int, int] = {}
        # ident -> the Thread object whose clock _last_cpu holds: a reused ident is a new thread
        self._owner: Dict[int, Any] = {}
        # ident -> [leaf frame, f_lasti, f_back, tags version, thread tags, sample key or None]
        # as of the previous tick: the key is reused while none of these changed
        self._state: Dict[int, List[Any]] = {}
        self._labels_memo: Dict[Any, LabelsKey] = {}
        self._names: Mapping[int, str] = {}
        self.pid = os.getpid()
        self.ticks = 0
        self.errors = 0  # ticks that failed (counted, never raised)

    # -- sampling -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Takes one sample of every thread. Never raises (failures are counted in .errors)."""
        try:
            self._tick()
        except Exception:  # noqa: BLE001 - the sampler must never raise into the application
            self.errors += 1

    def _tick(self) -> None:
        with self._lock:
            self._tick_locked()

    def _tick_locked(self) -> None:
        now = self._clock()
        last_tick = self._last_tick
        self._last_tick = now
        self.ticks += 1
        exclude = self.exclude
        process_cpu = self._process_cpu if self.oncpu else None
        process_used = process_cpu() if process_cpu is not None else 0
        # With the process clock, only CPU that no clock has read yet needs the threads' clocks.
        # While it stays below the bound the tick reads nothing else (an idle process costs one
        # clock read a tick); above it, the profiler's own threads are read first.
        may_skip = process_cpu is not None and last_tick is not None
        seen_ns = 0
        if may_skip:
            pending = self._unseen_ns + process_used - self._last_process_cpu
            if pending >= SKIP_UNREAD_MAX_NS:
                seen_ns = self._read_excluded()
                pending -= seen_ns
            if pending < SKIP_UNREAD_MAX_NS:
                self._unseen_ns = pending
                self._last_process_cpu = process_used
                return
        frames = self._frames()
        if last_tick is None:
            # First tick: baseline every thread's CPU clock; nothing to charge yet.
            if self.oncpu:
                self._last_process_cpu = process_used
                for ident in frames:
                    if ident not in exclude or process_cpu is not None:
                        try:
                            self._last_cpu[ident] = self._cpu(ident)
                            self._owner[ident] = self._thread_of(ident)
                        except OSError:
                            pass
            return
        if self.report_thread_name:
            self._names = self._thread_names()
        values = self._values
        state = self._state
        version = _tags.version[0]
        thread_tags = self._thread_tags
        oncpu = self.oncpu
        wall = now - last_tick
        cpu = self._cpu
        last_cpu = self._last_cpu
        owner = self._owner
        thread_of = self._thread_of
        forget = cpu.forget if isinstance(cpu, ThreadCpuClocks) else None
        # The real clocks are read inline (clockid cache, then clock_gettime_ns): two calls fewer a thread.
        clockids = cpu._clockids if isinstance(cpu, ThreadCpuClocks) else None
        gettime = time.clock_gettime_ns
        # Threads still in the frame they were in when their clock was last read (same leaf frame
        # object, instruction and caller) are read only if the process clock says CPU went unread.
        skipped: List[int] = []
        for ident, frame in frames.items():
            if ident in exclude:
                continue  # the profiler's own threads: read above (with the process clock) or not at all
            lasti = frame.f_lasti
            back = frame.f_back
            st = state.get(ident)
            if st is not None and st[0] is frame and st[1] == lasti and st[2] is back:
                # st holds the frame, so `is` cannot match a new thread's frame reusing the ident.
                if may_skip:
                    skipped.append(ident)
                    continue
            elif st is None or st[0] is not frame or st[2] is not back:
                st = state[ident] = [frame, lasti, back, -1, None, None]
            else:
                st[1] = lasti
                st[5] = None
            if oncpu:
                # A thread seen for the first time started after the previous tick (threads alive
                # then were baselined), so all of its CPU time is new. So did one that holds the
                # ident of a thread that ended since: its clock is not the cached one either.
                thread = thread_of(ident)
                new_thread = owner.get(ident) is not thread
                if new_thread and forget is not None:
                    forget((ident,))
                clockid = clockids.get(ident) if clockids is not None else None
                try:
                    used = gettime(clockid) if clockid is not None else cpu(ident)
                except OSError:
                    if clockid is not None:
                        clockids.pop(ident, None)
                    continue
                value = used if new_thread else used - last_cpu.get(ident, 0)
                owner[ident] = thread
                last_cpu[ident] = used
                seen_ns += value
            else:
                value = wall
            if value > 0:
                self._charge(ident, frame, st, value, version, thread_tags.get(ident))
        if process_cpu is not None:
            if skipped and self._unseen_ns + process_used - self._last_process_cpu - seen_ns >= SKIP_UNREAD_MAX_NS:
                # Some CPU went unread: read the skipped threads too, so that only the threads the
                # frame source never shows are left in it. Unread CPU stays below the bound, so a
                # skipped thread's late reading can carry at most that much into its next stack.
                for ident in skipped:
                    st = state[ident]
                    try:
                        used = cpu(ident)
                    except OSError:
                        continue
                    value = used - last_cpu.get(ident, 0)
                    last_cpu[ident] = used
                    seen_ns += value
                    if value > 0:
                        self._charge(ident, st[0], st, value, version, thread_tags.get(ident))
            self._unseen_ns += process_used - self._last_process_cpu - seen_ns
            self._last_process_cpu = process_used
            if self._unseen_ns >= UNSEEN_MIN_NS:
                key = (self._unseen_raw, (('pid', str(self.pid)),) if self.report_pid else ())
                values[key] = values.get(key, 0) + self._unseen_ns
                self._unseen_ns = 0
        if len(state) > len(frames) - len(exclude):
            for ident in [ident for ident in state if ident not in frames]:
                del state[ident]
        if oncpu and len(last_cpu) > len(frames):
            gone = [ident for ident in last_cpu if ident not in frames]
            for ident in gone:
                del last_cpu[ident]
                owner.pop(ident, None)
            if forget is not None:
                forget(gone)

    def _read_excluded(self) -> int:
        """Reads the profiler's own threads' clocks: not charged, but their CPU is not unseen."""
        cpu, last_cpu = self._cpu, self._last_cpu
        used_ns = 0
        for ident in list(self.exclude):
            try:
                used = cpu(ident)
            except OSError:
                continue
            last = last_cpu.get(ident)
            if last is not None:  # a thread excluded since the last tick is only baselined
                used_ns += used - last
            last_cpu[ident] = used
        return used_ns

    def _charge(self, ident: int, frame: Any, st: List[Any], value: int, version: int, ttags: Any) -> None:
        """Adds value to the thread's current stack; st caches its sample key while the stack and
        the tags (version, thread tags) stay the same."""
        key = st[5]
        if key is None or st[3] != version or st[4] is not ttags:
            key = self._walk(ident, frame)
            st[3], st[4], st[5] = version, ttags, key
        values = self._values
        values[key] = values.get(key, 0) + value

    def _walk(self, ident: int, frame: Any) -> SampleKey:
        raw: List[Any] = []
        append = raw.append
        found: List[_tags.TagItems] = []
        ftags = self._frame_tags
        f = frame
        mode = self.line_no
        if mode == LineNo.LastInstruction:
            if ftags:
                while f is not None:
                    append(f.f_code)
                    append(f.f_lasti)
                    t = ftags.get(f)
                    if t:
                        found.append(t)
                    f = f.f_back
            else:
                while f is not None:
                    append(f.f_code)
                    append(f.f_lasti)
                    f = f.f_back
        else:
            while f is not None:
                append(f.f_code)
                if ftags:
                    t = ftags.get(f)
                    if t:
                        found.append(t)
                f = f.f_back
        return tuple(raw), self._labels(ident, found)

    def _labels(self, ident: int, found: List[_tags.TagItems]) -> LabelsKey:
        ttags = self._thread_tags.get(ident, ())
        if not found and not ttags and not (self.report_pid or self.report_thread_id or self.report_thread_name):
            return ()
        memo_key = (ident, ttags, tuple(found)) if (self.report_thread_id or self.report_thread_name) else (ttags, tuple(found))
        labels = self._labels_memo.get(memo_key)
        if labels is None:
            d: Dict[str, str] = dict(ttags)
            for t in reversed(found):  # outermost first, so the innermost block wins
                d.update(t)
            if self.report_pid:
                d["pid"] = str(self.pid)
            if self.report_thread_id:
                d["thread_id"] = str(ident)
            if self.report_thread_name:
                d["thread_name"] = self._names.get(ident, "")
            labels = tuple(sorted(d.items()))
            if len(self._labels_memo) > 10000:
                self._labels_memo.clear()
            self._labels_memo[memo_key] = labels
        return labels

    # -- draining -------------------------------------------------------------------------------

    def take(self) -> Dict[SampleKey, int]:
        """Returns the values aggregated since the previous take() and starts a new window."""
        with self._lock:
            values, self._values = self._values, {}
        return values

    def reset_after_fork(self) -> None:
        """In a forked child: new lock, no inherited samples, re-baseline clocks on the next tick."""
        self._lock = threading.Lock()
        self._values = {}
        self._last_tick = None
        self._last_cpu = {}
        self._owner = {}
        self._last_process_cpu = 0
        self._unseen_ns = 0
        self._state = {}
        self._labels_memo = {}
        self.pid = os.getpid()
        if isinstance(self._cpu, ThreadCpuClocks):
            self._cpu = ThreadCpuClocks()


def _line_table(code: Any) -> Tuple[List[int], List[Optional[int]]]:
    """(instruction offsets where a line starts, their lines), from co_lines() (3.10+) or the line
    starts (3.9)."""
    starts: List[int] = []
    lines: List[Optional[int]] = []
    if hasattr(code, "co_lines"):
        for start, _end, line in code.co_lines():
            starts.append(start)
            lines.append(line)
    else:
        for start, line in dis.findlinestarts(code):
            starts.append(start)
            lines.append(line)
    return starts, lines


class FrameNamer:
    """Turns raw stacks into pprof frames `function (path:line)`, paths relative to sys.path."""

    def __init__(self, line_no: LineNo = LineNo.LastInstruction, path: Optional[List[str]] = None) -> None:
        self.line_no = LineNo(line_no)
        roots = [os.path.abspath(p or os.curdir) for p in (path if path is not None else sys.path)]
        # Longest root first, so site-packages wins over its parent lib directory.
        self._roots = sorted({r.rstrip(os.sep) + os.sep for r in roots}, key=len, reverse=True)
        self._files: Dict[str, str] = {}
        self._codes: Dict[Any, Tuple[str, str, int]] = {}
        self._line_tables: Dict[Any, Tuple[List[int], List[Optional[int]]]] = {}
        self._lines: Dict[Tuple[Any, int], int] = {}

    def relative(self, filename: str) -> str:
        rel = self._files.get(filename)
        if rel is None:
            rel = filename
            if os.path.isabs(filename):
                for root in self._roots:
                    if filename.startswith(root):
                        rel = filename[len(root):]
                        break
            self._files[filename] = rel
        return rel

    def _code(self, code: Any) -> Tuple[str, str, int]:
        info = self._codes.get(code)
        if info is None:
            name = getattr(code, "co_qualname", None) or code.co_name
            info = (name, self.relative(code.co_filename), code.co_firstlineno)
            self._codes[code] = info
        return info

    def line(self, code: Any, lasti: int) -> int:
        """The line of instruction offset `lasti` in `code` (what frame.f_lineno reads)."""
        line = self._lines.get((code, lasti))
        if line is None:
            table = self._line_tables.get(code)
            if table is None:
                table = self._line_tables[code] = _line_table(code)
            starts, lines = table
            i = bisect.bisect_right(starts, lasti) - 1
            line = (lines[i] if i >= 0 else None) or code.co_firstlineno
            if len(self._lines) > 100_000:
                self._lines.clear()
            self._lines[(code, lasti)] = line
        return line

    def frame(self, name: str, filename: str, start_line: int, line: int) -> FrameKey:
        rel = self.relative(filename)
        if self.line_no == LineNo.NoLine:
            return (f"{name} ({rel})", filename, start_line, 0)
        return (f"{name} ({rel}:{line})", filename, start_line, line)

    def stack(self, raw: RawStack) -> StackKey:
        if raw and raw[0] is _UNSEEN_CODE:
            return (_UNSEEN_FRAME,)
        out: List[FrameKey] = []
        if self.line_no == LineNo.LastInstruction:
            for i in range(0, len(raw), 2):
                code = raw[i]
                name, rel, first = self._code(code)
                line = self.line(code, raw[i + 1]) if raw[i + 1] >= 0 else first
                out.append((f"{name} ({rel}:{line})", code.co_filename, first, line))
        elif self.line_no == LineNo.First:
            for code in raw:
                name, rel, first = self._code(code)
                out.append((f"{name} ({rel}:{first})", code.co_filename, first, first))
        else:
            for code in raw:
                name, rel, first = self._code(code)
                out.append((f"{name} ({rel})", code.co_filename, first, 0))
        return tuple(out)
