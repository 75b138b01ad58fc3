"""A second user probing every id-bearing route of every feature with the first user's ids
gets nothing: no 2xx, no data, and the first user's rows are unchanged.

The routes come from the OpenAPI schema, so a new route with an id in its path is covered
without touching this test.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from everything_app.core.db import unit_of_work
from everything_app.notifications import notify
from tests.conftest import SignedIn

pytestmark = pytest.mark.slow  # every route, twice over

SECRET_TEXT = "only-for-alice-7f3a"
# 204 is "nothing is streaming in that chat": an answer with no data.
HARMLESS = {204, 400, 401, 403, 404, 405, 409, 422}


async def _alices_ids(app: FastAPI, alice: httpx.AsyncClient) -> dict[str, str]:
    ids = {"key": (await alice.post("/api/keys", json={"name": SECRET_TEXT})).json()["id"]}
    me = uuid.UUID((await alice.get("/api/auth/get-session")).json()["user"]["id"])
    async with unit_of_work(app.state.sessionmaker, write=True, user_id=me) as db:
        ids["notification"] = str((await notify(db, me, "test", SECRET_TEXT, SECRET_TEXT)).id)
    chat = await alice.post("/api/chat", json={"message": SECRET_TEXT, "stream": False})
    ids["chat"] = chat.json()["session_id"]
    ids["message"] = chat.json()["message_id"]
    bodies = {
        "events": {
            "title": SECRET_TEXT,
            "start_time": "2030-01-01T10:00:00Z",
            "end_time": "2030-01-01T11:00:00Z",
        },
        "tasks": {"title": SECRET_TEXT},
        "expenses": {"amount": "9.99", "category": SECRET_TEXT[:40]},
    }
    for path, body in bodies.items():
        response = await alice.post(f"/api/{path}", json=body)
        assert response.status_code == 201, response.text
        ids[path] = response.json()["id"]
    return ids


async def test_second_user_gets_nothing_from_any_id_route(
    signed_in: SignedIn, app: FastAPI
) -> None:
    alice, bob = await signed_in(), await signed_in()
    ids = await _alices_ids(app, alice)
    before = {
        path: (await alice.get(f"/api/{path}")).json()
        for path in ("keys", "tasks", "events", "expenses", "notifications")
    }
    schema = (await bob.get("/openapi.json")).json()
    probed = 0
    for template, operations in schema["paths"].items():
        if "{" not in template:
            continue
        for method in operations:
            for value in ids.values():
                path = re.sub(r"\{[^}]+\}", value, template)
                body: dict[str, str] | None = {} if method in ("post", "patch", "put") else None
                response = await bob.request(method.upper(), path, json=body)
                probed += 1
                assert response.status_code in HARMLESS, (
                    f"{method.upper()} {path}: {response.status_code}"
                )
                assert SECRET_TEXT not in response.text, f"{method.upper()} {path} leaked data"
    assert probed > 50
    after = {
        path: (await alice.get(f"/api/{path}")).json()
        for path in ("keys", "tasks", "events", "expenses", "notifications")
    }
    assert after == before
    session = await alice.get(f"/api/chat/sessions/{ids['chat']}")
    assert session.status_code == 200
