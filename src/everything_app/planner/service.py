"""Planner queries beyond the owned-table CRUD: spending totals and finding tasks by title."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.planner.models import Expense, Task
from everything_app.planner.queries import ExpenseQuery

MATCH_LIMIT = 5


async def expense_total(
    db: AsyncSession, user_id: uuid.UUID, query: ExpenseQuery
) -> tuple[Decimal, int]:
    """The sum and count of every expense the query selects (not only one page)."""
    totals = select(func.coalesce(func.sum(Expense.amount), 0), func.count()).where(
        Expense.user_id == user_id, *query.conditions()
    )
    total, count = (await db.execute(totals)).one()
    return Decimal(total).quantize(Decimal("0.01")), int(count)


async def open_tasks_titled(db: AsyncSession, user_id: uuid.UUID, title: str) -> list[Task]:
    """Open tasks with exactly this title (ignoring case); failing that, those whose title
    contains it. At most MATCH_LIMIT; the caller decides what several matches mean."""
    needle = " ".join(title.split()).lower()
    is_open = (Task.user_id == user_id, Task.is_complete.is_(False))
    for condition in (
        func.lower(Task.title) == needle,
        func.lower(Task.title).contains(needle, autoescape=True),
    ):
        query = select(Task).where(*is_open, condition).order_by(Task.created_at, Task.id)
        found = list((await db.execute(query.limit(MATCH_LIMIT))).scalars())
        if found:
            return found
    return []
