"""Find a request's route among the few that can serve its path's first two segments.

FastAPI (0.165) keeps each included router as one nested route and matches a request against
every route of every router before the one that serves it, then once more inside that router
to handle it: finding `GET /api/tasks` cost ~140 µs, 5 % of the request. The index narrows
the first pass to the top-level routes whose paths can begin with the request's first two
segments (`api/tasks`, `v1/chat`…), in their order, so the first full match is the one
FastAPI's own loop would find: a route earlier in the list that could match the path has
the same literal segments there, or a parameter, and is among the candidates either way.

A route FastAPI would only hand the request to (`core.direct_routes`) is served directly,
without FastAPI's request handling, when the request names its path exactly and no
dependency override is in force.

Everything else — no full match (404, 405, a redirect for a trailing slash, the app's
client-route fallback), a `root_path` deployment, lifespan — goes to FastAPI's own dispatch,
unchanged. A route added after `install` is found there too: it comes after every indexed
route, so it could not have won the first pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.convertors import PathConvertor
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from everything_app.core import direct_routes
from everything_app.core.direct_routes import DirectRoute

_ANY = "{"  # a segment that is a parameter: matches whatever the request has there
_OTHER = "/"  # a request's segment that no route names literally (no segment contains "/")
_FASTAPI_SCOPE = "fastapi"


def path_key(path: str) -> tuple[str, str]:
    """The first two segments: `/api/tasks/{id}` -> (`api`, `tasks`), `/` -> (``, ``),
    a parameter -> `{` (the route matches any segment there; a `:path` one, from there on)."""
    first, _, rest = path[1:].partition("/")
    if ":path}" in first:  # a path parameter spans the segments after it too
        return (_ANY, _ANY)
    second = rest.partition("/")[0]
    return (_ANY if "{" in first else first, _ANY if "{" in second else second)


def _keys(route: BaseRoute) -> set[tuple[str, str]]:
    """The keys `route`'s paths have (an included router: every one of its routes')."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts([route]):
        path = context.path_format
        if not isinstance(path, str) or not path:
            found.add((_ANY, _ANY))
            continue
        # The format drops a parameter's convertor (`{rest:path}` is `{rest}` there).
        for name, convertor in (getattr(context, "param_convertors", None) or {}).items():
            if isinstance(convertor, PathConvertor):
                path = path.replace(f"{{{name}}}", f"{{{name}:path}}")
        found.add(path_key(path))
    return found or {(_ANY, _ANY)}


def _could_match(keys: set[tuple[str, str]], first: str, second: str) -> bool:
    return any(a in (first, _ANY) and b in (second, _ANY) for a, b in keys)


class RouteIndex:
    """The app's router's dispatch, its first pass narrowed by the path's first segments."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        fallback: ASGIApp,
        router: object,
        *,
        direct: Mapping[tuple[str, str], DirectRoute] | None = None,
        overrides_provider: Any = None,
    ) -> None:
        self.fallback = fallback
        self.router = router
        self.direct = dict(direct or {})
        # What holds the dependency overrides (the app), read on each request as FastAPI
        # reads it: while any override is set, FastAPI serves every route, honouring it.
        self._overrides_provider = overrides_provider
        keyed = [(route, _keys(route)) for route in routes]
        every = set().union(*(keys for _, keys in keyed)) if keyed else set()
        self.firsts = {a for a, _ in every} - {_ANY}
        self.seconds = {b for _, b in every} - {_ANY}
        # Every (first, second) a request can be reduced to, with the routes that could match
        # it, in the app's order: a superset never changes which route matches first.
        self.candidates: dict[tuple[str, str], tuple[BaseRoute, ...]] = {
            (first, second): tuple(r for r, keys in keyed if _could_match(keys, first, second))
            for first in (*self.firsts, _OTHER)
            for second in (*self.seconds, _OTHER)
        }

    def select(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route FastAPI's loop would find fully matching `scope`, and its child scope;
        None where its own dispatch must decide (no full match, a `root_path`)."""
        if scope.get("root_path"):
            return None
        first, _, rest = scope["path"][1:].partition("/")
        second = rest.partition("/")[0]  # a request's segments are literal, braces or not
        first = first if first in self.firsts else _OTHER
        second = second if second in self.seconds else _OTHER
        for route in self.candidates[first, second]:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                # (A child scope carrying FastAPI's own state is merged by its own loop.)
                return None if _FASTAPI_SCOPE in child_scope else (route, child_scope)
        return None

    def _overridden(self) -> bool:
        provider = self._overrides_provider
        return provider is not None and bool(getattr(provider, "dependency_overrides", None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "lifespan" and not self._overridden() and not scope.get("root_path"):
            method = scope["method"] if kind == "http" else direct_routes.WEBSOCKET
            direct = self.direct.get((method, scope["path"]))
            if direct is not None:
                await direct(scope, receive, send)
                return
        found = self.select(scope) if scope["type"] in ("http", "websocket") else None
        if found is None:
            await self.fallback(scope, receive, send)
            return
        # What FastAPI's own loop does with a full match (fastapi.routing's APIRouter.app):
        # remember the router, take the route's scope, handle.
        route, child_scope = found
        scope.setdefault("router", self.router)
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def install(app: FastAPI, *, serve_directly: bool = True) -> None:
    """Index `app`'s routes as they stand; call once every router is included.
    `serve_directly`: serve the routes that allow it without FastAPI's request handling
    (off while OpenTelemetry, which records the route FastAPI selects, is on)."""
    router = app.router
    router.middleware_stack = RouteIndex(
        router.routes,
        router.app,
        router,
        direct=direct_routes.find(app) if serve_directly else None,
        overrides_provider=app,
    )
