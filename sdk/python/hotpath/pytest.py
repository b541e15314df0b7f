"""pytest plugin: `pytest --hotpath` profiles the run, each sample tagged with its test and phase.

Every thread's samples taken while a test runs carry `test` (the node id) and `phase` (setup, call
or teardown), threads the test started included: the labels are not frame- or thread-scoped like
tag_wrapper, they belong to a stretch of time. At each phase boundary the plugin ticks the sampler
once (charging the CPU used so far to the stacks of that moment) and drains it, so everything
sampled in between goes to the phase that was current. A thread that outlives its test is charged
to whatever runs next. Samples taken between tests (collection, reporting) carry no `test` label.

Without a server (`--hotpath-server` / HOTPATH_SERVER_ADDRESS unset) the run writes one gzipped pprof
(`--hotpath-output`); with one, the profiles are pushed like the agent's, series labels holding the
deployment tags (service_git_ref, ...). An unreachable server never fails the run. Under pytest-xdist
each worker profiles itself; in file mode the controller merges the workers' samples into one file.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from .agent import Agent
from .config import Config, build_config
from .deployment import with_deployment_tags
from .pprof import LabelsKey, ProfileBuilder, StackKey, gzip_bytes
from .sampler import Sampler

log = logging.getLogger("hotpath")

DEFAULT_OUTPUT = "hotpath-tests.pb.gz"
# (leaf-first frames, sorted labels) -> CPU nanoseconds, as the pprof builder takes them.
Samples = Dict[Tuple[StackKey, LabelsKey], int]


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("hotpath", "Hotpath profiling")
    group.addoption("--hotpath", action="store_true", help="profile the run, samples tagged by test and phase")
    group.addoption(
        "--hotpath-server",
        metavar="URL",
        help="push profiles to this Hotpath/Pyroscope server (default HOTPATH_SERVER_ADDRESS; unset: write a file)",
    )
    group.addoption(
        "--hotpath-output",
        metavar="FILE",
        help=f"write the run's profile here as gzipped pprof (default {DEFAULT_OUTPUT} when no server is given)",
    )
    group.addoption(
        "--hotpath-application-name",
        metavar="NAME",
        help="service_name (default HOTPATH_APPLICATION_NAME, else <rootdir name>-tests)",
    )
    group.addoption("--hotpath-sample-rate", metavar="HZ", type=int, help="samples per second (default 100)")
    group.addoption(
        "--hotpath-wall",
        action="store_true",
        help="charge wall time (waiting and sleeping too) rather than CPU time; steadier on a busy CI machine",
    )


def pytest_configure(config: Any) -> None:
    if not config.getoption("hotpath"):
        return
    try:
        plugin = HotpathPlugin(config)
    except ValueError as e:  # a bad setting is the user's to fix, but it never fails the tests
        config.issue_config_time_warning(pytest.PytestWarning(f"hotpath: not profiling: {e}"), stacklevel=2)
        return
    config.pluginmanager.register(plugin, "hotpath-plugin")


class PhaseLabels:
    """Stands in for the agent's Sampler: values it hands out carry the test and phase current when sampled.

    The agent's loop calls tick() and take() as usual (both pass through); switch() closes the current
    stretch. `keep` keeps a copy of every value for the output file; `send` lets take() return them
    for the agent to upload (otherwise it returns nothing).
    """

    def __init__(self, sampler: Sampler, namer: Any, *, keep: bool, send: bool) -> None:
        self._sampler = sampler
        self._namer = namer
        self._keep = keep
        self._send = send
        self._lock = threading.Lock()
        self._current: Tuple[Tuple[str, str], ...] = ()
        self._pending: Dict[Any, int] = {}  # (raw stack, labels) -> ns, labelled, not yet taken
        self._merged: Dict[Tuple[LabelsKey, LabelsKey], LabelsKey] = {}
        self.kept: Samples = {}

    def __getattr__(self, name: str) -> Any:  # tick, exclude, ticks, errors, reset_after_fork...
        return getattr(self._sampler, name)

    def switch(self, labels: Tuple[Tuple[str, str], ...]) -> None:
        """Everything sampled until now belongs to the current labels; from now on to `labels`."""
        with self._lock:
            self._sampler.tick()
            self._absorb(self._sampler.take())
            self._current = labels

    def _absorb(self, values: Dict[Any, int]) -> None:
        current = self._current
        pending = self._pending
        for (raw, labels), value in values.items():
            memo = (labels, current)
            merged = self._merged.get(memo)
            if merged is None:
                merged = tuple(sorted({**dict(labels), **dict(current)}.items())) if current else labels
                self._merged[memo] = merged
            key = (raw, merged)
            pending[key] = pending.get(key, 0) + value

    def take(self) -> Dict[Any, int]:
        with self._lock:
            self._absorb(self._sampler.take())
            out, self._pending = self._pending, {}
            if self._keep:
                stack = self._namer.stack
                for (raw, labels), value in out.items():
                    key = (stack(raw), labels)
                    self.kept[key] = self.kept.get(key, 0) + value
        return out if self._send else {}


def default_application_name(rootdir: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", os.path.basename(os.path.abspath(rootdir))).strip("-") or "pytest"
    return f"{base}-tests"


def encode_profile(samples: Samples, sample_rate: int, oncpu: bool = True) -> bytes:
    """One gzipped pprof (cpu or wall nanoseconds, like the agent's) holding every sample of the run."""
    sample_type = ("cpu" if oncpu else "wall", "nanoseconds")
    builder = ProfileBuilder(
        sample_types=[sample_type],
        period_type=sample_type,
        period=1_000_000_000 // sample_rate,
    )
    for (stack, labels), value in samples.items():
        builder.add(stack, (value,), labels)
    return gzip_bytes(builder.encode())


def to_wire(samples: Samples) -> List[Any]:
    """Samples as lists, strings and ints: what xdist's execnet channel carries to the controller."""
    return [[[list(f) for f in stack], [list(kv) for kv in labels], value] for (stack, labels), value in samples.items()]


def from_wire(rows: List[Any], into: Samples) -> None:
    for stack, labels, value in rows:
        key = (tuple((str(n), str(f), int(s), int(l)) for n, f, s, l in stack), tuple((str(k), str(v)) for k, v in labels))
        into[key] = into.get(key, 0) + int(value)


class HotpathPlugin:
    """Registered by `--hotpath`: starts the profiler at session start, labels phases, writes or sends at the end."""

    def __init__(self, config: Any) -> None:
        self.config = config
        opt = config.getoption
        self.worker = hasattr(config, "workerinput")  # an xdist worker: profiles its own tests
        server = opt("hotpath_server") or os.environ.get("HOTPATH_SERVER_ADDRESS") or ""
        output = opt("hotpath_output")
        if not server and not output:
            output = DEFAULT_OUTPUT
        self.output = os.path.join(str(config.rootpath), output) if output and not os.path.isabs(output) else output
        self.server = server
        name = opt("hotpath_application_name") or os.environ.get("HOTPATH_APPLICATION_NAME") or default_application_name(
            str(config.rootpath)
        )
        args: Dict[str, Any] = {
            "application_name": name,
            "mem_enabled": False,
            "cpu_enabled": True,
            "max_overhead": 0.0,  # tests want every tick; the run is short and CI is not production
        }
        if server:
            args["server_address"] = server
        if opt("hotpath_wall"):
            args["oncpu"] = False
        if opt("hotpath_sample_rate"):
            args["sample_rate"] = opt("hotpath_sample_rate")
        # service_git_ref & co. as series labels, under the user's own tags (HOTPATH_TAGS wins).
        self.settings: Config = with_deployment_tags(build_config(args), cwd=str(config.rootpath))
        self.agent: Optional[Agent] = None
        self.phases: Optional[PhaseLabels] = None
        self.collected: Samples = {}  # the controller's merge of xdist workers' samples
        self.message = ""

    # -- lifecycle ----------------------------------------------------------------------------------

    def _controller_of_workers(self) -> bool:
        return not self.worker and self.config.pluginmanager.getplugin("dsession") is not None

    def pytest_sessionstart(self, session: Any) -> None:
        if self._controller_of_workers():
            return  # the workers run the tests and profile them
        try:
            agent = Agent(self.settings)
            phases = PhaseLabels(agent.sampler, agent.namer, keep=bool(self.output), send=bool(self.server))
            agent.sampler = phases  # type: ignore[assignment]
            agent.start()
        except Exception as e:  # noqa: BLE001 - profiling never fails the run
            log.warning("hotpath: profiler did not start: %s", e)
            self.message = f"hotpath: profiler did not start: {e}"
            return
        self.agent, self.phases = agent, phases

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: Any) -> None:
        agent, phases = self.agent, self.phases
        if agent is not None and phases is not None:
            phases.switch(())
            agent.stop(timeout=5.0)
            if self.server:
                s = agent.uploader.stats
                self.message = f"hotpath: sent {s.sent} upload(s) to {self.server}"
                if s.last_error:
                    self.message += f" ({s.dropped_rejected + s.dropped_shutdown + s.dropped_full} dropped: {s.last_error})"
            if self.worker:
                self.config.workeroutput["hotpath"] = to_wire(phases.kept) if self.output else []
                return
            self.collected.update(phases.kept)
        if self.output and not self.worker and (self.agent is not None or self._controller_of_workers()):
            self._write()

    def _write(self) -> None:
        try:
            data = encode_profile(self.collected, self.settings.sample_rate, self.settings.oncpu)
            with open(self.output, "wb") as f:
                f.write(data)
        except OSError as e:
            self.message = f"hotpath: could not write {self.output}: {e}"
            return
        tests = {v for _, labels in self.collected for k, v in labels if k == "test"}
        line = f"hotpath: wrote {self.output} ({len(self.collected)} stacks, {len(tests)} tests)"
        self.message = f"{self.message}\n{line}" if self.message else line

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        rows = getattr(node, "workeroutput", {}).get("hotpath")
        if rows:
            from_wire(rows, self.collected)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.message:
            terminalreporter.write_line(self.message)

    # -- phases -------------------------------------------------------------------------------------

    def _phase(self, item: Any, phase: str) -> Iterator[None]:
        phases = self.phases
        if phases is None:
            yield
            return
        phases.switch((("phase", phase), ("test", item.nodeid)))
        try:
            yield
        finally:
            phases.switch(())

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: Any) -> Iterator[None]:
        yield from self._phase(item, "setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Iterator[None]:
        yield from self._phase(item, "call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: Any) -> Iterator[None]:
        yield from self._phase(item, "teardown")
