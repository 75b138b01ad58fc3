"""Crafted inputs get a clear 4xx in the path's error shape, never a 500 (issue 11): forged
cursors on every keyset list, timestamps at the edges of the range in every date field and
filter, JSON nested too deeply, integers too large for their columns, unknown query
parameters, and one written form for every timestamp the API answers with. Both databases.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import PASSWORD, SignedIn, sign_up, unique_email
from tests.reservations.conftest import fix_clock, promote


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ROW = str(uuid.uuid4())
FORGED_CURSORS = {
    "integer id": b64(["2030-01-01T00:00:00+00:00", 5]),
    "integer time": b64([1893456000, ROW]),
    "naive time": b64(["2030-01-01T00:00:00", ROW]),
    "year 1 with offset": b64(["0001-01-01T00:00:00+14:00", ROW]),
    "year 9999 with offset": b64(["9999-12-31T23:59:59-14:00", ROW]),
    "nested json": b64(json.loads("[" * 150 + "]" * 150)),
    "deeply nested json": b64(json.loads("[" * 900 + "]" * 900)),
    "one item": b64(["2030-01-01T00:00:00+00:00"]),
    "three items": b64(["2030-01-01T00:00:00+00:00", ROW, ROW]),
    "object": b64({"t": "2030-01-01T00:00:00+00:00", "id": ROW}),
    "not a uuid": b64(["2030-01-01T00:00:00+00:00", "x" * 36]),
    "not a time": b64(["yesterday", ROW]),
    "huge number": b64(["2030-01-01T00:00:00+00:00", 10**400]),
    "not utf-8": b64(b"\xff\xfe\xfd"),
    "not base64": "!!not*base64!!",
    "bad padding": "A",
    "huge": "A" * 5000,
}

EDGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "1899-12-31T23:59:59Z",
    "9000-01-01T00:00:00Z",
]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT")
WRITTEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int) -> str:
    """JSON text nested `depth` levels (json.dumps itself would hit the recursion limit)."""
    return "[" * depth + '"x"' + "]" * depth


def body_with(field: str, depth: int, **others: Any) -> str:
    rest = "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in others.items())
    return f"{{{json.dumps(field)}: {deep_text(depth)}{rest}}}"


async def _chat_session(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/chat", json={"message": "hello", "stream": False})
    assert response.status_code == 200, response.text
    session_id: str = response.json()["session_id"]
    return session_id


async def _service(app: FastAPI, admin: httpx.AsyncClient) -> str:
    await promote(app, admin)
    response = await admin.post(
        "/api/services", json={"name": "Desk", "duration_minutes": 60, "capacity": 2}
    )
    assert response.status_code == 201, response.text
    service_id: str = response.json()["id"]
    return service_id


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    if "error" in body:
        code: str = body["error"]["code"]
        assert isinstance(body["error"]["details"], list)
        return code
    return str(body["code"]).lower()  # better-auth's shape


async def test_forged_cursors_are_400_invalid_cursor_on_every_list(
    signed_in: SignedIn, app: FastAPI
) -> None:
    client = await signed_in()
    session_id = await _chat_session(client)
    await _service(app, client)
    lists = [
        ("/api/events", {}),
        ("/api/tasks", {}),
        ("/api/expenses", {}),
        ("/api/events", {"sort": "-start_time"}),
        ("/api/keys", {}),
        ("/api/chat/sessions", {}),
        ("/api/chat/messages", {"sessionId": session_id}),
        ("/api/services", {}),
        ("/api/reservations", {}),
    ]
    wrong: list[tuple[Any, ...]] = []
    for name, cursor in FORGED_CURSORS.items():
        for path, params in lists:
            response = await client.get(path, params={**params, "cursor": cursor})
            if response.status_code != 400 or _error_code(response) != "invalid_cursor":
                wrong.append((path, name, response.status_code, response.text[:200]))
        history = await client.get("/api/chat/history", params={"before": cursor})
        if history.status_code != 400 or _error_code(history) != "invalid_cursor":
            wrong.append(("history?before=", name, history.status_code, history.text[:200]))
    assert wrong == []


async def test_a_real_cursor_still_pages(signed_in: SignedIn) -> None:
    client = await signed_in()
    for title in ("a", "b", "c"):
        assert (await client.post("/api/tasks", json={"title": title})).status_code == 201
    first = (await client.get("/api/tasks", params={"limit": 2})).json()
    second = await client.get("/api/tasks", params={"limit": 2, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    titles = [t["title"] for t in first["data"] + second.json()["data"]]
    assert sorted(titles) == ["a", "b", "c"]
    assert second.json()["next_cursor"] is None


async def test_timestamps_at_the_edges_are_422_in_every_date_field_and_filter(
    signed_in: SignedIn, app: FastAPI
) -> None:
    client = await signed_in()
    service_id = await _service(app, client)
    task = (await client.post("/api/tasks", json={"title": "t"})).json()
    ok = "2030-01-01T10:00:00Z"
    wrong: list[tuple[Any, ...]] = []
    for edge in EDGE_TIMES:
        writes: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/api/events", {"title": "e", "start_time": edge, "end_time": ok}),
            ("POST", "/api/events", {"title": "e", "start_time": ok, "end_time": edge}),
            ("POST", "/api/tasks", {"title": "t", "due_date": edge}),
            ("PATCH", f"/api/tasks/{task['id']}", {"due_date": edge}),
            ("POST", "/api/expenses", {"amount": "1.00", "category": "c", "incurred_at": edge}),
            ("POST", "/api/reservations", {"service_id": service_id, "time_slot": edge}),
        ]
        for method, path, body in writes:
            response = await client.request(method, path, json=body)
            if response.status_code != 422 or _error_code(response) != "validation_error":
                wrong.append((method, path, edge, response.status_code, response.text[:200]))
        reads = [
            ("/api/events", {"from": edge}),
            ("/api/events", {"to": edge}),
            ("/api/tasks", {"due_from": edge}),
            ("/api/tasks", {"due_to": edge}),
            ("/api/expenses", {"from": edge}),
            ("/api/expenses", {"to": edge}),
            ("/api/usage", {"start": edge}),
            ("/api/usage", {"end": edge}),
            ("/api/usage", {"end": edge.removesuffix("Z")[:19]}),  # zone-less reads as UTC
        ]
        for path, params in reads:
            response = await client.get(path, params=params)
            if response.status_code != 422 or _error_code(response) != "validation_error":
                wrong.append(("GET", path, params, response.status_code, response.text[:200]))
        history = await client.get("/api/chat/history", params={"before": edge})
        if history.status_code != 400 or _error_code(history) != "invalid_before":
            wrong.append(("GET", "history", edge, history.status_code, history.text[:200]))
    for day, tz in (("9999-12-31", "Etc/GMT+12"), ("0001-01-01", "Etc/GMT-14")):
        for path in ("/api/reservations", f"/api/services/{service_id}/availability"):
            response = await client.get(path, params={"date": day, "tz": tz})
            if response.status_code != 422 or _error_code(response) != "validation_error":
                wrong.append(("GET", path, day, response.status_code, response.text[:200]))
    assert wrong == []


async def test_timestamps_inside_the_range_are_accepted(signed_in: SignedIn) -> None:
    client = await signed_in()
    for start, end in (
        ("1900-01-01T00:00:00Z", "1900-01-01T01:00:00Z"),
        ("8999-12-31T10:00:00+14:00", "8999-12-31T23:59:59.999999Z"),
    ):
        response = await client.post(
            "/api/events", json={"title": "edge", "start_time": start, "end_time": end}
        )
        assert response.status_code == 201, response.text
        listed = await client.get("/api/events", params={"from": start, "to": end})
        assert listed.status_code == 200
        assert [e["title"] for e in listed.json()["data"]] == ["edge"]
        await client.delete(f"/api/events/{response.json()['id']}")
    day = await client.get("/api/reservations", params={"date": "8999-12-31", "tz": "Etc/GMT+12"})
    assert day.status_code == 200


async def test_deep_json_is_refused_before_validation_in_each_paths_shape(
    signed_in: SignedIn, new_client: Any
) -> None:
    client = await signed_in()
    anonymous = new_client()
    cases: list[tuple[httpx.AsyncClient, str, str]] = [
        (anonymous, "/api/auth/sign-in/email", body_with("email", 950, password=PASSWORD)),
        (client, "/api/tasks", body_with("title", 950)),
        (client, "/api/chat", body_with("extra", 950, message="hi")),
        (client, "/api/events", body_with("title", 65)),
    ]
    headers = {"Content-Type": "application/json"}
    for who, path, body in cases:
        response = await who.post(path, content=body, headers=headers)
        assert response.status_code == 400, (path, response.text[:300])
        if path.startswith("/api/auth"):
            assert response.json()["code"] == "JSON_TOO_DEEP"
        else:
            assert response.json()["error"]["code"] == "json_too_deep"
    # OpenAI's shape on the gateway, before authentication is even looked at.
    gateway = await anonymous.post(
        "/v1/chat/completions", content=body_with("messages", 950, model="offline"), headers=headers
    )
    assert gateway.status_code == 400
    assert gateway.json()["error"]["code"] == "json_too_deep"
    # Within the limit the body reaches validation as usual.
    within = await client.post("/api/tasks", json={"title": nested(63)})
    assert within.status_code == 422
    assert within.json()["error"]["code"] == "validation_error"
    # Brackets inside strings are text, not nesting.
    text = await client.post("/api/tasks", json={"title": "[" * 150})
    assert text.status_code == 201


async def test_integers_beyond_their_columns_are_422(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    service_id = await _service(app, client)
    huge = 2**70
    wrong: list[tuple[Any, ...]] = []
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("/api/services", {"name": "s", "duration_minutes": huge}),
        ("/api/services", {"name": "s", "duration_minutes": 30, "capacity": huge}),
        ("/api/expenses", {"amount": str(huge), "category": "c"}),
        ("/api/expenses", {"amount": huge, "category": "c"}),
        ("/api/keys", {"name": "k", "expires_in_days": huge}),
        ("/api/chat", {"message": "hi", "max_tokens": huge, "stream": False}),
    ]
    for path, body in bodies:
        response = await client.post(path, json=body)
        if response.status_code != 422:
            wrong.append((path, body, response.status_code, response.text[:200]))
    for path in ("/api/tasks", "/api/keys", "/api/chat/sessions", f"/api/queues/{service_id}"):
        response = await client.get(path, params={"limit": huge})
        if response.status_code != 422:
            wrong.append((path, "limit", response.status_code, response.text[:200]))
    key = (await client.post("/api/keys", json={"name": "gateway"})).json()["key"]
    gateway = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": "offline",
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": huge,
        },
    )
    if gateway.status_code != 400 or gateway.json()["error"]["param"] != "max_tokens":
        wrong.append(("/v1/chat/completions", "max_tokens", gateway.status_code, gateway.text))
    assert wrong == []


async def test_unknown_query_parameters_are_422_on_every_list(
    signed_in: SignedIn, app: FastAPI
) -> None:
    fix_clock(app)  # reservations' now: a Monday in 2030
    client = await signed_in()
    session_id = await _chat_session(client)
    service_id = await _service(app, client)
    lists: list[tuple[str, dict[str, str]]] = [
        ("/api/events", {}),
        ("/api/tasks", {}),
        ("/api/expenses", {}),
        ("/api/dashboard", {}),
        ("/api/keys", {}),
        ("/api/models", {}),
        ("/api/chat/sessions", {}),
        ("/api/chat/messages", {"sessionId": session_id}),
        ("/api/chat/history", {}),
        ("/api/services", {}),
        ("/api/reservations", {"date": "2030-01-07", "tz": "Europe/Paris"}),
        (f"/api/services/{service_id}/availability", {"date": "2030-01-07"}),
        (f"/api/queues/{service_id}", {}),
        ("/api/usage", {"start": "2020-01-01T00:00:00Z"}),
    ]
    wrong: list[tuple[Any, ...]] = []
    for path, params in lists:
        known = await client.get(path, params=params)
        unknown = await client.get(path, params={**params, "categroy": "food"})
        error = unknown.json().get("error", {})
        if (
            known.status_code != 200
            or unknown.status_code != 422
            or error.get("details", [{}])[0].get("loc") != ["query", "categroy"]
        ):
            wrong.append((path, known.status_code, unknown.status_code, unknown.text[:200]))
    assert wrong == []


def _timestamps(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
        elif isinstance(current, str) and TIMESTAMP.match(current):
            yield current


async def test_every_timestamp_is_written_in_one_form(
    signed_in: SignedIn, new_client: Any, app: FastAPI
) -> None:
    fix_clock(app)  # a Monday in 2030, an hour before the service opens
    client = new_client()
    signed_up = await sign_up(client, unique_email("stamps"))
    service_id = await _service(app, client)
    key = (await client.post("/api/keys", json={"name": "k", "expires_in_days": 3})).json()
    session_id = await _chat_session(client)
    created = [
        signed_up,
        key,
        (await client.post("/api/auth/sign-in/email", json={
            "email": signed_up["user"]["email"], "password": PASSWORD,
        })).json(),
        (await client.post("/api/events", json={
            "title": "e", "start_time": "2030-01-01T10:00:00+02:00",
            "end_time": "2030-01-01T11:00:00.5+02:00",
        })).json(),
        (await client.post("/api/tasks", json={
            "title": "t", "due_date": "2030-01-02T00:00:00-05:00",
        })).json(),
        (await client.post("/api/expenses", json={"amount": "2", "category": "c"})).json(),
        (await client.post("/api/reservations", json={
            "service_id": service_id, "time_slot": "2030-01-07T10:00:00+00:00",
        })).json(),
    ]  # fmt: skip
    reads = [
        "/api/auth/get-session",
        "/api/auth/list-sessions",
        "/api/keys",
        "/api/chat/sessions",
        f"/api/chat/messages?sessionId={session_id}",
        "/api/chat/history",
        "/api/events",
        "/api/tasks",
        "/api/expenses",
        "/api/dashboard",
        "/api/services",
        f"/api/services/{service_id}/availability?date=2030-01-07",
        "/api/reservations",
        "/api/usage",
    ]
    answers = created + [(await client.get(path)).json() for path in reads]
    bearer = new_client()
    bearer.headers["Authorization"] = f"Bearer {key['key']}"
    answers.append((await bearer.get("/api/auth/get-session")).json())  # an API key's view
    seen = [stamp for answer in answers for stamp in _timestamps(answer)]
    assert len(seen) > 40
    assert [stamp for stamp in seen if not WRITTEN.match(stamp)] == []
