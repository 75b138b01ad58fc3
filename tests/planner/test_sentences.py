"""The offline sentence parser: each sentence, at a fixed now, gives exactly this tool call
(or none: never a wrong record). Times are Paris wall-clock times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from everything_app.planner.sentences import HELP, parse_sentence
from everything_app.planner.tools import TOOLS
from tests.planner.conftest import NOW, PARIS

Expected = tuple[str, dict[str, Any]] | None


def at(text: str | None, *, end_of_day: bool = False) -> str | None:
    """ "11-19 12:30" -> "2026-11-19T12:30:00"; a bare "11-20" is midnight (or 23:59:59)."""
    if text is None:
        return None
    day, _, clock = text.partition(" ")
    clock = clock or ("23:59:59" if end_of_day else "00:00")
    return f"2026-{day}T{clock}" + (":00" if clock.count(":") == 1 else "")


def task(title: str, due: str | None = None) -> Expected:
    return "create_task", {"title": title, "due": at(due, end_of_day=True)}


def done(title: str) -> Expected:
    key = "id" if len(title) == 36 else "title"
    return "complete_task", {key: title}


def spent(amount: str, category: str, when: str | None = None) -> Expected:
    return "create_expense", {"amount": amount, "category": category, "spent_at": at(when)}


def event(title: str, start: str, end: str | None = None) -> Expected:
    return "create_event", {"title": title, "start": at(start), "end": at(end)}


def events(start: str, end: str) -> Expected:
    return "list_events", {"start": at(start), "end": at(end)}


def expenses(start: str, end: str, category: str | None = None) -> Expected:
    return "list_expenses", {"start": at(start), "end": at(end), "category": category}


def tasks(
    *, is_complete: bool = False, due_from: str | None = None, due_to: str | None = None
) -> Expected:
    values = {"is_complete": is_complete, "due_from": at(due_from), "due_to": at(due_to)}
    return "list_tasks", values


CASES: list[tuple[str, Expected]] = [
    # tasks ("due friday" without a time: by the end of that day)
    ("add task pay rent due friday", task("pay rent", "11-20")),
    ("Add a task: buy milk", task("buy milk")),
    ("new task call the bank tomorrow", task("call the bank", "11-19")),
    ("create task renew passport by next monday", task("renew passport", "11-23")),
    ("todo: water the plants", task("water the plants")),
    ("remind me to call mom tomorrow at 5pm", task("call mom", "11-19 17:00")),
    ("add task submit report due 2026-12-01", task("submit report", "12-01")),
    ("add task book flights due dec 5", task("book flights", "12-05")),
    ("add todo send invoice due in 3 days", task("send invoice", "11-21")),
    ("task: clean garage due saturday", task("clean garage", "11-21")),
    ("add task finish slides due friday at 9:30", task("finish slides", "11-20 09:30")),
    ("remind me to buy flowers on sunday", task("buy flowers", "11-22")),
    ("add task Prepare Q4 review due wednesday", task("Prepare Q4 review", "11-18")),
    ("add task pay rent due 12/01", None),  # day or month first? ask, don't guess
    ("add task", None),
    ("add task call Ana due someday", None),
    # completing tasks
    ("mark pay rent done", done("pay rent")),
    ("mark 'buy milk' as complete", done("buy milk")),
    ("complete task call the bank", done("call the bank")),
    ("I finished the report", done("report")),
    ("done: water the plants", done("water the plants")),
    ("check off renew passport", done("renew passport")),
    ("pay rent is done", done("pay rent")),
    (
        "mark 3f2a6c1e-1d2b-4c3d-9e8f-0a1b2c3d4e5f done",
        done("3f2a6c1e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"),
    ),
    ("mark done", None),
    ("mark it as done", None),
    # expenses (a past day without a time: noon)
    ("spent 12.50 on food yesterday", spent("12.50", "food", "11-17 12:00")),
    ("I spent 30 on transport", spent("30.00", "transport")),
    ("paid $45.99 for groceries", spent("45.99", "groceries")),
    ("spent €8 on coffee today", spent("8.00", "coffee")),
    ("spent 1,200 on rent", spent("1200.00", "rent")),
    ("spent 12,50 on lunch", spent("12.50", "lunch")),
    ("12.50 for lunch yesterday", spent("12.50", "lunch", "11-17 12:00")),
    ("spent 20 on taxi last friday", spent("20.00", "taxi", "11-13 12:00")),
    ("spent 9.99 on books on monday", spent("9.99", "books", "11-16 12:00")),
    ("spent 15 eur on lunch yesterday at 1pm", spent("15.00", "lunch", "11-17 13:00")),
    ("add expense 60 for electricity", spent("60.00", "electricity")),
    ("spent 25 on dinner with friends", spent("25.00", "dinner with friends")),
    ("spent 12.505 on food", None),  # more than 2 decimals
    ("spent 0 on food", None),
    ("spent a lot on food", None),
    ("spent 10 on food tomorrow", None),  # not spent yet
    ("spent 40 on a very nice dinner downtown", None),  # not a category
    # events
    ("lunch with Sam tomorrow 12:30-13:30", event("lunch with Sam", "11-19 12:30", "11-19 13:30")),
    ("meeting with Bob on friday at 3pm", event("meeting with Bob", "11-20 15:00")),
    ("schedule dentist next tuesday 9:00-10:00", event("dentist", "11-24 09:00", "11-24 10:00")),
    (
        "add event team sync on monday at 10am for 30 minutes",
        event("team sync", "11-23 10:00", "11-23 10:30"),
    ),
    ("dinner with Ana friday 8pm", event("dinner with Ana", "11-20 20:00")),
    ("call with the bank at 16:00", event("call with the bank", "11-18 16:00")),
    ("standup at 9", event("standup", "11-19 09:00")),  # 9:00 has passed today
    ("yoga 3-4pm tomorrow", event("yoga", "11-19 15:00", "11-19 16:00")),
    ("book a haircut on dec 5 at 11:00", event("haircut", "12-05 11:00")),
    (
        "conference on 2026-12-10 from 9am to 5pm",
        event("conference", "12-10 09:00", "12-10 17:00"),
    ),
    ("add event company party on dec 12", event("company party", "12-12", "12-13")),  # all day
    (
        "flight to Rome on saturday at 7:15 for 2 hours",
        event("flight to Rome", "11-21 07:15", "11-21 09:15"),
    ),
    ("movie night tonight at 8", event("movie night", "11-18 20:00")),
    ("party 22:00-01:00 on saturday", event("party", "11-21 22:00", "11-22 01:00")),
    ("hello there", None),
    ("lunch tomorrow", None),  # no time, no verb: not clearly an event
    ("read 2 to 3 chapters tomorrow", None),
    ("walk in the sun tomorrow at 3 on friday", None),  # two days named
    ("lunch tomorrow at 1?", None),  # a question never writes
    # questions
    ("what's on today?", events("11-18", "11-19")),
    ("what do I have tomorrow?", events("11-19", "11-20")),
    ("show my calendar this week", events("11-16", "11-23")),
    ("any meetings on friday?", events("11-20", "11-21")),
    ("what's on next week", events("11-23", "11-30")),
    ("what's on my calendar for the next 3 days", events("11-18", "11-21")),
    ("how much did I spend on food this month?", expenses("11-01", "12-01", "food")),
    ("how much did I spend last month?", expenses("10-01", "11-01")),
    ("how much did I spend on transport this week", expenses("11-16", "11-23", "transport")),
    ("show my expenses yesterday", expenses("11-17", "11-18")),
    ("how much did I spend on food in october", expenses("10-01", "11-01", "food")),
    ("what are my tasks?", tasks()),
    ("what's overdue?", tasks(due_to="11-18 10:00")),
    ("show completed tasks", tasks(is_complete=True)),
    ("what tasks are due this week?", tasks(due_from="11-16", due_to="11-23")),
    ("list my tasks due tomorrow", tasks(due_from="11-19", due_to="11-20")),
    ("what is the capital of France?", None),
    ("how much is a flight to Rome?", None),
    ("", None),
]


def _plain(value: Any) -> Any:
    """Datetimes as Paris wall-clock ISO text, decimals and ids as text."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None
        return value.astimezone(PARIS).replace(tzinfo=None).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value) if value.__class__.__name__ == "UUID" else value


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_sentence(sentence: str, expected: Expected) -> None:
    found = parse_sentence(sentence, NOW, PARIS)
    if expected is None:
        assert found is None, found
        return
    tool, values = expected
    assert found is not None, "not understood"
    assert found.name == tool
    assert isinstance(found.args, TOOLS[tool].args)
    given = {k: _plain(v) for k, v in found.args.model_dump().items() if v is not None}
    assert given == {k: v for k, v in values.items() if v is not None}


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert {expected[0] for _, expected in CASES if expected} == set(TOOLS)


def test_time_zone_and_now_are_the_callers() -> None:
    tokyo = parse_sentence("what's on today?", NOW, "Asia/Tokyo")
    assert tokyo is not None
    assert _plain(tokyo.args.model_dump()["start"]) == "2026-11-17T16:00:00"  # Tokyo midnight
    assert parse_sentence("what's on today?", NOW, "Not/AZone") is None


def test_help_names_every_kind_of_sentence() -> None:
    for example in ("add task", "lunch with Sam", "spent", "mark", "what's on today", "how much"):
        assert example in HELP
