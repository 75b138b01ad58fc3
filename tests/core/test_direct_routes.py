"""core.direct_routes: the routes FastAPI would only hand the request to (and a JSON body)
are served without its request machinery, and answer exactly as FastAPI's own handling of
them does, on both databases; anything else (a route with path or non-flat parameters, a
dependency override, a shadowing route) is left to FastAPI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from everything_app.app import create_app
from everything_app.auth import require_account
from everything_app.auth.credentials import UserSnapshot
from everything_app.core.route_index import RouteIndex
from everything_app.core.routers import PUBLIC
from tests.conftest import (
    BASE_URL,
    PASSWORD,
    ClientFactory,
    asgi_client,
    fastapi_only,
    make_settings,
    sign_up,
)

# Headers that differ between any two responses, whoever serves them.
VOLATILE = {"x-request-id", "date"}


def _index(app: FastAPI) -> RouteIndex:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    return index


def _shape(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    return response.status_code, headers, response.content


async def _both(
    app: FastAPI, client: httpx.AsyncClient, method: str, url: str, **kwargs: object
) -> tuple[httpx.Response, httpx.Response]:
    """The same request served directly, then by FastAPI."""
    direct = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    with fastapi_only(app):
        theirs = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    return direct, theirs


def test_the_hot_reads_are_served_directly(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path))
    direct = _index(app).direct
    assert {("GET", "/api/auth/get-session"), ("GET", "/api/tasks")} <= direct.keys()
    # A path parameter: FastAPI reads and validates those.
    assert not any("{" in path for _, path in direct)
    # A route returning data for FastAPI to serialise is FastAPI's too.
    assert ("GET", "/healthz") not in direct


def test_with_opentelemetry_on_fastapi_serves_every_route(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path, opentelemetry=True)
    assert _index(create_app(settings)).direct == {}


async def test_a_session_check_answers_as_fastapi_does(
    app: FastAPI, new_client: ClientFactory
) -> None:
    anonymous = new_client()
    direct, theirs = await _both(app, anonymous, "GET", "/api/auth/get-session")
    assert direct.json() is None
    assert _shape(direct) == _shape(theirs)

    client = new_client()
    token = (await sign_up(client))["token"]
    direct, theirs = await _both(app, client, "GET", "/api/auth/get-session")
    assert direct.json()["user"]["email"]
    assert _shape(direct) == _shape(theirs)

    bearer = asgi_client(app, origin=None)
    headers = {"Authorization": f"Bearer {token}"}
    direct, theirs = await _both(app, bearer, "GET", "/api/auth/get-session", headers=headers)
    assert direct.json()["session"]["token"] == token
    assert _shape(direct) == _shape(theirs)

    # A cookie sent from another origin; a credential in the URL (refused).
    foreign = asgi_client(app, origin="https://evil.example")
    foreign.cookies = client.cookies
    direct, theirs = await _both(app, foreign, "GET", "/api/auth/get-session")
    assert _shape(direct) == _shape(theirs)
    direct, theirs = await _both(app, client, "GET", f"/api/auth/get-session?token={token}")
    assert direct.status_code == 400
    assert _shape(direct) == _shape(theirs)
    await bearer.aclose()
    await foreign.aclose()


async def test_a_list_answers_as_fastapi_does(app: FastAPI, new_client: ClientFactory) -> None:
    client = new_client()
    await sign_up(client)
    for i in range(5):
        created = await client.post("/api/tasks", json={"title": f"task {i}"})
        assert created.status_code == 201

    first, theirs = await _both(app, client, "GET", "/api/tasks?limit=2")
    assert len(first.json()["data"]) == 2
    assert _shape(first) == _shape(theirs)
    cursor = first.json()["next_cursor"]
    for url in (
        f"/api/tasks?limit=2&cursor={cursor}",  # the next page
        "/api/tasks?is_complete=false",  # a filter
        "/api/tasks?cursor=garbage",  # a bad cursor
        "/api/tasks?limit=0",  # a 422
        "/api/tasks?limit=1&limit=2",  # a repeated scalar
        "/api/tasks?colour=red",  # an unknown parameter
    ):
        direct, theirs = await _both(app, client, "GET", url)
        assert _shape(direct) == _shape(theirs), url

    # Anonymous: the 401 comes before anything the query says, on both paths.
    anonymous = new_client()
    direct, theirs = await _both(app, anonymous, "GET", "/api/tasks?limit=0&colour=red")
    assert direct.status_code == 401
    assert _shape(direct) == _shape(theirs)

    # Another user sees none of the rows.
    other = new_client()
    await sign_up(other)
    direct, theirs = await _both(app, other, "GET", "/api/tasks")
    assert direct.json()["data"] == []
    assert _shape(direct) == _shape(theirs)


NAMES = st.sampled_from(["limit", "cursor", "sort", "is_complete", "due_from", "due_to", "x"])
VALUES = st.one_of(
    st.sampled_from(["0", "1", "50", "201", "true", "maybe", "-created_at", "2026-01-02", ""]),
    st.text(max_size=6),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.lists(st.tuples(NAMES, VALUES), max_size=4))
@example(params=[("limit", "2"), ("sort", "created_at")])
async def test_any_list_query_is_answered_as_fastapi_answers_it(
    signed_in_tasks: httpx.AsyncClient, app: FastAPI, params: list[tuple[str, str]]
) -> None:
    direct, theirs = await _both(app, signed_in_tasks, "GET", f"/api/tasks?{urlencode(params)}")
    assert _shape(direct) == _shape(theirs)


@pytest.fixture
async def signed_in_tasks(new_client: ClientFactory) -> httpx.AsyncClient:
    client = new_client()
    await sign_up(client)
    for i in range(3):
        assert (await client.post("/api/tasks", json={"title": f"t{i}"})).status_code == 201
    return client


async def test_a_dependency_override_is_honoured(app: FastAPI, new_client: ClientFactory) -> None:
    someone = UserSnapshot(
        id=uuid.uuid4(),
        email="someone@example.com",
        name="Someone",
        role="user",
        email_verified=True,
        image=None,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )

    async def pretend(request: Request) -> UserSnapshot:
        return someone

    anonymous = new_client()
    assert (await anonymous.get("/api/tasks")).status_code == 401
    app.dependency_overrides[require_account] = pretend
    try:
        # FastAPI serves it, override and all: past the override, the list of nobody's rows.
        response = await anonymous.get("/api/tasks")
    finally:
        app.dependency_overrides.pop(require_account)
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert (await anonymous.get("/api/tasks")).status_code == 401  # served directly again

    # Overrides given as a new dict, not added to the app's own: honoured all the same.
    kept = app.dependency_overrides
    app.dependency_overrides = {require_account: pretend}
    try:
        response = await anonymous.get("/api/tasks")
    finally:
        app.dependency_overrides = kept
    assert response.status_code == 200


async def test_a_route_shadowing_another_keeps_fastapis_choice(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/api/{anything}", dependencies=[PUBLIC])
    async def first(anything: str) -> dict[str, str]:
        return {"served_by": "first"}

    @app.get("/api/thing", dependencies=[PUBLIC])
    async def second(request: Request) -> Response:
        return Response(b'{"served_by": "second"}', media_type="application/json")

    @app.get("/other/alone", dependencies=[PUBLIC])
    async def alone(request: Request) -> Response:
        return Response(b'{"served_by": "alone"}', media_type="application/json")

    from everything_app.core import route_index

    route_index.install(app)
    assert set(_index(app).direct) == {("GET", "/other/alone")}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        assert (await client.get("/api/thing")).json() == {"served_by": "first"}
        assert (await client.get("/other/alone")).json() == {"served_by": "alone"}


def test_writes_with_a_json_body_are_served_directly(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path))
    direct = _index(app).direct
    expected = {("POST", "/api/tasks"), ("POST", "/api/auth/sign-in/email")}
    assert expected | {("POST", "/v1/chat/completions")} <= direct.keys()


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], object]:
    """A response as both paths must give it: a created row's own values (its id, its
    times) differ between two creations, so a 201 is compared by what was sent back."""
    status, headers, content = _shape(response)
    if status != 201:
        return status, headers, content
    row = response.json()
    headers.pop("content-length", None)
    return status, headers, {k: v for k, v in row.items() if not k.endswith(("id", "_at"))}


BODIES: list[tuple[str | None, bytes]] = [
    ("application/json", b'{"title": "direct"}'),
    ("application/json", b'{"title": "direct", "due_date": "2026-12-24T10:00:00Z"}'),
    ("application/json", b'{"title": ""}'),  # too short
    ("application/json", b'{"title": "x", "colour": "red"}'),  # an unknown field
    ("application/json", b'{"title": '),  # not JSON
    ("application/json", b'{"title": "\xff"}'),  # not UTF-8
    ("application/json", b"[1, 2]"),  # not an object
    ("application/json", b""),  # empty
    ("application/json", b"[" * 200 + b"]" * 200),  # too deep
    ("application/json; charset=utf-8", b'{"title": "charset"}'),
    ("application/merge-patch+json", b'{"title": "suffix"}'),
    ("text/plain", b'{"title": "plain"}'),
    ("APPLICATION/JSON", b'{"title": "upper case"}'),
    ('application/json; charset="utf-8"; x=y', b'{"title": "parameters"}'),
    ("application/json garbage", b'{"title": "not a media type"}'),
    ("application", b'{"title": "no subtype"}'),
    ("", b'{"title": "empty type"}'),  # FastAPI reads an empty header as none
    (None, b'{"title": "no type"}'),
]


@pytest.mark.parametrize(("content_type", "body"), BODIES)
async def test_a_create_answers_as_fastapi_does(
    app: FastAPI, new_client: ClientFactory, content_type: str | None, body: bytes
) -> None:
    client = new_client()
    await sign_up(client)
    headers = {"content-type": content_type} if content_type is not None else {}
    direct, theirs = await _both(app, client, "POST", "/api/tasks", content=body, headers=headers)
    assert _comparable(direct) == _comparable(theirs)
    # Anonymous: what FastAPI decides first (the JSON's syntax, then who is asking) stays so.
    anonymous = new_client()
    direct, theirs = await _both(
        app, anonymous, "POST", "/api/tasks", content=body, headers=headers
    )
    assert _shape(direct) == _shape(theirs)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["title", "is_complete", "due_date", "x"]),
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
            max_size=4,
        ),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=6),
    )
)
async def test_any_json_body_is_answered_as_fastapi_answers_it(
    signed_in_tasks: httpx.AsyncClient, app: FastAPI, body: object
) -> None:
    direct, theirs = await _both(app, signed_in_tasks, "POST", "/api/tasks", json=body)
    assert _comparable(direct) == _comparable(theirs)


async def test_a_sign_in_answers_as_fastapi_does(app: FastAPI, new_client: ClientFactory) -> None:
    client = new_client()
    email = (await sign_up(client))["user"]["email"]
    wrong = {"email": email, "password": "not the password"}
    direct, theirs = await _both(app, new_client(), "POST", "/api/auth/sign-in/email", json=wrong)
    assert direct.status_code == 401
    assert _shape(direct) == _shape(theirs)
    right = {"email": email, "password": PASSWORD}
    direct, theirs = await _both(app, new_client(), "POST", "/api/auth/sign-in/email", json=right)
    assert (direct.status_code, theirs.status_code) == (200, 200)
    assert direct.json()["user"] == theirs.json()["user"]
