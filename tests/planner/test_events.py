"""Calendar events: validation and time-range (overlap) filters, on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import SignedIn
from tests.planner.conftest import local, post

EVENT = {
    "title": "Lunch with Sam",
    "start_time": "2026-11-19T12:30:00+01:00",
    "end_time": "2026-11-19T13:30:00+01:00",
}


async def test_create_answers_in_utc_and_keeps_text(signed_in: SignedIn) -> None:
    client = await signed_in()
    event = await post(client, "/api/events", {**EVENT, "description": "  corner café  "})
    assert event["title"] == "Lunch with Sam"
    assert event["description"] == "corner café"
    assert event["start_time"] == "2026-11-19T11:30:00Z"
    assert event["end_time"] == "2026-11-19T12:30:00Z"
    blank = await post(client, "/api/events", {**EVENT, "description": "   "})
    assert blank["description"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"start_time": "2026-11-19T12:30:00"}, "start_time"),  # no offset
        ({"start_time": "tomorrow"}, "start_time"),
        ({"end_time": "2026-11-19T12:30:00+01:00"}, None),  # not after the start
        ({"end_time": "2026-11-19T11:00:00+01:00"}, None),
        ({"end_time": "2026-12-30T12:00:00+01:00"}, None),  # longer than 31 days
        ({"title": None}, "title"),
    ],
)
async def test_invalid_events_are_422_and_not_stored(
    signed_in: SignedIn, change: dict[str, Any], field: str | None
) -> None:
    client = await signed_in()
    response = await client.post("/api/events", json={**EVENT, **change})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    if field is not None:
        assert error["details"][0]["loc"][:2] == ["body", field]
    assert (await client.get("/api/events")).json()["data"] == []


async def test_missing_fields_and_bad_json(signed_in: SignedIn) -> None:
    client = await signed_in()
    response = await client.post("/api/events", json={"title": "x"})
    assert response.status_code == 422
    locs = {tuple(d["loc"]) for d in response.json()["error"]["details"]}
    assert locs == {("body", "start_time"), ("body", "end_time")}
    broken = await client.post(
        "/api/events", content=b'{"title":', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "invalid_json"


async def test_patch_checks_the_merged_event(signed_in: SignedIn) -> None:
    client = await signed_in()
    event = await post(client, "/api/events", EVENT)
    url = f"/api/events/{event['id']}"
    # Moving only the start past the stored end is refused, whichever field moves.
    late_start = await client.patch(url, json={"start_time": "2026-11-19T14:00:00+01:00"})
    assert late_start.status_code == 422
    assert "end_time must be after start_time" in late_start.text
    early_end = await client.patch(url, json={"end_time": "2026-11-19T12:00:00+01:00"})
    assert early_end.status_code == 422
    assert (await client.get(url)).json() == event

    both = await client.patch(
        url,
        json={"start_time": "2026-11-19T14:00:00+01:00", "end_time": "2026-11-19T15:00:00+01:00"},
    )
    assert both.status_code == 200
    assert both.json()["start_time"] == "2026-11-19T13:00:00Z"
    cleared = await client.patch(url, json={"description": None, "title": " Lunch "})
    assert cleared.json()["description"] is None
    assert cleared.json()["title"] == "Lunch"
    assert (await client.patch(url, json={"title": None})).status_code == 422


async def _titles(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return [e["title"] for e in response.json()["data"]]


async def test_time_range_keeps_overlapping_events(signed_in: SignedIn) -> None:
    client = await signed_in()
    for title, start, end in [
        ("before", "2026-11-18T08:00", "2026-11-18T09:00"),
        ("ends at from", "2026-11-18T09:00", "2026-11-18T10:00"),
        ("across from", "2026-11-18T09:30", "2026-11-18T10:30"),
        ("inside", "2026-11-18T11:00", "2026-11-18T12:00"),
        ("across to", "2026-11-18T11:30", "2026-11-18T13:00"),
        ("starts at to", "2026-11-18T12:00", "2026-11-18T13:00"),
        ("spanning", "2026-11-10T00:00", "2026-11-25T00:00"),
        ("after", "2026-11-19T08:00", "2026-11-19T09:00"),
    ]:
        await post(
            client,
            "/api/events",
            {"title": title, "start_time": local(start), "end_time": local(end)},
        )
    window = {"from": local("2026-11-18T10:00"), "to": local("2026-11-18T12:00")}
    assert await _titles(client, **window) == ["spanning", "across from", "inside", "across to"]
    assert await _titles(client, **{"from": local("2026-11-19T00:00")}) == ["spanning", "after"]
    assert await _titles(client, to=local("2026-11-18T09:00")) == ["spanning", "before"]
    newest_first = await _titles(client, sort="-start_time", limit="3")
    assert newest_first == ["after", "starts at to", "across to"]


async def test_time_range_must_be_ordered_and_aware(signed_in: SignedIn) -> None:
    client = await signed_in()
    reversed_range = {"from": "2026-11-19T00:00:00Z", "to": "2026-11-18T00:00:00Z"}
    assert (await client.get("/api/events", params=reversed_range)).status_code == 422
    naive = {"from": "2026-11-19T00:00:00"}
    assert (await client.get("/api/events", params=naive)).status_code == 422
