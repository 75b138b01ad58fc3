"""The planner's tables: calendar events, tasks, expenses (plus `updated_at`), and the record
of finished imports."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.type_api import TypeEngine

from everything_app.core.db import Base, IdMixin, utcnow
from everything_app.owned import OwnedBase

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """NUMERIC(10,2), read and written as Decimal, never float.

    PostgreSQL keeps NUMERIC exactly. SQLite has no decimal type (it would keep a float), so
    there the column holds integer cents: amounts and their SUMs stay exact on both.
    """

    impl = Numeric(10, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Decimal]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(10, 2, asdecimal=False))  # type: ignore[arg-type]
        return dialect.type_descriptor(Numeric(10, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None or dialect.name != "sqlite":
            return value
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(str(value)) / 100).quantize(CENT)
        return Decimal(str(value)).quantize(CENT)


class CalendarEvent(OwnedBase):
    __tablename__ = "calendar_events"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="end_after_start"),
        Index("ix_calendar_events_user_start", "user_id", "start_time", "id"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]


class Task(OwnedBase):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_created", "user_id", "created_at", "id"),
        # Open and overdue tasks (the dashboard), and due-date ranges.
        Index("ix_tasks_user_complete_due", "user_id", "is_complete", "due_date"),
    )

    title: Mapped[str] = mapped_column(String(200))
    is_complete: Mapped[bool] = mapped_column(default=False)
    due_date: Mapped[datetime | None]


class Expense(OwnedBase):
    __tablename__ = "expenses"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_expenses_user_incurred", "user_id", "incurred_at", "id"),
    )

    amount: Mapped[Decimal] = mapped_column(Money())
    category: Mapped[str] = mapped_column(String(50))
    incurred_at: Mapped[datetime]


class PlannerImport(IdMixin, Base):
    """A finished `planner.import` job, written in the import's own transaction.

    Its id is the job's id: the rows and this record commit together or not at all, so a job
    run again (a retry, a redelivery after a crash) finds it and answers the stored result
    instead of importing twice; of two runs racing, the primary key lets one commit."""

    __tablename__ = "planner_imports"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
