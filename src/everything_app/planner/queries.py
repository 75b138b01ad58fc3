"""The filters and sorts each planner list accepts (`GET /api/events?from=&to=` and so on)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator
from sqlalchemy import ColumnElement, func

from everything_app.core.timestamps import Timestamp
from everything_app.owned import ListQuery, SortOption
from everything_app.planner.models import CalendarEvent, Expense, Task
from everything_app.planner.schemas import MAX_EVENT_DURATION


class _Range(ListQuery):
    from_: Timestamp | None = Field(default=None, alias="from")
    to: Timestamp | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        return self


def events_overlapping(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    """Events that overlap [start, end). Bounding start_time from both sides keeps the scan on
    the (user_id, start_time) index, since no event is longer than MAX_EVENT_DURATION."""
    conditions: list[ColumnElement[bool]] = []
    if end is not None:
        conditions.append(CalendarEvent.start_time < end)
    if start is not None:
        conditions.append(CalendarEvent.end_time > start)
        conditions.append(CalendarEvent.start_time > start - MAX_EVENT_DURATION)
    return conditions


class EventQuery(_Range):
    """`from`/`to`: events overlapping that time range (either may be left out)."""

    sort: Literal["start_time", "-start_time"] = "start_time"

    def conditions(self) -> list[ColumnElement[bool]]:
        return events_overlapping(self.from_, self.to)


class TaskQuery(ListQuery):
    is_complete: bool | None = None
    due_from: Timestamp | None = Field(default=None, description="Due at or after this.")
    due_to: Timestamp | None = Field(default=None, description="Due before this.")
    sort: Literal["-created_at", "created_at"] = "-created_at"

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.is_complete is not None:
            conditions.append(Task.is_complete == self.is_complete)
        if self.due_from is not None:
            conditions.append(Task.due_date >= self.due_from)
        if self.due_to is not None:
            conditions.append(Task.due_date < self.due_to)
        return conditions


class ExpenseQuery(_Range):
    """`from`/`to`: spent in [from, to). `category` matches ignoring case."""

    category: str | None = Field(default=None, max_length=50)
    sort: Literal["-incurred_at", "incurred_at"] = "-incurred_at"

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.from_ is not None:
            conditions.append(Expense.incurred_at >= self.from_)
        if self.to is not None:
            conditions.append(Expense.incurred_at < self.to)
        if self.category:
            conditions.append(func.lower(Expense.category) == self.category.strip().lower())
        return conditions


EVENT_SORTS = {
    "start_time": SortOption(CalendarEvent.start_time, descending=False),
    "-start_time": SortOption(CalendarEvent.start_time, descending=True),
}
TASK_SORTS = {
    "-created_at": SortOption(Task.created_at, descending=True),
    "created_at": SortOption(Task.created_at, descending=False),
}
EXPENSE_SORTS = {
    "-incurred_at": SortOption(Expense.incurred_at, descending=True),
    "incurred_at": SortOption(Expense.incurred_at, descending=False),
}
