"""Notifications: sent once per key, listed newest first a page at a time, marked read; only
ever the user's own."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from everything_app.core.db import unit_of_work
from everything_app.notifications import Notification, notify
from tests.conftest import SignedIn, privileged_db


async def _me(client: httpx.AsyncClient) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/auth/get-session")).json()["user"]["id"])


async def send(app: FastAPI, user_id: uuid.UUID, title: str, **options: Any) -> uuid.UUID:
    """A notification sent as a feature sends it: in a unit of work acting for the user."""
    async with unit_of_work(
        app.state.sessionmaker, write=True, user_id=user_id, bus=app.state.changes
    ) as db:
        row = await notify(
            db, user_id, "test.note", title, f"{title}, at length", {"n": title}, **options
        )
        return row.id


async def test_sent_listed_newest_first_and_read(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    user = await _me(client)
    assert (await client.get("/api/notifications")).json() == {"data": [], "next_cursor": None}
    first = await send(app, user, "one")
    second = await send(app, user, "two")

    page = (await client.get("/api/notifications", params={"limit": 1})).json()
    [newest] = page["data"]
    assert newest["id"] == str(second)
    assert newest["kind"] == "test.note"
    assert (newest["title"], newest["body"], newest["data"]) == (
        "two",
        "two, at length",
        {"n": "two"},
    )
    assert newest["read_at"] is None
    assert "key" not in newest
    assert "user_id" not in newest
    rest = await client.get(
        "/api/notifications", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert [n["id"] for n in rest.json()["data"]] == [str(first)]

    read = await client.post(f"/api/notifications/{first}/read")
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at is not None
    again = await client.post(f"/api/notifications/{first}/read")
    assert again.json()["read_at"] == read_at  # the first time is kept
    unread = (await client.get("/api/notifications", params={"unread": "true"})).json()["data"]
    assert [n["id"] for n in unread] == [str(second)]
    done = (await client.get("/api/notifications", params={"unread": "false"})).json()["data"]
    assert [n["id"] for n in done] == [str(first)]


async def test_a_key_sends_once(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    user = await _me(client)
    first = await send(app, user, "reminder", key="reservation:x:remind")
    again = await send(app, user, "reminder, again", key="reservation:x:remind")
    assert again == first
    other = await send(app, user, "another", key="reservation:y:remind")
    assert other != first
    titles = [n["title"] for n in (await client.get("/api/notifications")).json()["data"]]
    assert titles == ["another", "reminder"]


async def test_the_same_key_for_two_users_is_two_notifications(
    app: FastAPI, signed_in: SignedIn
) -> None:
    alice, bob = await signed_in(), await signed_in()
    a = await send(app, await _me(alice), "hi", key="same")
    b = await send(app, await _me(bob), "hi", key="same")
    assert a != b


async def test_another_users_notification_is_invisible_and_a_404(
    app: FastAPI, signed_in: SignedIn
) -> None:
    alice, bob = await signed_in(), await signed_in()
    hers = await send(app, await _me(alice), "private")
    assert (await bob.get("/api/notifications")).json()["data"] == []
    stolen = await bob.post(f"/api/notifications/{hers}/read")
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (404, "notification_not_found")
    missing = await bob.post(f"/api/notifications/{uuid.uuid4()}/read")
    assert missing.status_code == 404
    async with privileged_db(app) as db:  # and bob's attempt marked nothing
        row = await db.get(Notification, hers)
        assert row is not None
        assert row.read_at is None


async def test_bad_input_is_a_4xx(signed_in: SignedIn) -> None:
    client = await signed_in()
    assert (await client.get("/api/notifications", params={"limit": 0})).status_code == 422
    assert (await client.get("/api/notifications", params={"cursor": "nope"})).status_code == 400
    assert (await client.get("/api/notifications", params={"sort": "x"})).status_code == 422
    assert (await client.post("/api/notifications/not-a-uuid/read")).status_code == 422
