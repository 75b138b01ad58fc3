"""Tasks: seed 002's status update through PATCH, validation, completion and due filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import SignedIn
from tests.planner.conftest import local, post


async def test_create_then_complete_with_patch(signed_in: SignedIn) -> None:
    client = await signed_in()
    task = await post(client, "/api/tasks", {"title": "Pay rent"})
    assert task["is_complete"] is False
    assert task["due_date"] is None
    done = await client.patch(f"/api/tasks/{task['id']}", json={"is_complete": True})
    assert done.status_code == 200
    assert done.json()["is_complete"] is True
    assert done.json()["title"] == "Pay rent"
    reopened = await client.patch(f"/api/tasks/{task['id']}", json={"is_complete": False})
    assert reopened.json()["is_complete"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "is_complete": "maybe"},
        {"title": "ok", "due_date": "2026-11-20"},  # a date is not a moment with an offset
        {"title": "ok", "due_date": "2026-11-20T18:00:00"},
        {},
    ],
)
async def test_invalid_tasks_are_422(signed_in: SignedIn, body: dict[str, Any]) -> None:
    client = await signed_in()
    assert (await client.post("/api/tasks", json=body)).status_code == 422
    assert (await client.get("/api/tasks")).json()["data"] == []


async def _titles(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/tasks", params=params)
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()["data"]]


async def test_filters_by_completion_and_due_range(signed_in: SignedIn) -> None:
    client = await signed_in()
    for title, due, done in [
        ("no due date", None, False),
        ("due monday", "2026-11-16T18:00", False),
        ("due friday", "2026-11-20T18:00", False),
        ("done friday", "2026-11-20T09:00", True),
        ("due next week", "2026-11-25T18:00", False),
    ]:
        body: dict[str, Any] = {"title": title, "is_complete": done}
        if due:
            body["due_date"] = local(due)
        await post(client, "/api/tasks", body)

    assert await _titles(client, sort="created_at") == [
        "no due date",
        "due monday",
        "due friday",
        "done friday",
        "due next week",
    ]
    assert await _titles(client, is_complete="true") == ["done friday"]
    assert len(await _titles(client, is_complete="false")) == 4
    this_week = {"due_from": local("2026-11-16T00:00"), "due_to": local("2026-11-23T00:00")}
    assert await _titles(client, sort="created_at", **this_week) == [
        "due monday",
        "due friday",
        "done friday",
    ]
    open_this_week = await _titles(client, is_complete="false", sort="created_at", **this_week)
    assert open_this_week == ["due monday", "due friday"]
    assert await _titles(client, due_to=local("2026-11-17T00:00")) == ["due monday"]
    assert (await client.get("/api/tasks", params={"is_complete": "sometimes"})).status_code == 422
