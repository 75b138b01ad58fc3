"""Routes FastAPI would only hand the request to, served without its request machinery.

FastAPI (0.165) runs every request through several layers before the endpoint: the included
router's nested matching, the route's request-response wrapper with two exit stacks and its
own exception wrapper, the endpoint context it extracts for error messages, and
`solve_dependencies`, which re-derives each dependency's cache key, scope and kind on every
request. For a cached session check that was ~95 of its ~160 µs in the process, more than the
middleware stack and the route's own work together.

Most of our hot routes need none of it: their dependencies are "flat" (coroutines that take
only the request, see `auth.deps`, `core.params.QueryModel`, `core.db.SessionDep`) and their
endpoints return a finished `Response`. Such a route, at a literal path, is served here: its
dependencies are awaited in FastAPI's order (router dependencies first, then the
signature's, each call once per request, as FastAPI caches them), inside the per-function
exit stack FastAPI would give them (the request's unit of work commits there, before the
response is sent), then the endpoint, then the response. Errors propagate to the app's
exception handlers exactly as they would from inside FastAPI's route.

The FastAPI route stays what documents the route and what serves every case this does not
(a dependency override, as tests use; a `root_path`; OpenTelemetry on, which records the
route FastAPI selects). `tests/core/test_direct_routes.py` holds both paths to the same
answers.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

# The method a WebSocket handshake is indexed under.
WEBSOCKET = "WEBSOCKET"


@dataclass(frozen=True, slots=True)
class _Step:
    """One dependency: where its value goes (None: only awaited), and whether a value
    already made this request is reused (FastAPI's `use_cache`)."""

    name: str | None
    call: Callable[..., Awaitable[Any]]
    param: str | None  # the name it takes the request by; None: it takes nothing
    cached: bool


class DirectRoute:
    """One route served without FastAPI's request handling (see the module)."""

    def __init__(
        self,
        route: APIRoute | APIWebSocketRoute,
        path: str,
        steps: tuple[_Step, ...],
        request_param: str | None,
        router: object,
    ) -> None:
        self.route = route
        self.websocket = isinstance(route, APIWebSocketRoute)
        self.path = path  # with every prefix it was included under
        self.endpoint = route.endpoint
        self._steps = steps
        self._request_param = request_param
        self._router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What FastAPI's selection leaves on the scope that the app reads: the route (its
        # template for logs and metrics, its declared query names), endpoint and router.
        scope.setdefault("router", self._router)
        scope["route"] = self.route
        scope["endpoint"] = self.endpoint
        scope["path_params"] = {}
        request = (
            WebSocket(scope, receive, send) if self.websocket else Request(scope, receive, send)
        )
        async with AsyncExitStack() as function_stack:
            scope["fastapi_function_astack"] = function_stack
            values: dict[str, Any] = {}
            made: dict[Any, Any] = {}
            for step in self._steps:
                if step.cached and step.call in made:
                    value = made[step.call]
                else:
                    value = made[step.call] = await (
                        step.call(**{step.param: request}) if step.param else step.call()
                    )
                if step.name is not None:
                    values[step.name] = value
            if self._request_param is not None:
                values[self._request_param] = request
            response = await self.endpoint(**values)
        if not self.websocket:  # a WebSocket endpoint has answered on the socket itself
            await response(scope, receive, send)


class _NotFlat(Exception):
    """A dependant takes something FastAPI would have to supply (a parameter, a body...)."""


def _request_param(dependant: Dependant, *, websocket: bool = False) -> str | None:
    """The name under which `dependant` takes the request (None: it takes nothing); for a
    WebSocket endpoint, the socket. Raises `_NotFlat` when it takes anything else."""
    if websocket:
        if dependant.request_param_name or dependant.http_connection_param_name:
            raise _NotFlat  # (FastAPI hands a Request parameter no socket)
        socket = dependant.websocket_param_name
        dependant = replace(dependant, websocket_param_name=None)
        _request_param(dependant)  # nothing else either
        return socket
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or (dependant.request_param_name and dependant.http_connection_param_name)
    ):
        raise _NotFlat
    return dependant.request_param_name or dependant.http_connection_param_name


def _flat_step(dependant: Dependant, *, websocket: bool) -> _Step:
    call = dependant.call
    if (
        call is None
        or dependant.dependencies
        or not inspect.iscoroutinefunction(call)  # a generator or a plain `def`
        or (websocket and (dependant.request_param_name or dependant.websocket_param_name))
    ):
        raise _NotFlat
    return _Step(dependant.name, call, _request_param(dependant), dependant.use_cache)


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    try:
        returned = typing.get_type_hints(endpoint).get("return")
    except Exception:  # an annotation that cannot be resolved: FastAPI's path then
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


def _direct(context: Any, router: object) -> DirectRoute | None:
    route = context.original_route
    dependant: Dependant | None = getattr(context, "dependant", None)
    path = context.path_format
    websocket = isinstance(route, APIWebSocketRoute)
    if (
        not isinstance(route, (APIRoute, APIWebSocketRoute))
        or dependant is None
        or not isinstance(path, str)
        or "{" in path
        or getattr(context, "body_field", None) is not None
        or not inspect.iscoroutinefunction(route.endpoint)
        or not (websocket or _returns_response(route.endpoint))
    ):
        return None
    try:
        request_param = _request_param(dependant, websocket=websocket)
        steps = tuple(_flat_step(d, websocket=websocket) for d in dependant.dependencies)
    except _NotFlat:
        return None
    return DirectRoute(route, path, steps, request_param, router)


def _first_full_match(app: FastAPI, method: str, path: str) -> object | None:
    """The route FastAPI would serve `method path` (`WEBSOCKET`: a handshake) with: the
    first that fully matches, in the order its loop tries them."""
    websocket = method == WEBSOCKET
    scope: Scope = {
        "type": "websocket" if websocket else "http",
        "path": path,
        "method": method,
        "root_path": "",
    }
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        regex = getattr(context, "path_regex", None)
        if isinstance(route, (APIRoute, APIWebSocketRoute)) and regex is not None:
            # (Matched by their effective context: the path with every prefix.)
            if isinstance(route, APIWebSocketRoute) != websocket or not regex.match(path):
                continue
            if websocket or method in (context.methods or ()):
                return route
            continue
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return route
    return None


def find(app: FastAPI) -> dict[tuple[str, str], DirectRoute]:
    """Every (method, path) of `app` that can be served directly (see the module)."""
    found: dict[tuple[str, str], DirectRoute] = {}
    for context in iter_route_contexts(app.router.routes):
        direct = _direct(context, app.router)
        if direct is None:
            continue
        path = direct.path
        methods: set[str] = {WEBSOCKET} if direct.websocket else (context.methods or set())
        for method in methods:
            # Only where FastAPI's own loop would pick this very route (nothing before it
            # matches the same request).
            if (method, path) not in found and _first_full_match(app, method, path) is (
                direct.route
            ):
                found[method, path] = direct
    return found
