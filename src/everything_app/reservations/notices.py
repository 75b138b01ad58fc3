"""What a reservation's holder is told, and when: a reminder before a confirmed slot, and
notices as the queue moves (N places from the front, then "your turn").

Both go through jobs (core.jobs), enqueued in the unit of work that causes them (booking,
confirming, moving, the admin's advance or skip), so they exist only if that work commits,
and a slow delivery (mail, later) never slows the click that caused it. Every job of a
reservation has a key under `reservation:<id>:`; canceling or moving the reservation cancels
those still queued. Handlers re-read the reservation or queue entry and send nothing when it
no longer holds (the reminder-after-cancellation bug class), and a notification carries a key,
so a redelivered job never notifies twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.db import utcnow
from everything_app.core.jobs import JobContext, JobKind, JobKinds, cancel_queued, enqueue
from everything_app.core.timestamps import format_instant
from everything_app.notifications import notify
from everything_app.reservations.access import span_users
from everything_app.reservations.models import (
    QueueEntry,
    QueueStatus,
    Reservation,
    ReservationStatus,
    Service,
)
from everything_app.settings import Settings

REMIND = "reservations.remind"
QUEUE_NOTICE = "reservations.queue_notice"
YOUR_TURN = 0  # the queue notice's place when the entry is called


@dataclass(frozen=True)
class Notices:
    """What to tell holders: the reminder's lead time (None: no reminders) and the place
    from the front of a queue at which a waiting holder is told (0: only "your turn")."""

    reminder_before: timedelta | None
    position: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Notices:
        return cls(settings.reservation_reminder_before, settings.reservation_notify_position)


# --- keys -------------------------------------------------------------------------------


def reservation_jobs(reservation_id: uuid.UUID) -> str:
    """The key prefix of every job about one reservation."""
    return f"reservation:{reservation_id}:"


def reminder_key(reservation_id: uuid.UUID, start: datetime) -> str:
    """The reminder of one slot start: its notification's key (one reminder per start)."""
    return f"{reservation_jobs(reservation_id)}remind:{format_instant(start)}"


def reminder_job_key(reservation: Reservation) -> str:
    """The reminder job's key: `reminder_key` and when the reservation was confirmed or
    moved. A job key is unique forever, and a canceled job keeps its key: without the
    suffix, moving a reservation away and back to a start would find that canceled job
    and get no reminder."""
    start = reminder_key(reservation.id, reservation.time_slot)
    return f"{start}@{format_instant(reservation.updated_at)}"


def queue_notice_key(reservation_id: uuid.UUID, entry_id: uuid.UUID, place: int) -> str:
    what = "turn" if place == YOUR_TURN else f"place:{place}"
    return f"{reservation_jobs(reservation_id)}queue:{entry_id}:{what}"


# --- the jobs' arguments ----------------------------------------------------------------


class ReminderArgs(BaseModel):
    reservation_id: uuid.UUID
    start: AwareDatetime = Field(description="The slot start the reminder is for.")


class QueueNoticeArgs(BaseModel):
    entry_id: uuid.UUID
    place: int = Field(ge=0, description="Places from the front; 0: called (your turn).")


# --- scheduling (in the causing unit of work) --------------------------------------------


async def schedule_reminder(
    db: AsyncSession, reservation: Reservation, notices: Notices, *, now: datetime
) -> uuid.UUID | None:
    """Enqueue the reminder of a confirmed reservation, due `reminder_before` its slot
    starts; none when reminders are off or that time has passed. Its key names the slot
    start (`reminder_job_key`), under the reservation's prefix that cancels it."""
    if notices.reminder_before is None or reservation.status != ReservationStatus.CONFIRMED:
        return None
    run_at = reservation.time_slot - notices.reminder_before
    if run_at <= now:
        return None
    args = ReminderArgs(reservation_id=reservation.id, start=reservation.time_slot)
    return await enqueue(
        db,
        REMIND,
        args,
        user_id=reservation.user_id,
        run_at=run_at,
        key=reminder_job_key(reservation),
    )


async def cancel_reservation_jobs(db: AsyncSession, reservation_id: uuid.UUID) -> int:
    """Cancel the reservation's jobs still queued (its reminder, queue notices)."""
    return await cancel_queued(db, key_prefix=reservation_jobs(reservation_id))


async def _waiting_at(db: AsyncSession, service_id: uuid.UUID, place: int) -> QueueEntry | None:
    """The waiting entry `place` places from the front (1: the next to be called)."""
    query = (
        select(QueueEntry)
        .where(QueueEntry.service_id == service_id, QueueEntry.status == QueueStatus.WAITING)
        .order_by(QueueEntry.position)
        .offset(place - 1)
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def schedule_queue_notices(
    db: AsyncSession, service_id: uuid.UUID, called: QueueEntry | None, notices: Notices
) -> None:
    """After the queue moved (caller holds the service lock): notice jobs for the entry just
    called and for the waiting one now `notices.position` places from the front, if they
    are a user's. Keyed per (entry, place): once each, however many admins click."""
    targets: list[tuple[QueueEntry, int]] = []
    if called is not None:
        targets.append((called, YOUR_TURN))
    if notices.position > 0:
        found = await _waiting_at(db, service_id, notices.position)
        if found is not None:
            targets.append((found, notices.position))
    for entry, place in targets:
        if entry.user_id is None or entry.reservation_id is None:
            continue  # a walk-in: nobody to tell
        await enqueue(
            db,
            QUEUE_NOTICE,
            QueueNoticeArgs(entry_id=entry.id, place=place),
            user_id=entry.user_id,
            key=queue_notice_key(entry.reservation_id, entry.id, place),
        )


# --- the handlers (in a worker, acting for the holder) ------------------------------------


def _local(instant: datetime, service: Service) -> str:
    local = instant.astimezone(ZoneInfo(service.timezone))
    return f"{local:%Y-%m-%d %H:%M} ({service.timezone})"


def _holds(ctx: JobContext, owner: uuid.UUID) -> bool:
    """Whether the job acts for `owner` (the app's own jobs act for everyone)."""
    return ctx.user_id is None or ctx.user_id == owner


def _skipped(reason: str) -> dict[str, Any]:
    return {"sent": False, "reason": reason}


async def send_reminder(ctx: JobContext, args: ReminderArgs) -> dict[str, Any]:
    """Remind the holder of their slot, if the reservation is still confirmed at that
    start and the slot has not begun (a job that ran late, after an outage)."""
    async with ctx.unit_of_work(write=True) as db:
        reservation = await db.get(Reservation, args.reservation_id)
        # Another user's is none of this job's business (row-level security hides it on
        # PostgreSQL; this check holds on both databases).
        if reservation is None or not _holds(ctx, reservation.user_id):
            return _skipped("reservation_gone")
        if reservation.status != ReservationStatus.CONFIRMED:
            return _skipped(f"reservation_{reservation.status}")
        if reservation.time_slot != args.start:
            return _skipped("reservation_moved")
        if reservation.time_slot <= utcnow():
            return _skipped("slot_started")
        service = await db.get(Service, reservation.service_id)
        if service is None:
            return _skipped("service_gone")
        when = _local(reservation.time_slot, service)
        note = await notify(
            db,
            reservation.user_id,
            "reservation.reminder",
            f"Reminder: {service.name} at {when}",
            f"Your reservation for {service.name} starts at {when}.",
            {
                "reservation_id": str(reservation.id),
                "service_id": str(service.id),
                "time_slot": format_instant(reservation.time_slot),
            },
            key=reminder_key(reservation.id, args.start),
        )
        return {"sent": True, "notification_id": str(note.id)}


def _ordinal(place: int) -> str:
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"


async def send_queue_notice(ctx: JobContext, args: QueueNoticeArgs) -> dict[str, Any]:
    """Tell the entry's holder it is their turn, or how near the front they are, if that
    still holds: their turn only while in service, a place only while still waiting."""
    async with ctx.unit_of_work(write=True) as db:
        entry = await db.get(QueueEntry, args.entry_id)
        if (
            entry is None
            or entry.user_id is None
            or entry.reservation_id is None
            or not _holds(ctx, entry.user_id)
        ):
            return _skipped("entry_gone")
        service = await db.get(Service, entry.service_id)
        if service is None:
            return _skipped("service_gone")
        data: dict[str, Any] = {
            "service_id": str(entry.service_id),
            "entry_id": str(entry.id),
            "reservation_id": str(entry.reservation_id),
            "position": entry.position,
        }
        if args.place == YOUR_TURN:
            if entry.status != QueueStatus.IN_SERVICE:
                return _skipped(f"entry_{entry.status}")
            kind, title = "queue.turn", f"It is your turn: {service.name}"
            body = f"Ticket {entry.position} is called: please come to {service.name} now."
        else:
            if entry.status != QueueStatus.WAITING:
                return _skipped(f"entry_{entry.status}")
            await span_users(db)  # the place counts everyone's entries ahead
            place = await _place_of(db, entry)
            kind, title = "queue.place", f"Almost your turn: {service.name}"
            body = (
                f"You are {_ordinal(place)} in line for {service.name} (ticket "
                f"{entry.position}). Please be ready."
            )
            data["place"] = place
        note = await notify(
            db,
            entry.user_id,
            kind,
            title,
            body,
            data,
            key=queue_notice_key(entry.reservation_id, entry.id, args.place),
        )
        return {"sent": True, "notification_id": str(note.id)}


async def _place_of(db: AsyncSession, entry: QueueEntry) -> int:
    """A waiting entry's place from the front: 1 + the waiting entries to be called first."""
    ahead = await db.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.service_id == entry.service_id,
            QueueEntry.status == QueueStatus.WAITING,
            QueueEntry.position < entry.position,
        )
    )
    return int(ahead or 0) + 1


def register_jobs(kinds: JobKinds) -> None:
    kinds.add(
        JobKind(
            REMIND,
            ReminderArgs,
            send_reminder,
            summary="Remind a reservation's holder before their slot.",
        )
    )
    kinds.add(
        JobKind(
            QUEUE_NOTICE,
            QueueNoticeArgs,
            send_queue_notice,
            summary="Tell a queue entry's holder it is their turn, or nearly.",
        )
    )
