"""Services, reservations at their time slots, and each service's queue.

The invariants the API promises are also written into the schema, so that a bug or a race in
the application becomes a refused write (a 409), never bad data:
- one active (not canceled) reservation per user, service and slot;
- at most one queue entry in service per service, and unique positions per service queue;
- a reservation is checked into the queue at most once.
Capacity itself (a count) cannot be a constraint; the service row lock serialises it.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, TimestampMixin


class ReservationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELED = "canceled"


class QueueStatus(StrEnum):
    WAITING = "waiting"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    SKIPPED = "skipped"


ACTIVE_QUEUE_STATUSES = (QueueStatus.WAITING, QueueStatus.IN_SERVICE)

# Monday to Friday, 09:00-17:00: a service's opening hours unless it says otherwise.
DEFAULT_OPENING_HOURS: dict[str, list[dict[str, str]]] = {
    day: [{"open": "09:00", "close": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
}


def _partial(condition: str) -> dict[str, Any]:
    """The same WHERE clause for a partial index on both databases."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Service(IdMixin, TimestampMixin, Base):
    """Something that can be reserved: `capacity` people per slot of `duration_minutes`."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_minutes"),
        CheckConstraint("capacity >= 1", name="capacity"),
        Index("ix_services_created", "created_at", "id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int]
    capacity: Mapped[int] = mapped_column(default=1)
    # {"mon": [{"open": "09:00", "close": "17:00"}], ...}: local wall-clock times in
    # `timezone`; a weekday that is absent is closed. Validated by the schemas.
    opening_hours: Mapped[dict[str, list[dict[str, str]]]] = mapped_column(
        JSON, default=lambda: copy.deepcopy(DEFAULT_OPENING_HOURS)
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Reservation(IdMixin, TimestampMixin, Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'canceled')", name="status"),
        # The backstop for "one active reservation per user and slot" (409 already_reserved).
        Index(
            "uq_reservations_active_user_slot",
            "user_id",
            "service_id",
            "time_slot",
            unique=True,
            **_partial("status <> 'canceled'"),
        ),
        # Capacity counts, availability and the admin's per-service list; with the status in
        # the index, the counts of active reservations are index-only scans.
        Index("ix_reservations_service_slot", "service_id", "time_slot", "status"),
        # A user's own list (calendar order) and their future-reservation count.
        Index("ix_reservations_user_slot", "user_id", "time_slot", "id"),
        # The admin's list of everything, in calendar order.
        Index("ix_reservations_slot", "time_slot", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    time_slot: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.PENDING)


class QueueEntry(IdMixin, TimestampMixin, Base):
    """A place in a service's queue: a checked-in reservation, or an admin's walk-in."""

    __tablename__ = "queue_entries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'in_service', 'completed', 'skipped')", name="status"
        ),
        CheckConstraint("position >= 1", name="position"),
        # Positions are ticket numbers: 1, 2, 3... per service, never reused.
        Index("uq_queue_entries_service_position", "service_id", "position", unique=True),
        Index(
            "uq_queue_entries_one_in_service",
            "service_id",
            unique=True,
            **_partial("status = 'in_service'"),
        ),
        # Who is next, and how many are ahead of someone.
        Index("ix_queue_entries_service_status_position", "service_id", "status", "position"),
    )

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    # None for a walk-in, which an admin adds with only a label.
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), unique=True
    )
    # The reservation's owner, copied so that ownership checks (and row-level security) need
    # no join; None for walk-ins.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=QueueStatus.WAITING)
