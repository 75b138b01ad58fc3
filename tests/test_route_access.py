"""Every route the app serves carries its auth decision (core.routers): it is marked PUBLIC
(or SELF_AUTHENTICATED: the WebSocket that authenticates in its handshake), or it refuses an
anonymous caller. A route whose router forgot its auth dependency fails here."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from everything_app.core.routers import public, self_authenticated

# FastAPI's own schema route: data that documents the API, served to anyone (see app.py).
OPENAPI = "/openapi.json"
PARAMETER = re.compile(r"\{[^}]+\}")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str], set[Callable[..., Any]]]]:
    """(path, methods, every dependency called) of each route, as the app serves it."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if context.path == OPENAPI:
            continue
        assert isinstance(route, APIRoute | APIWebSocketRoute), f"unchecked route {route!r}"
        methods = set(getattr(context, "methods", None) or ()) - {"HEAD"}
        yield str(context.path), methods, set(_calls(context.dependant))


def test_the_walk_sees_every_kind_of_route(app: FastAPI) -> None:
    decisions = {path: calls for path, _, calls in _routes(app)}
    assert public in decisions["/api/auth/sign-in/email"]
    assert self_authenticated in decisions["/api/realtime"]
    assert public not in decisions["/api/keys"]
    assert len(decisions) > 50


async def test_every_route_not_marked_public_refuses_an_anonymous_caller(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    opened: list[str] = []
    for path, methods, calls in _routes(app):
        if public in calls:
            continue
        if not methods:  # a WebSocket: it must say how it authenticates
            assert self_authenticated in calls, f"WebSocket {path} has no auth decision"
            continue
        url = PARAMETER.sub(str(uuid.uuid4()), path)
        for method in sorted(methods):
            response = await client.request(method, url)
            if response.status_code != 401:
                opened.append(f"{method} {path}: {response.status_code}")
    assert opened == [], "routes neither marked PUBLIC nor refusing anonymous callers"


def _runs_inline(call: Callable[..., Any]) -> bool:
    function = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def test_every_endpoint_and_dependency_runs_on_the_event_loop(app: FastAPI) -> None:
    # FastAPI runs a plain `def` endpoint or dependency in its thread pool: a thread hop on
    # every request (the PUBLIC marker alone cost a session check a third of its req/s).
    in_threads = {
        f"{path}: {getattr(call, '__qualname__', call)}"
        for context in iter_route_contexts(app.routes)
        if context.path != OPENAPI
        for path in [str(context.path)]
        for call in (context.dependant.call, *_calls(context.dependant))
        if call is not None and not _runs_inline(call)
    }
    assert in_threads == set()
