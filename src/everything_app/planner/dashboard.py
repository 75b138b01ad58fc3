"""`GET /api/dashboard`: what a planner's dashboard shows, computed in SQL for one user.

Five indexed queries, each bounded by time or by a limit, so the cost does not grow with
years of history. Days and months are the user's (the `tz` parameter), boundaries DST-exact:
they are computed here as UTC instants and compared in SQL, which both PostgreSQL and SQLite
can do (SQLite has no time zones).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.clock import day_bounds, local_midnight, month_bounds
from everything_app.planner.models import CalendarEvent, Expense, Task
from everything_app.planner.queries import events_overlapping
from everything_app.planner.schemas import (
    CategoryTotal,
    Dashboard,
    DayTotal,
    EventOut,
    TaskList,
    TaskOut,
)

TASK_ITEMS = 50
EVENT_ITEMS = 200
SPENDING_DAYS = 30
ZERO = Decimal("0.00")


async def events_between(
    db: AsyncSession, user_id: uuid.UUID, start: datetime, end: datetime
) -> list[CalendarEvent]:
    query = (
        select(CalendarEvent)
        .where(CalendarEvent.user_id == user_id, *events_overlapping(start, end))
        .order_by(CalendarEvent.start_time, CalendarEvent.id)
        .limit(EVENT_ITEMS)
    )
    return list((await db.execute(query)).scalars())


async def open_and_overdue_tasks(
    db: AsyncSession, user_id: uuid.UUID, now: datetime
) -> tuple[TaskList, TaskList]:
    is_open = (Task.user_id == user_id, Task.is_complete.is_(False))
    counts = select(func.count(), func.count().filter(Task.due_date < now)).where(*is_open)
    open_count, overdue_count = (await db.execute(counts)).one()
    # Soonest due first, so the overdue ones (due before now) lead the list.
    items_query = (
        select(Task)
        .where(*is_open)
        .order_by(Task.due_date.asc().nulls_last(), Task.created_at, Task.id)
        .limit(TASK_ITEMS)
    )
    items = [TaskOut.model_validate(t) for t in (await db.execute(items_query)).scalars()]
    overdue = [t for t in items if t.due_date is not None and t.due_date < now]
    return TaskList(count=open_count, items=items), TaskList(count=overdue_count, items=overdue)


async def spending_by_category(
    db: AsyncSession, user_id: uuid.UUID, start: datetime, end: datetime
) -> list[CategoryTotal]:
    category = func.lower(Expense.category).label("category")
    total = func.sum(Expense.amount).label("total")
    query = (
        select(category, total)
        .where(Expense.user_id == user_id, Expense.incurred_at >= start, Expense.incurred_at < end)
        .group_by(category)
        .order_by(total.desc(), category)
    )
    return [CategoryTotal(category=c, total=t) for c, t in (await db.execute(query)).all()]


async def _by_day(
    db: AsyncSession, user_id: uuid.UUID, days: list[datetime], end: datetime
) -> list[Decimal]:
    # Each expense's local day, found by comparing with the days' UTC start instants (a
    # CASE both databases run; a fixed UTC offset would be wrong across a DST change).
    bucket = case(
        *((Expense.incurred_at < boundary, index) for index, boundary in enumerate(days[1:])),
        else_=len(days) - 1,
    ).label("bucket")
    per_row = (
        select(bucket, Expense.amount.label("amount"))
        .where(
            Expense.user_id == user_id, Expense.incurred_at >= days[0], Expense.incurred_at < end
        )
        .subquery()
    )
    query = select(per_row.c.bucket, func.sum(per_row.c.amount)).group_by(per_row.c.bucket)
    totals = [ZERO] * len(days)
    for index, total in (await db.execute(query)).all():
        totals[int(index)] = total
    return totals


async def build(db: AsyncSession, user_id: uuid.UUID, tz: ZoneInfo, now: datetime) -> Dashboard:
    today = now.astimezone(tz).date()
    today_start, tomorrow_start = day_bounds(today, tz)
    week_end = local_midnight(today + timedelta(days=8), tz)
    events = await events_between(db, user_id, today_start, week_end)
    open_tasks, overdue_tasks = await open_and_overdue_tasks(db, user_id, now)
    month_start, month_end = month_bounds(today, tz)
    categories = await spending_by_category(db, user_id, month_start, month_end)
    first_day = today - timedelta(days=SPENDING_DAYS - 1)
    day_starts = [local_midnight(first_day + timedelta(days=i), tz) for i in range(SPENDING_DAYS)]
    daily = await _by_day(db, user_id, day_starts, tomorrow_start)
    return Dashboard(
        timezone=tz.key,
        now=now,
        today=[EventOut.model_validate(e) for e in events if e.start_time < tomorrow_start],
        next_7_days=[EventOut.model_validate(e) for e in events if e.end_time > tomorrow_start],
        open_tasks=open_tasks,
        overdue_tasks=overdue_tasks,
        month_spending=categories,
        month_total=sum((c.total for c in categories), ZERO),
        daily_spending=[
            DayTotal(date=(first_day + timedelta(days=i)).isoformat(), total=total)
            for i, total in enumerate(daily)
        ],
    )
