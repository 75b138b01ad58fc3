"""core.route_index: the first pass over the app's routes, narrowed by the path's first two
segments, picks exactly the route FastAPI's own loop (every route, in order) would."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from everything_app.app import create_app
from everything_app.core.route_index import RouteIndex, install
from everything_app.core.routers import PUBLIC
from tests.conftest import make_settings

PARAMETER = re.compile(r"\{([^}:]+)(:[^}]+)?\}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    tmp = tmp_path_factory.mktemp("route-index")
    return create_app(make_settings(f"sqlite:///{tmp / 'unused.db'}", tmp))


def _index(app: FastAPI) -> RouteIndex:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    return index


def _linear(routes: list[BaseRoute], scope: Scope) -> BaseRoute | None:
    """FastAPI's own first pass: the first route that fully matches."""
    for route in routes:
        match, child_scope = route.matches(dict(scope))
        if match is Match.FULL:
            return None if "fastapi" in child_scope else route
    return None


def _scope(path: str, method: str, kind: str = "http") -> Scope:
    return {"type": kind, "path": path, "method": method, "root_path": "", "headers": []}


def _selected(index: RouteIndex, scope: Scope) -> BaseRoute | None:
    found = index.select(dict(scope))
    return None if found is None else found[0]


def _served_paths(app: FastAPI) -> Iterator[tuple[str, str]]:
    """A concrete path for each route the app serves (parameters filled in), its kind."""
    for context in iter_route_contexts(app.routes):
        path = context.path_format
        if not isinstance(path, str):
            continue
        concrete = PARAMETER.sub(lambda m: "a/b.js" if m[2] == ":path" else str(uuid.uuid4()), path)
        yield (
            concrete,
            "websocket" if "websocket" in type(context.original_route).__name__.lower() else "http",
        )


def test_every_route_is_found_as_fastapi_finds_it(app: FastAPI) -> None:
    index, routes = _index(app), app.router.routes
    checked = 0
    for path, kind in _served_paths(app):
        for method in METHODS:
            scope = _scope(path, method, kind)
            expected = _linear(routes, scope)
            assert _selected(index, scope) is expected, (method, path)
            checked += expected is not None
    assert checked > 100  # the app's routes were found, not only misses compared


def test_a_path_no_route_serves_is_left_to_fastapi(app: FastAPI) -> None:
    index = _index(app)
    for path in ("/api/nothing-here", "/api/tasks/", "/nowhere", "/"):
        scope = _scope(path, "GET")
        assert _selected(index, scope) is _linear(app.router.routes, scope)
    # A root_path deployment is FastAPI's to dispatch.
    assert index.select({**_scope("/api/tasks", "GET"), "root_path": "/prefix"}) is None


SEGMENT = st.sampled_from(["api", "v1", "tasks", "auth", "chat", "", "x", "assets", "{", "%2F"])


@settings(max_examples=300, deadline=None)
@given(
    segments=st.lists(SEGMENT | st.text(max_size=6), max_size=5),
    method=st.sampled_from(METHODS),
)
def test_any_path_is_dispatched_as_fastapi_would(
    app: FastAPI, segments: list[str], method: str
) -> None:
    scope = _scope("/" + "/".join(segments), method)
    assert _selected(_index(app), scope) is _linear(app.router.routes, scope)


def _overlapping() -> FastAPI:
    """Routes that shadow each other: a parameter first or second, literal and parameter
    siblings, two routers serving the same path, a mount, a WebSocket."""
    app = FastAPI()
    first, second, third = APIRouter(), APIRouter(prefix="/api"), APIRouter(prefix="/api/tasks")

    async def endpoint() -> None:
        return None

    second.add_api_route("/{thing}", endpoint, methods=["GET"], name="api-thing")
    second.add_api_route("/tasks", endpoint, methods=["POST"], name="api-tasks-post")
    third.add_api_route("", endpoint, methods=["GET", "POST"], name="tasks")
    third.add_api_route("/{row}", endpoint, methods=["GET"], name="task")
    first.add_api_route("/{page}/tasks", endpoint, methods=["GET"], name="page-tasks")
    app.include_router(first)
    app.include_router(second)
    app.include_router(third)
    app.add_api_route("/{anything:path}", endpoint, methods=["DELETE"], name="catch-all")
    app.add_api_websocket_route("/api/tasks/live", endpoint, name="live")
    app.mount("/files", FastAPI(), name="files")
    install(app)
    return app


OVERLAPPING = _overlapping()


@settings(max_examples=400, deadline=None)
@given(
    segments=st.lists(
        st.sampled_from(["api", "tasks", "files", "live", "x", "", "{", "a:path}", "{thing}"]),
        max_size=4,
    ),
    method=st.sampled_from(METHODS),
    kind=st.sampled_from(["http", "websocket"]),
)
@example(segments=["a:path}", "tasks"], method="GET", kind="http")  # braces in a request
@example(segments=["{thing}", "tasks"], method="GET", kind="http")
def test_shadowing_routes_are_found_in_fastapis_order(
    segments: list[str], method: str, kind: str
) -> None:
    scope = _scope("/" + "/".join(segments), method, kind)
    expected = _linear(OVERLAPPING.router.routes, scope)
    assert _selected(_index(OVERLAPPING), scope) is expected


async def test_a_route_added_later_is_still_served(tmp_path: Path) -> None:
    fresh = create_app(make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path))

    @fresh.get("/api/added-later", dependencies=[PUBLIC])
    async def added() -> dict[str, str]:
        return {"found": "yes"}

    assert _selected(_index(fresh), _scope("/api/added-later", "GET")) is None  # not indexed
    transport = httpx.ASGITransport(app=fresh)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/added-later")
    assert response.json() == {"found": "yes"}  # FastAPI's own loop found it
