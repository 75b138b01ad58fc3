"""Routes FastAPI would only hand the request to, served without its request machinery.

FastAPI (0.165) runs every request through several layers before the endpoint: the included
router's nested matching, the route's request-response wrapper with two exit stacks and its
own exception wrapper, the endpoint context it extracts for error messages, and
`solve_dependencies`, which re-derives each dependency's cache key, scope and kind on every
request. For a cached session check that was ~95 of its ~160 µs in the process, more than the
middleware stack and the route's own work together.

Most of our hot routes need none of it: their dependencies are "flat" (coroutines that take
only the request, see `auth.deps`, `core.params.QueryModel`, `core.db.SessionDep`) and their
endpoints return a finished `Response` (or are WebSockets). Such a route, at a literal path,
is served here: a JSON body read and parsed first, as FastAPI does; then its dependencies
awaited in FastAPI's order (router dependencies first, then the signature's, each call once
per request, as FastAPI caches them) inside the per-function exit stack FastAPI would give
them (the request's unit of work commits there, before the response is sent); the body
validated by FastAPI's own `request_body_to_args`; then the endpoint, then the response.
Errors propagate to the app's exception handlers exactly as from inside FastAPI's route.

The FastAPI route stays what documents the route and what serves every case this does not
(a dependency override, as tests use; a `root_path`; OpenTelemetry on, which records the
route FastAPI selects). `tests/core/test_direct_routes.py` holds both paths to the same
answers.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from pydantic_core import PydanticUndefined as Undefined  # FastAPI's "no body" value
from starlette.exceptions import HTTPException  # FastAPI's body reading uses Starlette's
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from everything_app.core.validation import is_json_media_type

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
        body: _Body | None = None,
    ) -> None:
        self.route = route
        self.websocket = isinstance(route, APIWebSocketRoute)
        self.path = path  # with every prefix it was included under
        self.endpoint = route.endpoint
        self._steps = steps
        self._request_param = request_param
        self._router = router
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What FastAPI's selection leaves on the scope that the app reads: the route (its
        # template for logs and metrics, its declared query names), endpoint and router.
        scope.setdefault("router", self._router)
        scope["route"] = self.route
        scope["endpoint"] = self.endpoint
        scope["path_params"] = {}
        request: Request | WebSocket
        received: Any = None
        body = self._body
        if self.websocket:
            request = WebSocket(scope, receive, send)
        else:
            request = Request(scope, receive, send)
            if body is not None:
                # As FastAPI: the body is read (its JSON parsed) before any dependency runs.
                received = await body.read(request)
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
            if body is not None:
                values.update(await body.validate(received))
            response = await self.endpoint(**values)
        if not self.websocket:  # a WebSocket endpoint has answered on the socket itself
            await response(scope, receive, send)


@dataclass(frozen=True, slots=True)
class _Body:
    """A JSON body parameter, read and validated as FastAPI's request handler does."""

    fields: list[Any]  # the dependant's body parameters (FastAPI's ModelFields)
    embed: bool
    strict_content_type: bool

    async def read(self, request: Request) -> Any:
        """The body as FastAPI hands it to validation: parsed JSON when it says it is JSON
        (or says nothing, unless the content type is strict), else the bytes; Undefined when
        empty. Invalid JSON is FastAPI's 422 `json_invalid`, located at the error."""
        try:
            raw = await request.body()
            if not raw:
                return Undefined
            content_type = request.headers.get("content-type")
            if not content_type:  # absent or empty, as FastAPI reads it
                return raw if self.strict_content_type else await request.json()
            if is_json_media_type(content_type):
                return await request.json()
            return raw
        except json.JSONDecodeError as error:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", error.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": error.msg},
                    }
                ],
                body=error.doc,
            ) from error
        except HTTPException:
            raise  # over the size or depth limit (core.middleware.BodyLimitMiddleware)
        except Exception as error:
            raise HTTPException(400, "There was an error parsing the body") from error

    async def validate(self, received: Any) -> dict[str, Any]:
        values, errors = await request_body_to_args(
            body_fields=self.fields, received_body=received, embed_body_fields=self.embed
        )
        if errors:
            raise RequestValidationError(errors, body=received)
        return values


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
        or dependant.body_params
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
        or not inspect.iscoroutinefunction(route.endpoint)
        or not (websocket or _returns_response(route.endpoint))
    ):
        return None
    try:
        request_param = _request_param(dependant, websocket=websocket)
        steps = tuple(_flat_step(d, websocket=websocket) for d in dependant.dependencies)
        body = _body(context, dependant)
    except _NotFlat:
        return None
    return DirectRoute(route, path, steps, request_param, router, body)


def _body(context: Any, dependant: Dependant) -> _Body | None:
    """The route's JSON body, if it takes one; `_NotFlat` for a form."""
    body_field = getattr(context, "body_field", None)
    if body_field is None:
        return None
    if isinstance(body_field.field_info, params.Form) or any(
        isinstance(field.field_info, params.Form) for field in dependant.body_params
    ):
        raise _NotFlat
    strict = context.strict_content_type
    return _Body(
        fields=list(dependant.body_params),
        embed=bool(context._embed_body_fields),
        strict_content_type=bool(
            strict.value if isinstance(strict, DefaultPlaceholder) else strict
        ),
    )


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
