"""Patch on import: runs each automatic-tag integration once its framework module is loaded.

`configure()` calls `install()`. A framework module that is already imported is patched at once;
one imported later is patched right after it executes, by a meta path finder that only wraps the
loader of the few module names listed here (every other import passes through untouched), so the
frameworks themselves are imported only by the application, never by Hotpath.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import logging
import sys
import threading
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Sequence, Set

log = logging.getLogger("hotpath")

Patch = Callable[[ModuleType], None]

_lock = threading.Lock()
# module name -> patches still waiting for that module to be imported
_pending: Dict[str, List[Patch]] = {}
_applied: Set[Patch] = set()


def _apply(patch: Patch, module: ModuleType) -> None:
    with _lock:
        if patch in _applied:
            return
        _applied.add(patch)
    try:
        patch(module)
    except Exception:  # noqa: BLE001 - an integration that does not fit this version must not break the app
        log.warning("hotpath: automatic tags for %s are off: patching failed", module.__name__, exc_info=True)


class _PatchingLoader(importlib.abc.Loader):
    """Delegates to the real loader, then applies the module's patches after it has executed."""

    def __init__(self, loader: importlib.abc.Loader, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module only ever sees its real loader (importlib.resources and friends read it).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        with _lock:
            patches = _pending.pop(self._name, [])
        for patch in patches:
            _apply(patch, module)

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Optional[Sequence[str]], target: Optional[ModuleType] = None):  # type: ignore[no-untyped-def]
        if name not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader, name)
                return spec
        return None


_finder = _Finder()


def when_imported(module_name: str, patch: Patch) -> None:
    """Runs patch(module) now if module_name is imported, else right after it is (at most once)."""
    module = sys.modules.get(module_name)
    if module is not None:
        _apply(patch, module)
        return
    with _lock:
        if patch in _applied:
            return
        _pending.setdefault(module_name, [])
        if patch not in _pending[module_name]:
            _pending[module_name].append(patch)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replaces owner.name (a class's own method or a module's function) by make(original), once."""
    original = vars(owner).get(name)
    if original is None or hasattr(original, "_hotpath_original"):
        return
    wrapper = functools.update_wrapper(make(original), original)
    wrapper._hotpath_original = original  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def install() -> None:
    """Every automatic-tag integration (web frameworks, task queues), now or on import."""
    from . import tasks, web

    for module_name, patch in web.PATCHES + tasks.PATCHES:
        when_imported(module_name, patch)
