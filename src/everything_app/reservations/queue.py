"""Each service's queue: check-in, the admin's advance and skip, and who is ahead of whom.

Positions are ticket numbers (1, 2, 3... per service, never reused); the entry in service is
the one that was called, and the next to be called is the waiting entry with the lowest
position. Every write runs under the service lock (locks.py), which makes "next position"
and "who is in service" race-free; unique indexes back both up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import User
from everything_app.core.db import utcnow
from everything_app.core.errors import Conflict, Forbidden, NotFound
from everything_app.reservations import events
from everything_app.reservations.access import span_users
from everything_app.reservations.catalog import get_service
from everything_app.reservations.checkin import to_check_in
from everything_app.reservations.locks import lock_service
from everything_app.reservations.models import (
    ACTIVE_QUEUE_STATUSES,
    QueueEntry,
    QueueStatus,
    Reservation,
)
from everything_app.reservations.notices import Notices, schedule_queue_notices


@dataclass(frozen=True)
class Place:
    entry: QueueEntry
    ahead: int | None  # waiting entries to be called first; 0 in service; None when done


@dataclass(frozen=True)
class QueueView:
    service_id: uuid.UUID
    now_serving: int | None
    waiting_count: int
    places: list[Place]


@dataclass(frozen=True)
class Moved:
    finished: QueueEntry | None
    called: QueueEntry | None
    now_serving: int | None  # as in QueueView: the position in service after the move
    waiting_count: int


class QueueConflict(Conflict):
    code = "queue_conflict"
    message = "The queue changed at the same moment; please try again."


async def _flush(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:  # a unique index caught what the lock should have
        raise QueueConflict() from exc


async def _in_service(db: AsyncSession, service_id: uuid.UUID) -> QueueEntry | None:
    query = select(QueueEntry).where(
        QueueEntry.service_id == service_id, QueueEntry.status == QueueStatus.IN_SERVICE
    )
    return (await db.execute(query)).scalar_one_or_none()


async def _next_waiting(db: AsyncSession, service_id: uuid.UUID) -> QueueEntry | None:
    query = (
        select(QueueEntry)
        .where(QueueEntry.service_id == service_id, QueueEntry.status == QueueStatus.WAITING)
        .order_by(QueueEntry.position)
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def _ahead(db: AsyncSession, entry: QueueEntry) -> int | None:
    if entry.status != QueueStatus.WAITING:
        return 0 if entry.status == QueueStatus.IN_SERVICE else None
    query = (
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.service_id == entry.service_id,
            QueueEntry.status == QueueStatus.WAITING,
            QueueEntry.position < entry.position,
        )
    )
    return int(await db.scalar(query) or 0)


async def summary(db: AsyncSession, service_id: uuid.UUID) -> tuple[int | None, int]:
    """(position in service, number waiting), in one grouped query."""
    rows = await db.execute(
        select(QueueEntry.status, func.min(QueueEntry.position), func.count())
        .where(
            QueueEntry.service_id == service_id,
            QueueEntry.status.in_(ACTIVE_QUEUE_STATUSES),
        )
        .group_by(QueueEntry.status)
    )
    found = {status: (head, count) for status, head, count in rows}
    serving = found.get(QueueStatus.IN_SERVICE)
    return (serving[0] if serving else None), found.get(QueueStatus.WAITING, (None, 0))[1]


async def _announce(
    db: AsyncSession, service_id: uuid.UUID, inserted: bool, *entries: QueueEntry
) -> tuple[int | None, int]:
    """Record the entries' changes and the queue's; returns (now serving, how many wait)."""
    for entry in entries:
        events.entry_changed(db, entry, "insert" if inserted else "update")
    now_serving, waiting = await summary(db, service_id)
    events.queue_moved(db, service_id, now_serving, waiting)
    return now_serving, waiting


async def join(
    db: AsyncSession,
    actor: User,
    service_id: uuid.UUID,
    *,
    reservation_id: uuid.UUID | None,
    label: str | None,
    now: datetime,
    early: timedelta,
) -> Place:
    """Append a waiting entry: a checked-in reservation, or (admins) a walk-in."""
    if label is not None and not actor.is_admin:
        raise Forbidden("Only an administrator adds walk-ins and labels.", code="admin_required")
    service = await lock_service(db, service_id)
    entry = QueueEntry(service_id=service.id, label=label, status=QueueStatus.WAITING)
    if reservation_id is not None or not actor.is_admin:
        reservation = await to_check_in(db, actor, service, reservation_id, now=now, early=early)
        entry.reservation_id = reservation.id
        entry.user_id = reservation.user_id
    entry.position = int(
        await db.scalar(
            select(func.coalesce(func.max(QueueEntry.position), 0) + 1).where(
                QueueEntry.service_id == service.id
            )
        )
        or 1
    )
    db.add(entry)
    await _flush(db)
    _, waiting = await _announce(db, service.id, True, entry)
    return Place(entry, waiting - 1)  # the newest entry is last: everyone else waits ahead


async def _move_on(
    db: AsyncSession,
    service_id: uuid.UUID,
    finished: QueueEntry | None,
    outcome: Literal[QueueStatus.COMPLETED, QueueStatus.SKIPPED],
    upcoming: QueueEntry | None,
    notices: Notices,
) -> Moved:
    changed = []
    if finished is not None:
        finished.status = outcome
        finished.updated_at = utcnow()
        # Flushed on its own: the one-in-service index is checked per statement, and one
        # flush would order the two UPDATEs by primary key, not by what must come first.
        await _flush(db)
        changed.append(finished)
    if upcoming is not None:
        upcoming.status = QueueStatus.IN_SERVICE
        upcoming.updated_at = utcnow()
        await _flush(db)
        changed.append(upcoming)
    now_serving, waiting = await _announce(db, service_id, False, *changed)
    # Who is told: the entry just called, and the one now N places from the front.
    await schedule_queue_notices(db, service_id, upcoming, notices)
    return Moved(finished, upcoming, now_serving, waiting)


async def advance(db: AsyncSession, service_id: uuid.UUID, notices: Notices) -> Moved:
    """Complete the entry in service (if any) and call the next waiting one (if any)."""
    await lock_service(db, service_id)
    current = await _in_service(db, service_id)
    upcoming = await _next_waiting(db, service_id)
    if current is None and upcoming is None:
        raise Conflict("Nobody is in service or waiting.", code="queue_empty")
    return await _move_on(db, service_id, current, QueueStatus.COMPLETED, upcoming, notices)


async def skip(
    db: AsyncSession, service_id: uuid.UUID, entry_id: uuid.UUID | None, notices: Notices
) -> Moved:
    """Skip a no-show: by default the entry in service (then the next is called), or a
    given waiting entry."""
    await lock_service(db, service_id)
    if entry_id is None:
        target = await _in_service(db, service_id)
        if target is None:
            raise Conflict("Nobody is in service.", code="nobody_in_service")
    else:
        target = (
            await db.execute(
                select(QueueEntry).where(
                    QueueEntry.id == entry_id, QueueEntry.service_id == service_id
                )
            )
        ).scalar_one_or_none()
        if target is None:
            raise NotFound("Queue entry not found.", code="queue_entry_not_found")
        if target.status not in ACTIVE_QUEUE_STATUSES:
            raise Conflict(f"The entry is already {target.status}.", code="entry_not_active")
    upcoming = (
        await _next_waiting(db, service_id) if target.status == QueueStatus.IN_SERVICE else None
    )
    return await _move_on(db, service_id, target, QueueStatus.SKIPPED, upcoming, notices)


async def leave_queue(db: AsyncSession, reservation: Reservation, notices: Notices) -> None:
    """A canceled reservation's active entry is skipped (caller holds the service lock).
    If it was in service, nobody is called in its place: the admin advances."""
    entry = (
        await db.execute(
            select(QueueEntry).where(
                QueueEntry.reservation_id == reservation.id,
                QueueEntry.status.in_(ACTIVE_QUEUE_STATUSES),
            )
        )
    ).scalar_one_or_none()
    if entry is not None:
        await _move_on(db, reservation.service_id, entry, QueueStatus.SKIPPED, None, notices)


async def in_queue(db: AsyncSession, reservation_id: uuid.UUID) -> bool:
    """Whether the reservation holds an active place in its service's queue."""
    found = await db.scalar(
        select(QueueEntry.id).where(
            QueueEntry.reservation_id == reservation_id,
            QueueEntry.status.in_(ACTIVE_QUEUE_STATUSES),
        )
    )
    return found is not None


async def view(db: AsyncSession, actor: User, service_id: uuid.UUID, *, limit: int) -> QueueView:
    """Admins: the entries in service and waiting, in order (at most `limit`).
    Users: only their own active entries."""
    await get_service(db, service_id)
    await span_users(db)
    now_serving, waiting_count = await summary(db, service_id)
    query = (
        select(QueueEntry)
        .where(
            QueueEntry.service_id == service_id,
            QueueEntry.status.in_(ACTIVE_QUEUE_STATUSES),
        )
        .order_by(QueueEntry.position)
    )
    if actor.is_admin:
        places, waiting_before = [], 0
        for entry in (await db.execute(query.limit(limit))).scalars():
            if entry.status == QueueStatus.WAITING:
                places.append(Place(entry, waiting_before))
                waiting_before += 1
            else:
                places.append(Place(entry, 0))
    else:
        mine = (await db.execute(query.where(QueueEntry.user_id == actor.id))).scalars()
        places = [Place(entry, await _ahead(db, entry)) for entry in mine]
    return QueueView(service_id, now_serving, waiting_count, places)
