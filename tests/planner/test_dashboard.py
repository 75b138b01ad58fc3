"""`GET /api/dashboard`: the day, week and month are the user's, DST-exact, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import SignedIn
from tests.planner.conftest import local, post


async def _seed(client: Any) -> None:
    for title, start, end in [
        ("today early", "2026-11-18T08:00", "2026-11-18T09:00"),
        ("overnight into today", "2026-11-17T23:30", "2026-11-18T00:30"),
        ("tomorrow", "2026-11-19T12:00", "2026-11-19T13:00"),
        ("in a week", "2026-11-25T09:00", "2026-11-25T10:00"),
        ("too far", "2026-11-26T09:00", "2026-11-26T10:00"),
        ("yesterday", "2026-11-17T10:00", "2026-11-17T11:00"),
    ]:
        await post(
            client,
            "/api/events",
            {"title": title, "start_time": local(start), "end_time": local(end)},
        )
    for title, due, done in [
        ("no due date", None, False),
        ("due friday", "2026-11-20T18:00", False),
        ("due this morning", "2026-11-18T09:00", False),
        ("due yesterday", "2026-11-17T18:00", False),
        ("done long ago", "2026-11-10T18:00", True),
    ]:
        body: dict[str, Any] = {"title": title, "is_complete": done}
        if due:
            body["due_date"] = local(due)
        await post(client, "/api/tasks", body)
    for amount, category, when in [
        ("10.00", "Food", "2026-11-01T00:00"),  # the month's first instant (31 Oct in UTC)
        ("2.50", "food", "2026-11-18T08:00"),
        ("30.00", "transport", "2026-11-17T23:30"),  # 22:30 UTC, still the 17th in Paris
        ("500.00", "rent", "2026-10-31T23:59"),  # last month
        ("5.00", "books", "2026-10-24T00:30"),  # summer time: 22:30 UTC on the 23rd
        ("1.00", "old", "2026-10-19T23:59"),  # a day before the 30-day window
    ]:
        await post(
            client,
            "/api/expenses",
            {"amount": amount, "category": category, "incurred_at": local(when)},
        )


async def test_dashboard_in_paris(signed_in: SignedIn, fixed_clock: object) -> None:
    client, stranger = await signed_in(), await signed_in()
    await _seed(client)
    await _seed(stranger)  # never counted for the client
    response = await client.get("/api/dashboard", params={"tz": "Europe/Paris"})
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["timezone"] == "Europe/Paris"
    assert [e["title"] for e in board["today"]] == ["overnight into today", "today early"]
    assert [e["title"] for e in board["next_7_days"]] == ["tomorrow", "in a week"]

    assert board["open_tasks"]["count"] == 4
    assert [t["title"] for t in board["open_tasks"]["items"]] == [
        "due yesterday",
        "due this morning",
        "due friday",
        "no due date",
    ]
    assert board["overdue_tasks"]["count"] == 2
    assert [t["title"] for t in board["overdue_tasks"]["items"]] == [
        "due yesterday",
        "due this morning",
    ]

    assert board["month_spending"] == [
        {"category": "transport", "total": "30.00"},
        {"category": "food", "total": "12.50"},
    ]
    assert board["month_total"] == "42.50"
    daily = board["daily_spending"]
    assert len(daily) == 30
    assert daily[0]["date"] == "2026-10-20"
    assert daily[-1]["date"] == "2026-11-18"
    nonzero = {d["date"]: d["total"] for d in daily if d["total"] != "0.00"}
    assert nonzero == {
        "2026-10-24": "5.00",
        "2026-10-31": "500.00",
        "2026-11-01": "10.00",
        "2026-11-17": "30.00",
        "2026-11-18": "2.50",
    }
    assert all(d["total"] == "0.00" for d in daily if d["date"] not in nonzero)


async def test_the_time_zone_decides_the_day(signed_in: SignedIn, fixed_clock: object) -> None:
    client = await signed_in()
    await _seed(client)
    board = (await client.get("/api/dashboard", params={"tz": "UTC"})).json()
    # 23:30-00:30 in Paris is 22:30-23:30 UTC on the 17th: not today in UTC.
    assert [e["title"] for e in board["today"]] == ["today early"]
    nonzero = {d["date"]: d["total"] for d in board["daily_spending"] if d["total"] != "0.00"}
    assert nonzero["2026-10-31"] == "510.00"  # 10.00 at 23:00 UTC joins the rent
    assert nonzero["2026-10-23"] == "5.00"
    assert {c["category"] for c in board["month_spending"]} == {"transport", "food"}
    assert board["month_total"] == "32.50"  # the 1 Nov 00:00 Paris expense is October in UTC
    default = (await client.get("/api/dashboard")).json()
    assert default["timezone"] == "UTC"
    assert default == board


async def test_empty_dashboard(signed_in: SignedIn, fixed_clock: object) -> None:
    client = await signed_in()
    board = (await client.get("/api/dashboard", params={"tz": "Asia/Tokyo"})).json()
    assert board["today"] == board["next_7_days"] == board["month_spending"] == []
    assert board["open_tasks"] == {"count": 0, "items": []}
    assert board["month_total"] == "0.00"
    first = date(2026, 11, 18) - timedelta(days=29)
    assert [d["date"] for d in board["daily_spending"]] == [
        (first + timedelta(days=i)).isoformat() for i in range(30)
    ]


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "", "x" * 64, "+01:00"])
async def test_unknown_time_zone_is_422(signed_in: SignedIn, tz: str) -> None:
    client = await signed_in()
    response = await client.get("/api/dashboard", params={"tz": tz})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_timezone"


async def test_dashboard_needs_a_user(client: Any) -> None:
    assert (await client.get("/api/dashboard")).status_code == 401
