"""`planner.import`, its handler on a running app (both databases): valid rows land, refused
rows are reported, nothing is half-imported or imported twice, writes announce changes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from everything_app.core.changes import Change
from everything_app.core.jobs import JobFailed
from everything_app.owned import create_rows as real_create
from everything_app.planner import import_action
from everything_app.planner.import_action import ImportArgs, run_import
from tests.conftest import SignedIn
from tests.planner.actions import context_for

EVENTS_CSV = """\ufefftitle,start_time,end_time,description
Standup,2026-11-16T09:00:00+01:00,2026-11-16T09:15:00+01:00,daily
Bad end,2026-11-16T10:00:00+01:00,2026-11-16T09:00:00+01:00,
No zone,2026-11-16T10:00:00,2026-11-16T11:00:00+01:00,
,2026-11-16T10:00:00+01:00,2026-11-16T11:00:00+01:00,
ragged,row
"=HYPERLINK(""http://x"")",2026-11-17T10:00:00Z,2026-11-17T11:00:00Z,"@SUM(A1)
two lines"

Last,2026-11-18T10:00:00Z,2026-11-18T11:00:00Z,
"""

EVENTS_REFUSED = [
    {
        "table": "events",
        "row": 2,
        "line": 3,
        "field": None,
        "reason": "end_time must be after start_time",
    },
    {
        "table": "events",
        "row": 3,
        "line": 4,
        "field": "start_time",
        "reason": "Input should have timezone info",
    },
    {"table": "events", "row": 4, "line": 5, "field": "title", "reason": "Field required"},
    {
        "table": "events",
        "row": 5,
        "line": 6,
        "field": None,
        "reason": "The row has 2 cells; the header has 4.",
    },
]


async def _list(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/{path}", params={"limit": 100})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def test_csv_events_valid_rows_land_and_refused_ones_are_reported(
    app: FastAPI, signed_in: SignedIn
) -> None:
    client, stranger = await signed_in(), await signed_in()
    ctx = await context_for(app, client)
    seen: list[Change] = []
    stop = app.state.changes.listen(lambda changes: seen.extend(changes))
    try:
        args = ImportArgs(format="csv", table="events", content=EVENTS_CSV)
        result = await run_import(ctx, args)
    finally:
        stop()
    assert result == {"imported": {"events": 3}, "refused": EVENTS_REFUSED}
    events = sorted(await _list(client, "events"), key=lambda e: e["start_time"])
    assert [(e["title"], e["description"], e["start_time"]) for e in events] == [
        ("Standup", "daily", "2026-11-16T08:00:00Z"),
        # A cell that looks like a spreadsheet formula is kept as the text it is.
        ('=HYPERLINK("http://x")', "@SUM(A1)\ntwo lines", "2026-11-17T10:00:00Z"),
        ("Last", None, "2026-11-18T10:00:00Z"),
    ]
    # Each write was announced (live queries update), after the commit.
    inserted = [c for c in seen if c.table == "calendar_events" and c.op == "insert"]
    assert sorted(str(c.row_id) for c in inserted) == sorted(e["id"] for e in events)
    # Progress: from 0, never backwards, to 100 with the outcome.
    percents = [p for p, _ in ctx.progress_seen]
    assert percents[0] == 0
    assert percents == sorted(percents)
    assert ctx.progress_seen[-1] == (100, "Imported 3 rows, refused 4")
    assert await _list(stranger, "events") == []


async def test_csv_tasks_and_expenses_follow_the_rest_rules(
    app: FastAPI, signed_in: SignedIn
) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    tasks = (
        "\n".join(
            [
                "Title,Is_Complete,Due_Date",
                "Pay rent,,2026-11-27T23:59:59+01:00",
                "Done,true,,,",  # empty cells past the last column are ignored
                "Eh,maybe,",
            ]
        )
        + "\n"
    )
    result = await run_import(ctx, ImportArgs(format="csv", table="tasks", content=tasks))
    assert result["imported"] == {"tasks": 2}
    assert [(r["row"], r["field"]) for r in result["refused"]] == [(3, "is_complete")]
    by_title = {t["title"]: t for t in await _list(client, "tasks")}
    assert by_title["Pay rent"]["is_complete"] is False
    assert by_title["Pay rent"]["due_date"] == "2026-11-27T22:59:59Z"
    assert by_title["Done"]["is_complete"] is True

    expenses = (
        "amount,category,incurred_at\n"
        "12.5,food,2026-11-20T19:00:00+01:00\n"
        "-3,food,2026-11-20T19:00:00+01:00\n"
        "1.234,food,2026-11-20T19:00:00+01:00\n"
        "7,,2026-11-20T19:00:00+01:00\n"
        "4.20,transport,\n"
    )
    ctx = await context_for(app, client)  # another job
    result = await run_import(ctx, ImportArgs(format="csv", table="expenses", content=expenses))
    assert result["imported"] == {"expenses": 2}
    assert [(r["row"], r["field"]) for r in result["refused"]] == [
        (2, "amount"),
        (3, "amount"),
        (4, "category"),
    ]
    rows = await _list(client, "expenses")
    assert sorted(e["amount"] for e in rows) == ["12.50", "4.20"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title,start_time,colour\nx,y,z\n", "unknown column(s) 'colour'"),
        ("title,user_id,start_time,end_time\n", "unknown column(s) 'user_id'"),
        ("title,title,start_time,end_time\n", "names title more than once"),
        ("title,start_time\nx,2026-11-16T09:00:00Z\n", "lacks the required column(s) end_time"),
        ("\n\n  ,  \n", "The file is empty"),
        # A cell above the csv module's field limit (128 KiB).
        ('title,start_time,end_time\n"' + "x" * 200_000 + '",a,b\n', "not valid CSV"),
    ],
)
async def test_a_file_that_cannot_be_read_fails_the_job_clearly(
    app: FastAPI, signed_in: SignedIn, content: str, message: str
) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    args = ImportArgs(format="csv", table="events", content=content)
    with pytest.raises(JobFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        await run_import(ctx, args)
    assert await _list(client, "events") == []


@pytest.mark.parametrize(
    "body",
    [
        {"format": "csv", "content": "title\nx\n"},  # no table
        {"format": "ics", "table": "events", "content": "BEGIN:VCALENDAR"},
        {"format": "xlsx", "table": "events", "content": "x"},
        {"format": "csv", "table": "users", "content": "x"},
        {"format": "csv", "table": "events", "content": ""},
        {"format": "csv", "table": "events", "content": "x" * 1_000_001},
        {"format": "csv", "table": "events", "content": "title\n\ud800\n"},
        {"format": "csv", "table": "events", "content": "title\nx\x00\n"},
        {"format": "ics", "content": "x", "timezone": "Mars/Olympus"},
        {"format": "csv", "table": "events", "content": "x", "user_id": "me"},
    ],
)
def test_bad_arguments_are_refused_before_any_job(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ImportArgs.model_validate(body)


async def test_a_job_that_fails_midway_keeps_nothing_and_its_retry_imports_once(
    app: FastAPI, signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    args = ImportArgs(format="csv", table="events", content=EVENTS_CSV)
    calls = 0

    async def crash_on_the_second_batch(*a: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionResetError("the database went away")
        return await real_create(*a, **kw)

    monkeypatch.setattr(import_action, "WRITE_BATCH", 1)
    monkeypatch.setattr(import_action, "create_rows", crash_on_the_second_batch)
    with pytest.raises(ConnectionResetError):
        await run_import(ctx, args)
    assert await _list(client, "events") == []  # the first row was rolled back with the rest
    monkeypatch.setattr(import_action, "create_rows", real_create)

    ctx.attempt = 2
    first = await run_import(ctx, args)
    assert first["imported"] == {"events": 3}
    ctx.attempt = 3  # delivered again after it committed (a worker died before acking)
    again = await run_import(ctx, args)
    assert again == first
    assert len(await _list(client, "events")) == 3


async def test_two_runs_of_one_job_racing_import_once(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    args = ImportArgs(format="csv", table="events", content=EVENTS_CSV)
    results: Sequence[dict[str, Any]] = await asyncio.gather(
        run_import(ctx, args), run_import(ctx, args)
    )
    assert results[0] == results[1]
    assert len(await _list(client, "events")) == 3
    # A new job with the same file is a new import.
    other = await context_for(app, client)
    await run_import(other, args)
    assert len(await _list(client, "events")) == 6


ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Planner test//EN\r
BEGIN:VTIMEZONE\r
TZID:Custom Central European\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:1\r
SUMMARY:Custom zone\\, summer\r
DESCRIPTION:Line one\\nline two\r
DTSTART;TZID=Custom Central European:20260701T123000\r
DURATION:PT1H30M\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
SUMMARY:New York\r
DTSTART;TZID=America/New_York:20261101T013000\r
DTEND;TZID=America/New_York:20261101T023000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3\r
SUMMARY:In UTC\r
DTSTART:20261116T090000Z\r
DTEND:20261116T100000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:4\r
SUMMARY:Floating\r
DTSTART:20261116T090000\r
DTEND:20261116T100000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:5\r
SUMMARY:All day\r
DTSTART;VALUE=DATE:20261117\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
TRIGGER:-PT15M\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:6\r
DTSTART:20261118T090000Z\r
DTEND:20261118T100000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:7\r
SUMMARY:No duration\r
DTSTART:20261118T090000Z\r
END:VEVENT\r
BEGIN:VTODO\r
UID:8\r
SUMMARY:Pay rent\r
DUE;VALUE=DATE:20261127\r
END:VTODO\r
BEGIN:VTODO\r
UID:9\r
SUMMARY:Filed taxes\r
STATUS:COMPLETED\r
DUE;TZID=Europe/Paris:20261120T180000\r
END:VTODO\r
END:VCALENDAR\r
"""


async def test_ics_events_and_todos_with_their_time_zones(
    app: FastAPI, signed_in: SignedIn
) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    result = await run_import(ctx, ImportArgs(format="ics", content=ICS, timezone="Europe/Paris"))
    assert result == {
        "imported": {"events": 5, "tasks": 2},
        "refused": [
            {"table": "events", "row": 6, "line": 53, "field": "title", "reason": "Field required"},
            {
                "table": "events",
                "row": 7,
                "line": 58,
                "field": None,
                "reason": "end_time must be after start_time",
            },
        ],
    }
    events = {e["title"]: e for e in await _list(client, "events")}
    spans = {title: (e["start_time"], e["end_time"]) for title, e in events.items()}
    assert spans == {
        # The file's own zone definition: summer time, UTC+2.
        "Custom zone, summer": ("2026-07-01T10:30:00Z", "2026-07-01T12:00:00Z"),
        # 1 November 2026 is the day New York leaves summer time: 01:30 is still EDT (the
        # first of the two), 02:30 is EST.
        "New York": ("2026-11-01T05:30:00Z", "2026-11-01T07:30:00Z"),
        "In UTC": ("2026-11-16T09:00:00Z", "2026-11-16T10:00:00Z"),
        # Floating times and dates are read in the job's zone (Paris, UTC+1 in November).
        "Floating": ("2026-11-16T08:00:00Z", "2026-11-16T09:00:00Z"),
        "All day": ("2026-11-16T23:00:00Z", "2026-11-17T23:00:00Z"),
    }
    assert events["Custom zone, summer"]["description"] == "Line one\nline two"
    tasks = {t["title"]: t for t in await _list(client, "tasks")}
    assert tasks["Pay rent"]["due_date"] == "2026-11-27T22:59:59Z"  # the day's last second
    assert tasks["Pay rent"]["is_complete"] is False
    assert tasks["Filed taxes"]["due_date"] == "2026-11-20T17:00:00Z"
    assert tasks["Filed taxes"]["is_complete"] is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not a calendar at all", "not valid iCalendar"),
        ("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", "must start with BEGIN:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n", "not valid iCalendar"),
    ],
)
async def test_an_unreadable_ics_fails_the_job_clearly(
    app: FastAPI, signed_in: SignedIn, content: str, message: str
) -> None:
    ctx = await context_for(app, await signed_in())
    with pytest.raises(JobFailed, match=message):
        await run_import(ctx, ImportArgs(format="ics", content=content))
