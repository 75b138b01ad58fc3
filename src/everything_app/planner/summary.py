"""`planner.summary`: a written summary of one week (Monday to Sunday in the user's zone).

The figures come from the dashboard's queries (events overlapping the week, open tasks,
spending by category). The text is written by the configured (default) model from those
figures; on the offline provider it is the figures themselves, laid out as text, with no
model call, so the same data always gives the same words.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.ai import (
    ChatMessage,
    ModelSpec,
    ProviderError,
    Providers,
    TextDelta,
    model_registry,
)
from everything_app.core.clock import TimezoneName, day_bounds, zone_named
from everything_app.core.jobs import JobContext, JobFailed
from everything_app.core.timestamps import Day
from everything_app.core.validation import Input
from everything_app.planner.dashboard import (
    EVENT_ITEMS,
    ZERO,
    events_between,
    open_and_overdue_tasks,
    spending_by_category,
)
from everything_app.planner.schemas import CategoryTotal, EventOut, TaskList, TaskOut

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_SUMMARY_TOKENS = 800
SYSTEM_PROMPT = (
    "You write a short, friendly summary of a person's week from their planner: what is "
    "on, what is still to do, and where the money went. Use only the facts given, keep "
    "every figure exact, write plain text of at most 200 words, and do not invent anything."
)


class SummaryArgs(Input):
    """The week that holds `date`, Monday to Sunday in `timezone`."""

    model_config = ConfigDict(extra="forbid")

    date: Day = Field(description="Any day of the week to summarise (YYYY-MM-DD).")
    timezone: TimezoneName = "UTC"


@dataclass(frozen=True)
class Week:
    first: date  # Monday
    last: date  # Sunday
    zone: ZoneInfo
    start: datetime  # Monday's local midnight
    end: datetime  # the next Monday's local midnight

    @classmethod
    def of(cls, day: date, zone: ZoneInfo) -> Week:
        first = day - timedelta(days=day.weekday())
        start, end = day_bounds(first, zone, days=7)
        return cls(first, first + timedelta(days=6), zone, start, end)


@dataclass(frozen=True)
class WeekData:
    week: Week
    events: list[EventOut]
    tasks: TaskList
    due: TaskList  # open tasks due before the week's end
    spending: list[CategoryTotal]

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.spending), ZERO)

    def figures(self) -> dict[str, Any]:
        return {
            "events": len(self.events),
            "open_tasks": self.tasks.count,
            "tasks_due": self.due.count,
            "spending_total": str(self.total),
            "spending_by_category": [
                {"category": c.category, "total": str(c.total)} for c in self.spending
            ],
        }


async def gather(db: AsyncSession, user_id: uuid.UUID, week: Week) -> WeekData:
    events = await events_between(db, user_id, week.start, week.end)
    tasks, due = await open_and_overdue_tasks(db, user_id, week.end)
    spending = await spending_by_category(db, user_id, week.start, week.end)
    return WeekData(week, [EventOut.model_validate(e) for e in events], tasks, due, spending)


# --- the text ------------------------------------------------------------------------------


def _day(moment: date) -> str:
    return f"{DAY_NAMES[moment.weekday()]} {moment.day} {MONTH_NAMES[moment.month - 1]}"


def _long_day(moment: date) -> str:
    return f"{_day(moment)} {moment.year}"


def _time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_day(local)}, {local:%H:%M}"


def _event_line(event: EventOut, zone: ZoneInfo) -> str:
    start, end = event.start_time.astimezone(zone), event.end_time.astimezone(zone)
    if start.date() == end.date():
        when = f"{_day(start)}, {start:%H:%M}-{end:%H:%M}"
    else:
        when = f"{_time(start, zone)} to {_time(end, zone)}"
    return f"- {when}: {event.title}"


def _task_line(task: TaskOut, zone: ZoneInfo) -> str:
    due = "no due date" if task.due_date is None else f"due {_time(task.due_date, zone)}"
    return f"- {task.title} ({due})"


def offline_text(data: WeekData) -> str:
    """The week's figures as text: the offline provider's summary, and the model's facts."""
    week, zone = data.week, data.week.zone
    parts = [
        f"Your week from {_long_day(week.first)} to {_long_day(week.last)} ({zone.key}).",
    ]
    if data.events:
        more = " (the first ones)" if len(data.events) >= EVENT_ITEMS else ""
        lines = [_event_line(e, zone) for e in data.events]
        parts.append("\n".join([f"Events ({len(data.events)}{more}):", *lines]))
    else:
        parts.append("Events: none.")
    if data.tasks.count:
        heading = f"Open tasks ({data.tasks.count}, {data.due.count} due by {_day(week.last)}):"
        lines = [_task_line(t, zone) for t in data.tasks.items]
        if data.tasks.count > len(data.tasks.items):
            lines.append(f"- …and {data.tasks.count - len(data.tasks.items)} more.")
        parts.append("\n".join([heading, *lines]))
    else:
        parts.append("Open tasks: none.")
    if data.spending:
        lines = [f"- {c.category}: {c.total}" for c in data.spending]
        parts.append("\n".join([f"Spending: {data.total} in all.", *lines]))
    else:
        parts.append("Spending: none.")
    return "\n\n".join(parts)


async def model_text(providers: Providers, model: ModelSpec, facts: str) -> str:
    messages = [
        ChatMessage(role="system", content=SYSTEM_PROMPT),
        ChatMessage(role="user", content=f"Summarise this week.\n\n{facts}"),
    ]
    text = ""
    max_tokens = min(model.max_output_tokens, MAX_SUMMARY_TOKENS)
    try:
        stream = providers.stream(model, messages, max_tokens=max_tokens)
        async with contextlib.aclosing(stream):
            async for event in stream:
                if isinstance(event, TextDelta):
                    text += event.text
    except ProviderError as exc:
        if exc.retryable:
            raise  # the job is tried again later (with backoff)
        raise JobFailed(f"The model could not write the summary: {exc.message}") from None
    text = text.strip()
    if not text:
        raise JobFailed("The model returned no text for the summary.")
    return text


async def run_summary(ctx: JobContext, args: SummaryArgs) -> dict[str, Any]:
    user_id = ctx.user_id
    if user_id is None:
        raise JobFailed("planner.summary runs for a user.")
    week = Week.of(args.date, zone_named(args.timezone))
    await ctx.progress(0, "Gathering the week")
    async with ctx.unit_of_work() as db:
        data = await gather(db, user_id, week)
    facts = offline_text(data)
    # The app's registry is built from the settings by this same function at start.
    model = model_registry(ctx.settings).default
    if model.provider == "offline":
        text = facts
    else:
        await ctx.progress(30, f"Writing the summary with {model.id}")
        text = await model_text(ctx.service(Providers), model, facts)
    await ctx.progress(100, "Done")
    return {
        "text": text,
        "week_start": week.first.isoformat(),
        "week_end": week.last.isoformat(),
        "timezone": week.zone.key,
        "model": model.id,
        "figures": data.figures(),
    }
