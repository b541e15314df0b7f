"""Automatic `endpoint` and `method` tags on every web request: Flask, Django, Starlette / FastAPI,
the standard library's http.server (no routes there: the endpoint is the handler method,
`Handler.do_GET`), and any WSGI or ASGI app through `WSGIMiddleware` / `ASGIMiddleware` (or
`hotpath.instrument(app)`).

Each integration wraps the framework method that serves one request after its route is known and
opens a `tag_wrapper` in the wrapper's frame, so the sampler finds the tags on the request's stack
(coroutine frames included: an ASGI request's wrapper frame is on the stack whenever its task runs).
Work a Starlette / FastAPI request hands to anyio's thread pool (plain `def` endpoints) carries the
request's tags too, through a context variable read when the work is submitted.

`endpoint` is the route template (`/car/<id>`, `/car/{id}`, Django's `car/<int:id>` as `/car/<int:id>`),
never the raw path, so its values are as many as the app's routes; requests no route matched get
UNMATCHED. `method` is the HTTP method, or OTHER for a method outside the standard ones.
"""

from __future__ import annotations

import functools
import inspect
import sys
from contextvars import ContextVar
from types import ModuleType
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .integrations import wrap
from .tags import tag_wrapper

UNMATCHED = "<unmatched>"
OTHER_METHOD = "OTHER"
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"))

# The tags of the ASGI request this context serves, for the worker threads it hands work to.
_request_tags: ContextVar[Optional[Dict[str, str]]] = ContextVar("hotpath_request_tags", default=None)


def request_tags(endpoint: str, method: Any) -> Dict[str, str]:
    m = method.upper() if isinstance(method, str) else ""
    return {"endpoint": endpoint or UNMATCHED, "method": m if m in _METHODS else OTHER_METHOD}


# -- generic WSGI / ASGI ----------------------------------------------------------------------


class WSGIMiddleware:
    """Tags each request of a WSGI app with `method` and `endpoint` (UNMATCHED unless `endpoint`,
    a function of the WSGI environ returning the route template, says otherwise; a framework
    integration running inside the app tags its own route, which wins)."""

    def __init__(self, app: Callable[..., Any], endpoint: Optional[Callable[[Mapping[str, Any]], str]] = None) -> None:
        self.app = app
        self._endpoint = endpoint

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Any:
        endpoint = self._endpoint(environ) if self._endpoint is not None else UNMATCHED
        with tag_wrapper(request_tags(endpoint, environ.get("REQUEST_METHOD"))):
            return self.app(environ, start_response)


class ASGIMiddleware:
    """Tags each HTTP / WebSocket request of an ASGI app (as WSGIMiddleware; `endpoint` gets the scope)."""

    def __init__(self, app: Callable[..., Any], endpoint: Optional[Callable[[Mapping[str, Any]], str]] = None) -> None:
        self.app = app
        self._endpoint = endpoint

    async def __call__(self, scope: Dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        endpoint = self._endpoint(scope) if self._endpoint is not None else UNMATCHED
        await _serve_asgi(request_tags(endpoint, scope.get("method", "GET")), self.app, scope, receive, send)


async def _serve_asgi(tags: Dict[str, str], app: Callable[..., Any], *args: Any) -> None:
    token = _request_tags.set(tags)
    try:
        with tag_wrapper(tags):  # this coroutine's frame owns the tags while the request runs
            await app(*args)
    finally:
        _request_tags.reset(token)


# -- Flask ---------------------------------------------------------------------------------------


def _patch_flask(module: ModuleType) -> None:
    flask_request = module.request  # flask.app's own reference to the request proxy

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def full_dispatch_request(self: Any) -> Any:
            rule = flask_request.url_rule  # matched when the request context was pushed
            with tag_wrapper(request_tags(rule.rule if rule is not None else UNMATCHED, flask_request.method)):
                return original(self)

        return full_dispatch_request

    wrap(module.Flask, "full_dispatch_request", make)


# -- http.server ---------------------------------------------------------------------------------


# http.server handlers that serve a WSGI app: the app's framework tags its own routes.
_WSGI_GATEWAYS = ("werkzeug.", "wsgiref.")


def _patch_http_server(module: ModuleType) -> None:
    # BaseHTTPRequestHandler has no routes: the endpoint is the view, `Handler.do_GET`. The method
    # is known only once handle_one_request has parsed the request line, so the block opens then,
    # on handle_one_request's frame (which calls do_GET), and closes when that frame returns.
    def make_parse(original: Callable[..., Any]) -> Callable[..., Any]:
        def parse_request(self: Any) -> bool:
            ok = original(self)
            if ok and not type(self).__module__.startswith(_WSGI_GATEWAYS):
                tags = request_tags(UNMATCHED, self.command)
                if tags["method"] != OTHER_METHOD and hasattr(self, "do_" + self.command):
                    tags["endpoint"] = f"{type(self).__name__}.do_{self.command}"
                self._hotpath_block = tag_wrapper(tags).enter_at(sys._getframe(1))
            return ok

        return parse_request

    def make_handle(original: Callable[..., Any]) -> Callable[..., Any]:
        def handle_one_request(self: Any) -> None:
            try:
                original(self)
            finally:
                block = self.__dict__.pop("_hotpath_block", None)
                if block is not None:
                    block.__exit__()

        return handle_one_request

    wrap(module.BaseHTTPRequestHandler, "parse_request", make_parse)
    wrap(module.BaseHTTPRequestHandler, "handle_one_request", make_handle)


# -- Django --------------------------------------------------------------------------------------


def _django_endpoint(request: Any) -> str:
    from django.urls import Resolver404, get_resolver

    try:
        match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
    except Resolver404:
        return UNMATCHED
    route = getattr(match, "route", None)
    if route:
        return route if route.startswith("/") else "/" + route
    return match.view_name or UNMATCHED


def _patch_django(module: ModuleType) -> None:
    # The route is resolved once more here (Django resolves it again deep inside, after the
    # middleware): so the middleware's CPU is under the request's endpoint too.
    def make_sync(original: Callable[..., Any]) -> Callable[..., Any]:
        def get_response(self: Any, request: Any) -> Any:
            with tag_wrapper(request_tags(_django_endpoint(request), request.method)):
                return original(self, request)

        return get_response

    def make_async(original: Callable[..., Any]) -> Callable[..., Any]:
        async def get_response_async(self: Any, request: Any) -> Any:
            tags = request_tags(_django_endpoint(request), request.method)
            token = _request_tags.set(tags)
            try:
                with tag_wrapper(tags):
                    return await original(self, request)
            finally:
                _request_tags.reset(token)

        return get_response_async

    wrap(module.BaseHandler, "get_response", make_sync)
    wrap(module.BaseHandler, "get_response_async", make_async)


# -- Starlette / FastAPI -------------------------------------------------------------------------


def _starlette_endpoint(routes: Any, scope: Dict[str, Any], prefix: str = "") -> str:
    from starlette.routing import Match

    partial = UNMATCHED
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.NONE:
            continue
        path = prefix + getattr(route, "path", "")
        inner = getattr(route, "routes", None)  # a Mount (or Host): the route inside, under its template
        if inner:
            path = _starlette_endpoint(inner, {**scope, **child_scope}, path) if match == Match.FULL else UNMATCHED
        if match == Match.FULL:
            return path or UNMATCHED
        if partial == UNMATCHED:  # the right path for another method: answered 405
            partial = path or UNMATCHED
    return partial


def _patch_starlette_app(module: ModuleType) -> None:
    # The app's own entry: the route is matched once more here (the router matches it again
    # inside), so middleware and exception handlers (a 404's included) run under the endpoint,
    # and a route inside a Mount gets its whole template, `/v1/car/{id}`.
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def __call__(self: Any, scope: Dict[str, Any], receive: Any, send: Any) -> None:
            outer = _request_tags.get()
            if scope.get("type") not in ("http", "websocket") or (outer is not None and outer["endpoint"] != UNMATCHED):
                # Not a request, or an app mounted in one whose match already named the whole route.
                await original(self, scope, receive, send)
                return
            tags = request_tags(_starlette_endpoint(self.router.routes, scope), scope.get("method", "GET"))
            await _serve_asgi(tags, functools.partial(original, self), scope, receive, send)

        return __call__

    wrap(module.Starlette, "__call__", make)


def _run_tagged(tags: Dict[str, str], func: Callable[..., Any], *args: Any) -> Any:
    with tag_wrapper(tags):
        return func(*args)


def _patch_anyio(module: ModuleType) -> None:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            tags = _request_tags.get()
            if tags is not None:
                func = functools.partial(_run_tagged, tags, func)
            return await original(func, *args, **kwargs)

        return run_sync

    wrap(module, "run_sync", make)


# -- explicit ------------------------------------------------------------------------------------

# module -> patch; integrations.install() applies each when its module is (or gets) imported.
PATCHES: List[Tuple[str, Callable[[ModuleType], None]]] = [
    ("http.server", _patch_http_server),
    ("flask.app", _patch_flask),
    ("django.core.handlers.base", _patch_django),
    ("starlette.applications", _patch_starlette_app),
    ("anyio.to_thread", _patch_anyio),
]


def instrument(app: Any) -> Any:
    """Turns on request tags for `app` and returns the app to serve.

    A Flask, Django or Starlette / FastAPI app is returned unchanged once its framework is patched
    (even with auto_tags off); any other WSGI or ASGI callable comes back wrapped in WSGIMiddleware
    or ASGIMiddleware.
    """
    from .integrations import when_imported

    root = type(app).__module__.split(".", 1)[0]
    packages = {"flask": ("flask",), "django": ("django",), "starlette": ("starlette", "anyio"), "fastapi": ("starlette", "anyio")}
    if root in packages:
        for module_name, patch in PATCHES:
            if module_name.split(".", 1)[0] in packages[root]:
                __import__(module_name)
                when_imported(module_name, patch)
        return app
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(type(app), "__call__", app)
    if inspect.iscoroutinefunction(call):
        return ASGIMiddleware(app)
    if callable(app):
        return WSGIMiddleware(app)
    raise ValueError(f"hotpath.instrument: expected a WSGI or ASGI app, got {type(app).__name__}")
