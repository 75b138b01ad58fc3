"""The planner's owned tables, declared once (routes, owner scoping, change events)."""

from __future__ import annotations

from everything_app.owned import OwnedTable
from everything_app.planner import queries
from everything_app.planner.models import CalendarEvent, Expense, Task
from everything_app.planner.schemas import (
    EventCreate,
    EventOut,
    EventUpdate,
    ExpenseCreate,
    ExpenseOut,
    ExpenseUpdate,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)

EVENTS = OwnedTable(
    path="events",
    label="event",
    model=CalendarEvent,
    create=EventCreate,
    update=EventUpdate,
    read=EventOut,
    query=queries.EventQuery,
    sorts=queries.EVENT_SORTS,
    example_create={
        "title": "Lunch with Sam",
        "description": "At the corner café",
        "start_time": "2026-11-23T12:30:00+01:00",
        "end_time": "2026-11-23T13:30:00+01:00",
    },
    example_update={"end_time": "2026-11-23T14:00:00+01:00"},
    description="Calendar events.",
    docs={
        "list": "`from` and `to` (ISO 8601 with an offset; send `+` as `%2B`) keep the "
        "events that overlap that range. Sorted by start time.",
        "create": "`end_time` must be after `start_time`; an event lasts at most 31 days.",
    },
)

TASKS = OwnedTable(
    path="tasks",
    label="task",
    model=Task,
    create=TaskCreate,
    update=TaskUpdate,
    read=TaskOut,
    query=queries.TaskQuery,
    sorts=queries.TASK_SORTS,
    example_create={"title": "Pay rent", "due_date": "2026-11-27T23:59:59+01:00"},
    example_update={"is_complete": True},
    description="Tasks.",
    docs={
        "list": "Filter with `is_complete` and a due range (`due_from`, `due_to`).",
        "create": "A task's status changes through `PATCH /api/tasks/{id}` "
        'with `{"is_complete": true}`, not through `POST`.',
        "update": 'Mark a task done with `{"is_complete": true}`.',
    },
)

EXPENSES = OwnedTable(
    path="expenses",
    label="expense",
    model=Expense,
    create=ExpenseCreate,
    update=ExpenseUpdate,
    read=ExpenseOut,
    query=queries.ExpenseQuery,
    sorts=queries.EXPENSE_SORTS,
    example_create={
        "amount": "12.50",
        "category": "food",
        "incurred_at": "2026-11-22T19:00:00+01:00",
    },
    example_update={"category": "transport"},
    description="Expenses. Amounts are decimal strings.",
    docs={
        "list": "Filter with a date range (`from`, `to`) and `category` (ignoring case).",
    },
)

PLANNER_TABLES = (EVENTS, TASKS, EXPENSES)
