"""Hotpath Python SDK: continuous CPU and memory profiling, API-compatible with pyroscope-io.

    import hotpath
    hotpath.configure(application_name="ride-sharing-app", server_address="http://localhost:4040",
                      tags={"region": "us-east"})
    with hotpath.tag_wrapper({"vehicle": "car"}):
        ...
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from . import agent as _agent
from .config import ENV, Config, LineNo, build_config
from .deployment import deployment_tags, with_deployment_tags
from .spans import current_span_id, span
from .tags import add_thread_tag, remove_thread_tag, tag_wrapper
from .web import ASGIMiddleware, WSGIMiddleware, instrument

__all__ = [
    "configure",
    "shutdown",
    "tag_wrapper",
    "add_thread_tag",
    "remove_thread_tag",
    "span",
    "current_span_id",
    "stats",
    "LineNo",
    "Config",
    "ENV",
    "instrument",
    "WSGIMiddleware",
    "ASGIMiddleware",
    "deployment_tags",
]
__version__ = _agent.VERSION

_log = logging.getLogger("hotpath")
_log.addHandler(logging.NullHandler())


def configure(
    application_name: Optional[str] = None,
    server_address: Optional[str] = None,
    sample_rate: Optional[int] = None,
    tags: Optional[Dict[str, str]] = None,
    oncpu: Optional[bool] = None,
    gil_only: Optional[bool] = None,
    report_pid: Optional[bool] = None,
    report_thread_id: Optional[bool] = None,
    report_thread_name: Optional[bool] = None,
    basic_auth_username: Optional[str] = None,
    basic_auth_password: Optional[str] = None,
    tenant_id: Optional[str] = None,
    http_headers: Optional[Dict[str, str]] = None,
    enable_logging: Optional[bool] = None,
    mem_enabled: Optional[bool] = None,
    upload_interval: Optional[float] = None,
    **kwargs: Any,
) -> Config:
    """Starts profiling this process. Every argument may also come from HOTPATH_* variables.

    Other keyword arguments: cpu_enabled, line_no, mem_max_nframe, mem_duty_cycle,
    upload_protocol ("push" | "ingest"), upload_timeout, upload_buffer, max_overhead, and the pyroscope-io
    compatibility names app_name (deprecated alias), native, detect_subprocesses,
    mem_heap_sample_size, mem_enable_mem_domain (accepted, no effect).
    Raises ValueError on unknown or invalid arguments, RuntimeError if already configured.
    """
    args = dict(kwargs)
    args.update(
        application_name=application_name,
        server_address=server_address,
        sample_rate=sample_rate,
        tags=tags,
        oncpu=oncpu,
        gil_only=gil_only,
        report_pid=report_pid,
        report_thread_id=report_thread_id,
        report_thread_name=report_thread_name,
        basic_auth_username=basic_auth_username,
        basic_auth_password=basic_auth_password,
        tenant_id=tenant_id,
        http_headers=http_headers,
        enable_logging=enable_logging,
        mem_enabled=mem_enabled,
        upload_interval=upload_interval,
    )
    config = with_deployment_tags(build_config(args))
    if config.enable_logging and not any(not isinstance(h, logging.NullHandler) for h in _log.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _log.addHandler(handler)
        if _log.level == logging.NOTSET:
            _log.setLevel(logging.INFO)
    _agent.install(_agent.Agent(config))
    if config.auto_tags:
        from . import integrations

        integrations.install()  # endpoint/method on web requests, task/queue on task-queue jobs
    _log.info("hotpath: profiling %s -> %s", config.application_name, config.server_address)
    return config


def shutdown(timeout: float = 5.0) -> bool:
    """Stops profiling and uploads the last window (waits at most `timeout` s). False if not running."""
    return _agent.uninstall(timeout)


def stats() -> Dict[str, Any]:
    """Counters of the running profiler (ticks, sampler errors, uploads sent/retried/dropped)."""
    a = _agent.current()
    if a is None:
        return {}
    s = a.uploader.stats
    return {
        "ticks": a.sampler.ticks,
        "sampler_errors": a.sampler.errors,
        "flushes": a.flushes,
        "flush_errors": a.flush_errors,
        "uploads_sent": s.sent,
        "upload_retries": s.retries,
        "dropped_buffer_full": s.dropped_full,
        "dropped_rejected": s.dropped_rejected,
        "dropped_shutdown": s.dropped_shutdown,
        "pending": a.uploader.pending,
        "effective_sample_rate": round(a.effective_rate, 1),
        "last_error": s.last_error,
    }
