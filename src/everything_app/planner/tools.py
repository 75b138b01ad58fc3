"""The planner as tools for a language model (and for the offline sentence parser).

Each tool is a plain async function `(db, user_id, args, now, tz) -> dict` with a pydantic
argument model whose JSON schema is what the model is shown. Arguments are checked twice:
by the tool's own model, then, when a record is made or changed, by the very schemas of the
REST routes (through the owned-table service), so a tool can never write what the API would
refuse. Every failure is a `ToolFailed` with a message meant for the model to correct itself,
raised before anything is written: there is never a half-made record. Each tool does at most
one write; committing is the caller's unit of work.

Times the model gives without an offset are read in the user's time zone `tz`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app import owned
from everything_app.chat import ToolFailed
from everything_app.core import rls
from everything_app.core.clock import day_bounds, zone_named
from everything_app.core.errors import AppError
from everything_app.core.timestamps import LocalTimestamp
from everything_app.core.validation import Input
from everything_app.owned import OwnedInput
from everything_app.planner import service
from everything_app.planner.queries import EventQuery, ExpenseQuery, TaskQuery
from everything_app.planner.schemas import (
    Amount,
    Category,
    Description,
    EventCreate,
    ExpenseCreate,
    TaskCreate,
    TaskUpdate,
    Title,
)
from everything_app.planner.tables import EVENTS, EXPENSES, TASKS

LIST_LIMIT = 50
DEFAULT_EVENT_LENGTH = timedelta(hours=1)
A = TypeVar("A", bound=BaseModel)


class _Args(Input):
    model_config = ConfigDict(extra="forbid")


LOCAL_TIME = "ISO 8601 date-time; without an offset it is the user's local time."


class CreateEventArgs(_Args):
    title: Title
    start: LocalTimestamp = Field(description=f"When it starts. {LOCAL_TIME}")
    end: LocalTimestamp | None = Field(
        default=None, description=f"When it ends (default: 1 hour after start). {LOCAL_TIME}"
    )
    description: Description = None


class CreateTaskArgs(_Args):
    title: Title
    due: LocalTimestamp | None = Field(default=None, description=f"Deadline, if any. {LOCAL_TIME}")


class CompleteTaskArgs(_Args):
    id: uuid.UUID | None = Field(default=None, description="The task's id, if known.")
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Otherwise its title (or a part of it); it must match one open task.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> CompleteTaskArgs:
        if (self.id is None) == (self.title is None):
            raise ValueError("give either id or title")
        return self


class CreateExpenseArgs(_Args):
    amount: Amount
    category: Category
    spent_at: LocalTimestamp | None = Field(
        default=None, description=f"When (default: now). {LOCAL_TIME}"
    )


class ListEventsArgs(_Args):
    start: LocalTimestamp | None = Field(
        default=None, description=f"Default: today's start. {LOCAL_TIME}"
    )
    end: LocalTimestamp | None = Field(
        default=None, description=f"Default: 7 days after start. {LOCAL_TIME}"
    )


class ListTasksArgs(_Args):
    is_complete: bool | None = Field(
        default=False, description="false: open tasks (default); true: done; null: all."
    )
    due_from: LocalTimestamp | None = Field(
        default=None, description=f"Due at or after. {LOCAL_TIME}"
    )
    due_to: LocalTimestamp | None = Field(default=None, description=f"Due before. {LOCAL_TIME}")


class ListExpensesArgs(_Args):
    start: LocalTimestamp | None = Field(
        default=None, description=f"Default: start of this month. {LOCAL_TIME}"
    )
    end: LocalTimestamp | None = Field(default=None, description=f"Default: now. {LOCAL_TIME}")
    category: str | None = Field(
        default=None, max_length=50, description="Only this category (ignoring case)."
    )


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz)


def _validated(schema: type[A], values: Mapping[str, Any]) -> A:
    """Validate with a REST schema, turning its 422 into a message for the model."""
    try:
        return owned.validate(schema, dict(values))
    except AppError as exc:
        raise ToolFailed(_explain(exc)) from None


def _explain(exc: AppError) -> str:
    problems = [
        f"{'.'.join(str(p) for p in d.get('loc', ())[1:]) or 'arguments'}: {d.get('msg', '')}"
        for d in exc.details
    ]
    return "; ".join(problems) or exc.message


async def create_event(
    db: AsyncSession, user_id: uuid.UUID, args: CreateEventArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    start = _local(args.start, tz)
    assert start is not None
    end = _local(args.end, tz) or start + DEFAULT_EVENT_LENGTH
    body = _validated(
        EventCreate,
        {
            "title": args.title,
            "description": args.description,
            "start_time": start,
            "end_time": end,
        },
    )
    row = await owned.create_row(db, EVENTS, user_id, body)
    return {"event": owned.to_json(EVENTS, row)}


async def create_task(
    db: AsyncSession, user_id: uuid.UUID, args: CreateTaskArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    body = _validated(TaskCreate, {"title": args.title, "due_date": _local(args.due, tz)})
    row = await owned.create_row(db, TASKS, user_id, body)
    return {"task": owned.to_json(TASKS, row)}


async def complete_task(
    db: AsyncSession, user_id: uuid.UUID, args: CompleteTaskArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    task_id = args.id
    if task_id is None:
        assert args.title is not None
        found = await service.open_tasks_titled(db, user_id, args.title)
        if not found:
            raise ToolFailed(f"No open task matches {args.title!r}.")
        if len(found) > 1:
            titles = ", ".join(repr(t.title) for t in found)
            raise ToolFailed(
                f"Several open tasks match {args.title!r}: {titles}. Say which one, or give its id."
            )
        task_id = found[0].id
    patch: OwnedInput = TaskUpdate(is_complete=True)
    try:
        row = await owned.update_row(db, TASKS, user_id, task_id, patch)
    except AppError as exc:
        raise ToolFailed(_explain(exc)) from None
    return {"task": owned.to_json(TASKS, row)}


async def create_expense(
    db: AsyncSession, user_id: uuid.UUID, args: CreateExpenseArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    spent_at = _local(args.spent_at, tz) or now
    body = _validated(
        ExpenseCreate,
        {"amount": args.amount, "category": args.category, "incurred_at": spent_at},
    )
    row = await owned.create_row(db, EXPENSES, user_id, body)
    return {"expense": owned.to_json(EXPENSES, row)}


async def list_events(
    db: AsyncSession, user_id: uuid.UUID, args: ListEventsArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    start = _local(args.start, tz) or day_bounds(now.astimezone(tz).date(), tz)[0]
    end = _local(args.end, tz) or start + timedelta(days=7)
    query = _validated(EventQuery, {"from": start, "to": end, "limit": LIST_LIMIT})
    rows, more = await owned.list_rows(db, EVENTS, user_id, query)
    events = [owned.to_json(EVENTS, r) for r in rows]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "events": events,
        "more": bool(more),
    }


async def list_tasks(
    db: AsyncSession, user_id: uuid.UUID, args: ListTasksArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    values = {
        "is_complete": args.is_complete,
        "due_from": _local(args.due_from, tz),
        "due_to": _local(args.due_to, tz),
        "limit": LIST_LIMIT,
    }
    query = _validated(TaskQuery, {k: v for k, v in values.items() if v is not None})
    rows, more = await owned.list_rows(db, TASKS, user_id, query)
    return {"tasks": [owned.to_json(TASKS, r) for r in rows], "more": bool(more)}


async def list_expenses(
    db: AsyncSession, user_id: uuid.UUID, args: ListExpensesArgs, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    local_today = now.astimezone(tz).date()
    start = _local(args.start, tz) or day_bounds(local_today.replace(day=1), tz)[0]
    end = _local(args.end, tz) or now
    values = {"from": start, "to": end, "category": args.category, "limit": LIST_LIMIT}
    query = _validated(ExpenseQuery, {k: v for k, v in values.items() if v is not None})
    rows, more = await owned.list_rows(db, EXPENSES, user_id, query)
    total, count = await service.expense_total(db, user_id, query)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "category": args.category,
        "total": str(total),
        "count": count,
        "expenses": [owned.to_json(EXPENSES, r) for r in rows],
        "more": bool(more),
    }


Runner = Callable[
    [AsyncSession, uuid.UUID, Any, datetime, "ZoneInfo | str"], Awaitable[dict[str, Any]]
]


class Tool(NamedTuple):
    description: str
    args: type[BaseModel]
    run: Runner
    writes: bool  # makes or changes a record: chat runs it once per user turn


def _tool(
    description: str,
    args: type[A],
    fn: Callable[..., Awaitable[dict[str, Any]]],
    *,
    writes: bool = False,
) -> Tool:
    """Register `fn` so that, however it is called, it runs as the user with valid arguments."""

    async def run(
        db: AsyncSession, user_id: uuid.UUID, arguments: Any, now: datetime, tz: ZoneInfo | str
    ) -> dict[str, Any]:
        valid = arguments if isinstance(arguments, args) else _parse(args, arguments)
        try:
            zone = zone_named(tz)
        except AppError as exc:
            raise ToolFailed(exc.message) from None
        await rls.set_current_user(db, user_id)  # row-level security: act for this user
        return await fn(db, user_id, valid, now, zone)

    return Tool(description, args, run, writes)


TOOLS: dict[str, Tool] = {
    "create_event": _tool(
        "Add an event to the user's calendar.", CreateEventArgs, create_event, writes=True
    ),
    "create_task": _tool(
        "Add a task to the user's to-do list.", CreateTaskArgs, create_task, writes=True
    ),
    "complete_task": _tool(
        "Mark one of the user's open tasks done, by id or by title.",
        CompleteTaskArgs,
        complete_task,
        writes=True,
    ),
    "create_expense": _tool(
        "Record money the user spent.", CreateExpenseArgs, create_expense, writes=True
    ),
    "list_events": _tool(
        "The user's calendar events overlapping a time range (default: the next 7 days).",
        ListEventsArgs,
        list_events,
    ),
    "list_tasks": _tool(
        "The user's tasks (default: the open ones), optionally by due range.",
        ListTasksArgs,
        list_tasks,
    ),
    "list_expenses": _tool(
        "The user's expenses in a time range (default: this month), with their total.",
        ListExpensesArgs,
        list_expenses,
    ),
}


def _parse(model: type[A], arguments: Any) -> A:
    try:
        if isinstance(arguments, str | bytes):
            return model.model_validate_json(arguments or "{}")
        if isinstance(arguments, BaseModel):
            arguments = arguments.model_dump(exclude_unset=True)
        return model.model_validate(arguments)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ToolFailed("Invalid arguments: " + "; ".join(problems)) from None


async def run_tool(
    db: AsyncSession,
    user_id: uuid.UUID,
    name: str,
    arguments: BaseModel | Mapping[str, Any] | str,
    now: datetime,
    tz: ZoneInfo | str,
) -> dict[str, Any]:
    """Validate and run one tool by name as `user_id` (arguments as a model, a dict or the
    JSON text a model sent); ToolFailed on any problem, before anything is written."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolFailed(f"Unknown tool {name!r}; the tools are {', '.join(TOOLS)}.")
    return await tool.run(db, user_id, arguments, now, tz)
