"""What a planner tool did, said in a sentence (the offline chat's answer)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from everything_app.core.clock import zone_named

SHOWN = 10  # items named in a list answer


def _when(text: str, tz: ZoneInfo) -> str:
    moment = datetime.fromisoformat(text).astimezone(tz)
    return moment.strftime("%a %d %b, %H:%M")


def _day(text: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(text).astimezone(tz).strftime("%a %d %b")


def _span(start: str, end: str, tz: ZoneInfo) -> str:
    first = datetime.fromisoformat(start).astimezone(tz)
    last = datetime.fromisoformat(end).astimezone(tz) - timedelta(microseconds=1)
    if first.date() == last.date():
        return f"on {first:%a %d %b}"
    return f"from {first:%a %d %b} to {last:%a %d %b}"


def _event(event: dict[str, Any], tz: ZoneInfo) -> str:
    end = datetime.fromisoformat(event["end_time"]).astimezone(tz)
    return f"{event['title']} ({_when(event['start_time'], tz)}-{end:%H:%M})"


def _task(task: dict[str, Any], tz: ZoneInfo) -> str:
    due = f" (due {_when(task['due_date'], tz)})" if task.get("due_date") else ""
    return f"{task['title']}{due}"


def _listed(items: list[str], more: bool) -> str:
    named = "; ".join(items[:SHOWN])
    return named + ("; and more" if more or len(items) > SHOWN else "")


def describe(name: str, result: dict[str, Any], tz: ZoneInfo | str) -> str:
    """A one-sentence account of `result`, the dict tool `name` returned; times in `tz`."""
    zone = zone_named(tz)
    if name == "create_task":
        return f"Added the task {_task(result['task'], zone)}."
    if name == "complete_task":
        return f"Marked {result['task']['title']!r} as done."
    if name == "create_event":
        return f"Added {_event(result['event'], zone)} to your calendar."
    if name == "create_expense":
        expense = result["expense"]
        when = _day(expense["incurred_at"], zone)
        return f"Recorded {expense['amount']} spent on {expense['category']} ({when})."
    if name == "list_events":
        span = _span(result["start"], result["end"], zone)
        if not result["events"]:
            return f"Nothing on your calendar {span}."
        events = [_event(e, zone) for e in result["events"]]
        return f"Your calendar {span}: {_listed(events, result['more'])}."
    if name == "list_tasks":
        if not result["tasks"]:
            return "No tasks match."
        tasks = [_task(t, zone) for t in result["tasks"]]
        return f"Your tasks: {_listed(tasks, result['more'])}."
    if name == "list_expenses":
        span = _span(result["start"], result["end"], zone)
        on = f" on {result['category']}" if result.get("category") else ""
        count = result["count"]
        noun = "expense" if count == 1 else "expenses"
        return f"You spent {result['total']}{on} {span} ({count} {noun})."
    raise ValueError(f"no description for tool {name!r}")
