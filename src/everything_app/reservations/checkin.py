"""Which reservation may join a service's queue now, and why not (the 409s of check-in).

A reservation checks in when it is confirmed, not yet in the queue, and the time is within
its window: from `early` before its slot starts until the slot ends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import User
from everything_app.core.errors import Conflict, NotFound, ValidationFailed
from everything_app.reservations.models import (
    QueueEntry,
    Reservation,
    ReservationStatus,
    Service,
)


def _refuse(
    reservation: Reservation,
    queued: set[uuid.UUID],
    *,
    now: datetime,
    early: timedelta,
    length: timedelta,
) -> Conflict | None:
    """Why this reservation cannot be checked in now, or None if it can."""
    if reservation.status == ReservationStatus.CANCELED:
        return Conflict("The reservation is canceled.", code="reservation_canceled")
    if reservation.status != ReservationStatus.CONFIRMED:
        return Conflict("The reservation is not confirmed yet.", code="reservation_not_confirmed")
    if not reservation.time_slot - early <= now < reservation.time_slot + length:
        return _outside_window(reservation, early=early, length=length, now=now)
    if reservation.id in queued:
        return Conflict("This reservation is already in the queue.", code="already_in_queue")
    return None


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _outside_window(
    reservation: Reservation, *, early: timedelta, length: timedelta, now: datetime
) -> Conflict:
    """409 naming the reservation's check-in window, so a client can say when to come back."""
    opens, closes = reservation.time_slot - early, reservation.time_slot + length
    if now < opens:
        message = f"Check-in for the reservation at {_iso(reservation.time_slot)} opens at "
        message += f"{_iso(opens)}."
    else:
        message = f"Check-in for the reservation at {_iso(reservation.time_slot)} closed at "
        message += f"{_iso(closes)}."
    detail = {
        "reservation_id": str(reservation.id),
        "time_slot": _iso(reservation.time_slot),
        "checkin_opens_at": _iso(opens),
        "checkin_closes_at": _iso(closes),
        "status": reservation.status,  # check-in also needs it confirmed by then
    }
    return Conflict(message, code="outside_checkin_window", details=[detail])


async def _next_reservation(
    db: AsyncSession, actor: User, service: Service, *, after: datetime
) -> Reservation | None:
    """The caller's next active reservation for this service starting after `after`."""
    query = (
        select(Reservation)
        .where(
            Reservation.user_id == actor.id,
            Reservation.service_id == service.id,
            Reservation.status != ReservationStatus.CANCELED,
            Reservation.time_slot > after,
        )
        .order_by(Reservation.time_slot)
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def to_check_in(
    db: AsyncSession,
    actor: User,
    service: Service,
    reservation_id: uuid.UUID | None,
    *,
    now: datetime,
    early: timedelta,
) -> Reservation:
    """The reservation to check in: the one named, or the caller's own for now."""
    length = timedelta(minutes=service.duration_minutes)
    if reservation_id is not None:
        query = select(Reservation).where(Reservation.id == reservation_id)
        if not actor.is_admin:
            query = query.where(Reservation.user_id == actor.id)
        found = (await db.execute(query)).scalar_one_or_none()
        if found is None:
            raise NotFound("Reservation not found.", code="reservation_not_found")
        if found.service_id != service.id:
            raise ValidationFailed(
                "The reservation is for another service.", code="reservation_for_another_service"
            )
        candidates = [found]
    else:
        query = (
            select(Reservation)
            .where(
                Reservation.user_id == actor.id,
                Reservation.service_id == service.id,
                Reservation.status != ReservationStatus.CANCELED,
                Reservation.time_slot > now - length,
                Reservation.time_slot <= now + early,
            )
            .order_by(Reservation.time_slot)
        )
        candidates = list((await db.execute(query)).scalars())
        if not candidates:
            # Too early rather than nothing: say when check-in opens for the next one.
            upcoming = await _next_reservation(db, actor, service, after=now + early)
            if upcoming is not None:
                raise _outside_window(upcoming, early=early, length=length, now=now)
            raise Conflict(
                "You have no reservation for this service right now or later.",
                code="no_reservation_now",
            )
    checked_in = await db.execute(
        select(QueueEntry.reservation_id).where(
            QueueEntry.reservation_id.in_([c.id for c in candidates])
        )
    )
    queued = {rid for rid in checked_in.scalars() if rid is not None}
    first_refusal: Conflict | None = None
    for candidate in candidates:
        refusal = _refuse(candidate, queued, now=now, early=early, length=length)
        if refusal is None:
            return candidate
        first_refusal = first_refusal or refusal
    assert first_refusal is not None
    raise first_refusal
