"""configure() arguments: defaults, environment variables, validation (loud, at configure time)."""

from __future__ import annotations

import difflib
import enum
import os
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

from .tags import validate_tags


class LineNo(enum.IntEnum):
    """Which line a frame reports (pyroscope-io's enum, same values)."""

    LastInstruction = 0  # the line being executed (py-spy's default)
    First = 1  # the function's first line: one node per function, cheapest to sample
    NoLine = 2  # no line number at all


@dataclass(frozen=True)
class Config:
    application_name: str
    server_address: str = "http://localhost:4040"
    sample_rate: int = 100  # Hz
    tags: Dict[str, str] = field(default_factory=dict)
    oncpu: bool = True
    gil_only: bool = True
    cpu_enabled: bool = True
    report_pid: bool = False
    report_thread_id: bool = False
    report_thread_name: bool = False
    basic_auth_username: str = ""
    basic_auth_password: str = ""
    tenant_id: str = ""
    http_headers: Dict[str, str] = field(default_factory=dict)
    enable_logging: bool = False
    line_no: LineNo = LineNo.LastInstruction
    mem_enabled: bool = False
    mem_max_nframe: int = 128
    mem_duty_cycle: float = 0.02  # fraction of each upload interval during which tracemalloc traces
    upload_interval: float = 10.0  # seconds between uploads; windows are aligned to multiples of it
    upload_protocol: str = "push"  # "push" (Connect push.v1.PusherService/Push) or "ingest" (/ingest)
    upload_timeout: float = 10.0  # seconds per HTTP request
    upload_buffer: int = 32  # pending uploads kept while the server is unreachable; oldest dropped first
    max_overhead: float = 0.01  # sampler CPU / wall cap (1 %); lowers the tick rate if needed; 0 = off
    auto_tags: bool = True  # automatic tags (deployment metadata, web frameworks, task queues); False = none


# Accepted for pyroscope-io compatibility; they have no effect here (see docs/python-sdk.md).
COMPAT_IGNORED = ("native", "detect_subprocesses", "mem_heap_sample_size", "mem_enable_mem_domain")

# configure() argument -> environment variable read when the argument is not given.
ENV = {
    "application_name": "HOTPATH_APPLICATION_NAME",
    "server_address": "HOTPATH_SERVER_ADDRESS",
    "sample_rate": "HOTPATH_SAMPLE_RATE",
    "tags": "HOTPATH_TAGS",
    "oncpu": "HOTPATH_ONCPU",
    "gil_only": "HOTPATH_GIL_ONLY",
    "cpu_enabled": "HOTPATH_CPU_ENABLED",
    "report_pid": "HOTPATH_REPORT_PID",
    "report_thread_id": "HOTPATH_REPORT_THREAD_ID",
    "report_thread_name": "HOTPATH_REPORT_THREAD_NAME",
    "basic_auth_username": "HOTPATH_BASIC_AUTH_USERNAME",
    "basic_auth_password": "HOTPATH_BASIC_AUTH_PASSWORD",
    "tenant_id": "HOTPATH_TENANT_ID",
    "enable_logging": "HOTPATH_ENABLE_LOGGING",
    "mem_enabled": "HOTPATH_MEM_ENABLED",
    "mem_duty_cycle": "HOTPATH_MEM_DUTY_CYCLE",
    "upload_interval": "HOTPATH_UPLOAD_INTERVAL",
    "upload_protocol": "HOTPATH_UPLOAD_PROTOCOL",
    "upload_timeout": "HOTPATH_UPLOAD_TIMEOUT",
    "max_overhead": "HOTPATH_MAX_OVERHEAD",
    "auto_tags": "HOTPATH_AUTO_TAGS",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ValueError(f"{name} must be a bool, got {v!r}")


def _number(name: str, v: Any, kind: type, low: float, high: float) -> Any:
    try:
        if isinstance(v, bool):
            raise TypeError
        n = kind(v) if isinstance(v, str) else v
        if kind is int and not isinstance(n, int):
            raise TypeError
        if kind is float and not isinstance(n, (int, float)):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number between {low} and {high}, got {v!r}") from None
    if not low <= n <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {n!r}")
    return kind(n)


def _str(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"{name} must be a string, got {type(v).__name__}")
    return v


def _parse_env_tags(text: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"HOTPATH_TAGS: expected key=value pairs separated by ',', got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build_config(args: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Config:
    """Validates configure() keyword arguments, filling gaps from HOTPATH_* variables.

    Explicit arguments win over the environment; environment tags are merged under explicit tags.
    """
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Config)}
    args = dict(args)
    if "app_name" in args:
        warnings.warn("app_name is deprecated, use application_name", DeprecationWarning, stacklevel=3)
        value = args.pop("app_name")
        args.setdefault("application_name", value)
    for name in COMPAT_IGNORED:
        args.pop(name, None)
    unknown = sorted(set(args) - known)
    if unknown:
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, sorted(known), n=1)
            hints.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"hotpath.configure: unknown argument(s) {', '.join(hints)}")

    values: Dict[str, Any] = {}
    from_env = set()
    for name, var in ENV.items():
        if args.get(name) is None and env.get(var):
            values[name] = env[var]
            from_env.add(name)
    for name, v in args.items():
        if v is not None:
            values[name] = v
    env_tags = env.get("HOTPATH_TAGS")
    if env_tags:
        explicit = args.get("tags")
        merged = _parse_env_tags(env_tags)
        if explicit is not None:
            merged.update(validate_tags(explicit, "tags"))
        values["tags"] = merged

    def origin(name: str) -> str:
        return ENV[name] if name in from_env else name

    if not values.get("application_name"):
        raise ValueError("hotpath.configure: application_name is required (or set HOTPATH_APPLICATION_NAME)")
    out: Dict[str, Any] = {}
    for f in fields(Config):
        if f.name not in values:
            continue
        v = values[f.name]
        n = origin(f.name)
        if f.name in ("application_name", "basic_auth_username", "basic_auth_password", "tenant_id", "server_address"):
            out[f.name] = _str(n, v)
        elif f.name in ("oncpu", "gil_only", "cpu_enabled", "report_pid", "report_thread_id", "report_thread_name",
                        "enable_logging", "mem_enabled", "auto_tags"):
            out[f.name] = _bool(n, v)
        elif f.name == "sample_rate":
            out[f.name] = _number(n, v, int, 1, 1000)
        elif f.name == "mem_max_nframe":
            out[f.name] = _number(n, v, int, 1, 600)
        elif f.name == "mem_duty_cycle":
            out[f.name] = _number(n, v, float, 0.001, 1.0)
        elif f.name == "upload_interval":
            out[f.name] = _number(n, v, float, 0.1, 3600.0)
        elif f.name == "upload_timeout":
            out[f.name] = _number(n, v, float, 0.1, 300.0)
        elif f.name == "max_overhead":
            out[f.name] = _number(n, v, float, 0.0, 1.0)
        elif f.name == "upload_buffer":
            out[f.name] = _number(n, v, int, 1, 10000)
        elif f.name == "tags":
            out[f.name] = validate_tags(v, n)
        elif f.name == "http_headers":
            if not isinstance(v, Mapping) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
                raise ValueError(f"{n} must be a dict of str to str")
            out[f.name] = dict(v)
        elif f.name == "line_no":
            try:
                out[f.name] = LineNo(v)
            except ValueError:
                raise ValueError(f"{n} must be a hotpath.LineNo (0, 1 or 2), got {v!r}") from None
        elif f.name == "upload_protocol":
            if v not in ("push", "ingest"):
                raise ValueError(f"{n} must be 'push' or 'ingest', got {v!r}")
            out[f.name] = v
    name = out["application_name"]
    if not all(c.isalnum() or c in "_.-/" for c in name):
        raise ValueError(f"application_name {name!r} may only contain letters, digits, '_', '.', '-', '/'")
    url = urlsplit(out.get("server_address", Config.server_address))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"server_address must be an http(s) URL like http://localhost:4040, got {out.get('server_address')!r}")
    if not out.get("cpu_enabled", True) and not out.get("mem_enabled", False):
        raise ValueError("at least one of cpu_enabled and mem_enabled must be True")
    return Config(**out)
