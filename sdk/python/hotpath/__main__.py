"""`python -m hotpath run [options] (script.py | -m module) [args...]`: profile without code changes."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Any, Dict, List, Optional

from . import configure, shutdown
from .config import ENV


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hotpath",
        description="Hotpath Python profiler. Settings not given here come from HOTPATH_* variables: "
        + ", ".join(sorted(set(ENV.values()))),
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a script or module with the profiler on")
    run.add_argument("--application-name", help="service_name (default: HOTPATH_APPLICATION_NAME or the script name)")
    run.add_argument("--server-address", help="e.g. http://localhost:4040")
    run.add_argument("--sample-rate", type=int, help="samples per second (default 100)")
    run.add_argument("--upload-interval", type=float, help="seconds between uploads (default 10)")
    run.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="global tag (repeatable)")
    run.add_argument("--wall", action="store_true", help="wall time instead of CPU time (oncpu=False)")
    run.add_argument("--mem", action="store_true", help="memory profiles too (mem_enabled=True)")
    run.add_argument("--report-pid", action="store_true", help="pid label on every sample")
    run.add_argument("-m", dest="module", help="run a library module as a script, like python -m")
    run.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args...] (or module args after -m)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    target: List[str] = list(args.target)
    if args.module is None and not target:
        _parser().error("run: give a script (python -m hotpath run app.py) or -m module")
    tags: Dict[str, str] = {}
    for t in args.tag:
        if "=" not in t:
            _parser().error(f"--tag expects KEY=VALUE, got {t!r}")
        k, v = t.split("=", 1)
        tags[k] = v
    name = args.module or os.path.splitext(os.path.basename(target[0]))[0]
    settings: Dict[str, Any] = {
        "application_name": args.application_name or os.environ.get("HOTPATH_APPLICATION_NAME") or name,
        "server_address": args.server_address,
        "sample_rate": args.sample_rate,
        "upload_interval": args.upload_interval,
        "tags": tags or None,
        "report_pid": args.report_pid or None,
    }
    if args.wall:
        settings["oncpu"] = False
    if args.mem:
        settings["mem_enabled"] = True
    if args.module is None:
        # Before configure(): frame names are made relative to sys.path as it is at start.
        sys.path.insert(0, os.path.dirname(os.path.abspath(target[0])))
    try:
        configure(**settings)
    except ValueError as e:
        print(f"hotpath: {e}", file=sys.stderr)
        return 2
    try:
        if args.module is not None:
            sys.argv = [args.module] + target
            runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        else:
            sys.argv = target
            runpy.run_path(target[0], run_name="__main__")
    except SystemExit as e:
        shutdown()
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
