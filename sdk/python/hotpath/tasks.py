"""Automatic `task` and `queue` tags on task-queue workers: Celery and RQ.

Celery: the task_prerun / task_postrun signals, sent from Celery's `trace_task` around each task,
put the tags on that `trace_task` frame, so everything the task runs is below them. Prefork pool
children restart the profiler after the fork (agent.py) and flush their last window when Celery
shuts them down (worker_process_shutdown).

RQ: `Job.perform` runs the job inside a `tag_wrapper`. RQ's work horse, forked per job, leaves with
os._exit(), which skips atexit: so once `Worker.perform_job` returns in a horse, the profiler is
stopped there, which uploads the job's samples before the horse exits.

`task` is the task's registered name (Celery) or the job function's dotted name (RQ); `queue` the
queue it came from (Celery: the delivery routing key, which is the queue name unless routing is
customised).
"""

from __future__ import annotations

import logging
import os
import sys
from types import FrameType, ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

from .integrations import wrap
from .tags import tag_wrapper

log = logging.getLogger("hotpath")

# Seconds a finishing RQ horse or Celery pool process waits for its last upload.
EXIT_FLUSH_TIMEOUT = 5.0


def task_tags(task: Any, queue: Any) -> Dict[str, str]:
    return {"task": str(task or "<unknown>"), "queue": str(queue or "<unknown>")}


def _stop_profiler() -> None:
    from . import agent

    try:
        agent.uninstall(EXIT_FLUSH_TIMEOUT)
    except Exception:  # noqa: BLE001 - the process is exiting; never raise into it
        log.debug("hotpath: final flush failed", exc_info=True)


# -- Celery --------------------------------------------------------------------------------------

_TRACE_FILE = os.path.join("celery", "app", "trace.py")
# task id -> the block open on that task's trace_task frame
_celery_open: Dict[str, tag_wrapper] = {}


def _trace_frame() -> Optional[FrameType]:
    f: Optional[FrameType] = sys._getframe(2)
    while f is not None:
        code = f.f_code
        if code.co_name == "trace_task" and code.co_filename.endswith(_TRACE_FILE):
            return f
        f = f.f_back
    return None


def _celery_prerun(sender: Any = None, task_id: Any = None, task: Any = None, **_: Any) -> None:
    # The signal handler runs below trace_task, which alone stays on the stack for the whole task.
    frame = _trace_frame()
    if frame is None or task is None:
        return
    delivery = getattr(getattr(task, "request", None), "delivery_info", None) or {}
    block = tag_wrapper(task_tags(getattr(task, "name", None), delivery.get("routing_key")))
    _celery_open[str(task_id)] = block.enter_at(frame)


def _celery_postrun(sender: Any = None, task_id: Any = None, **_: Any) -> None:
    block = _celery_open.pop(str(task_id), None)
    if block is not None:
        block.__exit__()


def _celery_process_shutdown(**_: Any) -> None:
    _stop_profiler()


def _patch_celery(module: ModuleType) -> None:
    signals = module.signals  # celery.app.trace imports celery.signals
    signals.task_prerun.connect(_celery_prerun, weak=False)
    signals.task_postrun.connect(_celery_postrun, weak=False)
    signals.worker_process_shutdown.connect(_celery_process_shutdown, weak=False)


# -- RQ ------------------------------------------------------------------------------------------


def _patch_rq_job(module: ModuleType) -> None:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def perform(self: Any) -> Any:
            with tag_wrapper(task_tags(self.func_name, self.origin)):
                return original(self)

        return perform

    wrap(module.Job, "perform", make)


def _patch_rq_worker(module: ModuleType) -> None:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def perform_job(self: Any, job: Any, queue: Any) -> Any:
            try:
                return original(self, job, queue)
            finally:
                if getattr(self, "_is_horse", False):  # set by RQ in the forked work horse only
                    _stop_profiler()

        return perform_job

    wrap(module.Worker, "perform_job", make)


PATCHES: List[Tuple[str, Callable[[ModuleType], None]]] = [
    ("celery.app.trace", _patch_celery),
    ("rq.job", _patch_rq_job),
    ("rq.worker", _patch_rq_worker),
]
