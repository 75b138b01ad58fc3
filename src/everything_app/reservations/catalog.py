"""Services (what can be reserved) and their availability on a day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.clock import day_bounds
from everything_app.core.db import utcnow
from everything_app.core.errors import Conflict, NotFound, ValidationFailed
from everything_app.core.pagination import Keyset, keyset_page
from everything_app.reservations import events
from everything_app.reservations.access import span_users
from everything_app.reservations.locks import lock_service
from everything_app.reservations.models import (
    ACTIVE_QUEUE_STATUSES,
    QueueEntry,
    Reservation,
    ReservationStatus,
    Service,
)
from everything_app.reservations.slots import Schedule

# How far back availability may be asked for (forward, the booking horizon applies).
AVAILABILITY_PAST_DAYS = 366


def schedule_of(service: Service) -> Schedule:
    return Schedule.of(service.opening_hours, service.duration_minutes, service.timezone)


NEWEST_FIRST = Keyset(Service.created_at, Service.id)


async def list_services(
    db: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Service], str | None]:
    return await keyset_page(db, select(Service), NEWEST_FIRST, cursor=cursor, limit=limit)


async def get_service(db: AsyncSession, service_id: uuid.UUID) -> Service:
    service = await db.get(Service, service_id)
    if service is None:
        raise NotFound("Service not found.", code="service_not_found")
    return service


async def create_service(db: AsyncSession, values: dict[str, Any]) -> Service:
    service = Service(**values)
    db.add(service)
    await db.flush()
    events.service_changed(db, service, "insert")
    return service


async def update_service(
    db: AsyncSession, service_id: uuid.UUID, values: dict[str, Any]
) -> Service:
    """Existing reservations are kept as they are, even if they no longer fit the new
    hours, duration or capacity; new bookings follow the new rules."""
    service = await lock_service(db, service_id)
    for name, value in values.items():
        setattr(service, name, value)
    service.updated_at = utcnow()
    await db.flush()
    events.service_changed(db, service, "update")
    return service


async def delete_service(db: AsyncSession, service_id: uuid.UUID, *, now: datetime) -> None:
    """Refused while people hold future reservations or stand in its queue: deleting would
    silently take those away (cancel them first). Past history goes with the service."""
    service = await lock_service(db, service_id)
    booked = await db.scalar(
        select(func.count())
        .select_from(Reservation)
        .where(
            Reservation.service_id == service_id,
            Reservation.status != ReservationStatus.CANCELED,
            Reservation.time_slot > now,
        )
    )
    if booked:
        raise Conflict(
            f"{booked} future reservation(s) exist; cancel them first.",
            code="service_has_reservations",
        )
    queued = await db.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(QueueEntry.service_id == service_id, QueueEntry.status.in_(ACTIVE_QUEUE_STATUSES))
    )
    if queued:
        raise Conflict("The service's queue is not empty.", code="queue_not_empty")
    events.service_changed(db, service, "delete")
    await db.delete(service)
    await db.flush()


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int
    reserved: int
    available: bool

    @property
    def remaining(self) -> int:
        # Capacity may have been lowered below what is already booked.
        return max(0, self.capacity - self.reserved)


async def reserved_counts(
    db: AsyncSession, service_id: uuid.UUID, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Active reservations per slot start in [start, end): one grouped index range scan."""
    rows = await db.execute(
        select(Reservation.time_slot, func.count())
        .where(
            Reservation.service_id == service_id,
            Reservation.status != ReservationStatus.CANCELED,
            Reservation.time_slot >= start,
            Reservation.time_slot < end,
        )
        .group_by(Reservation.time_slot)
    )
    return dict(rows.all())


async def availability(
    db: AsyncSession,
    service_id: uuid.UUID,
    day: date,
    zone: ZoneInfo | None,
    *,
    now: datetime,
    horizon: timedelta,
) -> tuple[ZoneInfo, list[Slot]]:
    """The service's slots that start on `day` as read in `zone` (default: the service's)."""
    service = await get_service(db, service_id)
    schedule = schedule_of(service)
    zone = zone or schedule.zone
    today = now.astimezone(zone).date()
    if not today - timedelta(days=AVAILABILITY_PAST_DAYS) <= day <= today + horizon:
        raise ValidationFailed(
            "The date is too far in the past or beyond the booking horizon.",
            code="date_out_of_range",
        )
    start, end = day_bounds(day, zone)
    await span_users(db)
    counts = await reserved_counts(db, service.id, start, end)
    length = timedelta(minutes=service.duration_minutes)
    slots = []
    for slot_start in schedule.starts_between(start, end):
        reserved = counts.get(slot_start, 0)
        bookable = now < slot_start <= now + horizon and reserved < service.capacity
        slots.append(Slot(slot_start, slot_start + length, service.capacity, reserved, bookable))
    return zone, slots
