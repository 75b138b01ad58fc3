"""Reservations: booking a slot within capacity, listing, confirming and canceling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import User
from everything_app.core.clock import day_bounds
from everything_app.core.db import utcnow
from everything_app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from everything_app.core.pagination import Keyset, keyset_page
from everything_app.reservations import events
from everything_app.reservations.catalog import schedule_of
from everything_app.reservations.locks import lock_service, lock_user_bookings
from everything_app.reservations.models import Reservation, ReservationStatus, Service
from everything_app.reservations.notices import (
    Notices,
    cancel_reservation_jobs,
    schedule_reminder,
)
from everything_app.reservations.queue import in_queue, leave_queue

CALENDAR_ORDER = Keyset(Reservation.time_slot, Reservation.id, descending=False)

# (from, to) status changes; anything else is a 409. Canceled is final.
TRANSITIONS = frozenset(
    {
        (ReservationStatus.PENDING, ReservationStatus.CONFIRMED),
        (ReservationStatus.PENDING, ReservationStatus.CANCELED),
        (ReservationStatus.CONFIRMED, ReservationStatus.CANCELED),
    }
)


UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class BookingPolicy:
    max_future: int  # active reservations in the future, per user
    horizon: timedelta  # how far ahead a slot may be booked
    auto_confirm: bool  # new reservations start confirmed instead of pending


@dataclass(frozen=True)
class ReservationFilter:
    status: str | None = None
    day: date | None = None
    zone: ZoneInfo = UTC_ZONE
    service_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None  # admins only; a user always sees only their own


async def _counts(
    db: AsyncSession, user_id: uuid.UUID, service_id: uuid.UUID, time_slot: datetime, now: datetime
) -> tuple[int, int, int]:
    """(places taken at the slot, the user's own among them, the user's upcoming reservations),
    in one statement: it runs while the service lock is held, so every round trip counts."""
    at_slot = and_(Reservation.service_id == service_id, Reservation.time_slot == time_slot)
    upcoming = and_(Reservation.user_id == user_id, Reservation.time_slot > now)
    row = (
        await db.execute(
            select(
                func.count().filter(at_slot),
                func.count().filter(at_slot, Reservation.user_id == user_id),
                func.count().filter(upcoming),
            ).where(Reservation.status != ReservationStatus.CANCELED, or_(at_slot, upcoming))
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def book(
    db: AsyncSession,
    user: User,
    service_id: uuid.UUID,
    time_slot: datetime,
    *,
    now: datetime,
    policy: BookingPolicy,
    notices: Notices,
) -> Reservation:
    """Reserve one place at a slot. The checks and the insert run under the user's and the
    service's locks (see locks.py), so concurrent bookings cannot overfill a slot. A
    reservation confirmed at once gets its reminder (notices)."""
    time_slot = time_slot.astimezone(UTC)
    await lock_user_bookings(db, user.id)
    service = await lock_service(db, service_id)
    _check_slot(service, time_slot, now=now, policy=policy)
    taken, mine, upcoming = await _counts(db, user.id, service.id, time_slot, now)
    if mine:
        raise Conflict("You already hold a reservation for this slot.", code="already_reserved")
    if upcoming >= policy.max_future:
        raise Conflict(
            f"You already hold {policy.max_future} upcoming reservations, the most allowed.",
            code="too_many_reservations",
        )
    if taken >= service.capacity:
        raise Conflict("This slot is fully booked.", code="slot_full")
    reservation = Reservation(
        user_id=user.id,
        service_id=service.id,
        time_slot=time_slot,
        status=ReservationStatus.CONFIRMED if policy.auto_confirm else ReservationStatus.PENDING,
    )
    db.add(reservation)
    try:
        await db.flush()
    except IntegrityError as exc:  # the unique index, should a writer ever skip the lock
        raise Conflict(
            "You already hold a reservation for this slot.", code="already_reserved"
        ) from exc
    events.reservation_changed(db, reservation, "insert")
    await schedule_reminder(db, reservation, notices, now=now)
    return reservation


def _check_slot(
    service: Service, time_slot: datetime, *, now: datetime, policy: BookingPolicy
) -> None:
    """422 unless `time_slot` is a slot of the service, in the future, within the horizon."""
    if not schedule_of(service).offers(time_slot):
        raise ValidationFailed(
            "This is not a slot of the service: check its opening hours and slot length.",
            code="slot_not_offered",
        )
    if time_slot <= now:
        raise ValidationFailed("The slot has already started.", code="slot_in_past")
    if time_slot > now + policy.horizon:
        raise ValidationFailed(
            f"Slots can be booked at most {policy.horizon.days} days ahead.", code="slot_too_far"
        )


def _visible(actor: User) -> Select[Reservation]:
    query = select(Reservation)
    return query if actor.is_admin else query.where(Reservation.user_id == actor.id)


async def get_reservation(db: AsyncSession, actor: User, reservation_id: uuid.UUID) -> Reservation:
    """One reservation the actor may see; another user's is indistinguishable from none."""
    found = (
        await db.execute(
            _visible(actor)
            .where(Reservation.id == reservation_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("Reservation not found.", code="reservation_not_found")
    return found


async def list_reservations(
    db: AsyncSession, actor: User, filters: ReservationFilter, *, cursor: str | None, limit: int
) -> tuple[list[Reservation], str | None]:
    """Calendar order (earliest slot first), keyset-paginated on (time_slot, id)."""
    query = _visible(actor)
    if filters.status is not None:
        query = query.where(Reservation.status == filters.status)
    if filters.service_id is not None:
        query = query.where(Reservation.service_id == filters.service_id)
    if filters.user_id is not None:
        query = query.where(Reservation.user_id == filters.user_id)
    if filters.day is not None:
        start, end = day_bounds(filters.day, filters.zone)
        query = query.where(Reservation.time_slot >= start, Reservation.time_slot < end)
    return await keyset_page(db, query, CALENDAR_ORDER, cursor=cursor, limit=limit)


async def change_status(
    db: AsyncSession,
    actor: User,
    reservation_id: uuid.UUID,
    status: str,
    *,
    now: datetime,
    notices: Notices,
) -> Reservation:
    """Confirm (admins) or cancel (the owner until the slot starts, admins any time).
    Confirming schedules the reminder; canceling frees the place at once, cancels the
    reservation's queued reminders and notices, and takes the holder out of the queue."""
    reservation = await get_reservation(db, actor, reservation_id)
    if status == ReservationStatus.CONFIRMED and not actor.is_admin:
        raise Forbidden("Only an administrator confirms reservations.", code="admin_required")
    # Every writer of a service's reservations holds its lock; re-read under it so the
    # transition is checked against the current status, not the one read before the lock.
    await lock_service(db, reservation.service_id)
    reservation = await get_reservation(db, actor, reservation_id)
    if reservation.status == ReservationStatus.CANCELED:
        raise Conflict("A canceled reservation stays canceled.", code="reservation_canceled")
    if (reservation.status, status) not in TRANSITIONS:
        raise Conflict(
            f"A {reservation.status} reservation cannot become {status}.",
            code="invalid_status_transition",
        )
    if status == ReservationStatus.CANCELED and not actor.is_admin and reservation.time_slot <= now:
        raise Conflict("The slot has started; ask an administrator.", code="reservation_started")
    reservation.status = status
    reservation.updated_at = utcnow()
    await db.flush()
    events.reservation_changed(db, reservation, "update")
    if status == ReservationStatus.CANCELED:
        await cancel_reservation_jobs(db, reservation.id)
        await leave_queue(db, reservation, notices)
    else:
        await schedule_reminder(db, reservation, notices, now=now)
    return reservation


async def move(
    db: AsyncSession,
    actor: User,
    reservation_id: uuid.UUID,
    time_slot: datetime,
    *,
    now: datetime,
    policy: BookingPolicy,
    notices: Notices,
) -> Reservation:
    """Move a reservation to another slot of its service (the owner until its slot starts,
    admins any time), under the same rules as booking that slot; it keeps its status. Its
    queued reminder and notices are canceled, and a confirmed one gets a reminder for the
    new slot. One checked into the queue stays where it is (409)."""
    time_slot = time_slot.astimezone(UTC)
    found = await get_reservation(db, actor, reservation_id)
    # The same locks as booking, owner first: the new slot's places are counted under them.
    await lock_user_bookings(db, found.user_id)
    service = await lock_service(db, found.service_id)
    reservation = await get_reservation(db, actor, reservation_id)
    if reservation.status == ReservationStatus.CANCELED:
        raise Conflict("A canceled reservation stays canceled.", code="reservation_canceled")
    if not actor.is_admin and reservation.time_slot <= now:
        raise Conflict("The slot has started; ask an administrator.", code="reservation_started")
    if time_slot == reservation.time_slot:
        return reservation  # nothing to move
    if await in_queue(db, reservation.id):
        raise Conflict(
            "The reservation is checked into the queue; it cannot move.",
            code="reservation_in_queue",
        )
    _check_slot(service, time_slot, now=now, policy=policy)
    taken, mine, _ = await _counts(db, reservation.user_id, service.id, time_slot, now)
    if mine:
        raise Conflict("A reservation for this slot is already held.", code="already_reserved")
    if taken >= service.capacity:
        raise Conflict("This slot is fully booked.", code="slot_full")
    await cancel_reservation_jobs(db, reservation.id)
    reservation.time_slot = time_slot
    reservation.updated_at = utcnow()
    try:
        await db.flush()
    except IntegrityError as exc:  # the unique index, should a writer ever skip the lock
        raise Conflict(
            "A reservation for this slot is already held.", code="already_reserved"
        ) from exc
    events.reservation_changed(db, reservation, "update")
    await schedule_reminder(db, reservation, notices, now=now)
    return reservation
