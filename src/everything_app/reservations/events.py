"""Change events for every reservation and queue write (published after the commit).

Besides one event per written row (owned by the reservation's user, so only they and admins
hear of it), every queue write records a `queues` event for the whole queue, owned by no one:
when the queue moves, the position of everyone in it relative to the head changes although
their rows do not, and a live "my place in the queue" query must re-run for all of them.
Its data holds only counts and positions, which any signed-in user may read anyway; its
row_id is the service's id (the queue is `/api/queues/{service_id}`).
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.changes import Change, record_change
from everything_app.core.timestamps import format_instant
from everything_app.reservations.models import QueueEntry, Reservation, Service

Op = Literal["insert", "update", "delete"]


def service_changed(db: AsyncSession, service: Service, op: Op) -> None:
    record_change(db, Change("services", op, service.id, None, {"name": service.name}))


def reservation_changed(db: AsyncSession, reservation: Reservation, op: Op) -> None:
    data = {
        "service_id": str(reservation.service_id),
        "time_slot": format_instant(reservation.time_slot),
        "status": reservation.status,
    }
    record_change(db, Change("reservations", op, reservation.id, reservation.user_id, data))


def entry_changed(db: AsyncSession, entry: QueueEntry, op: Op) -> None:
    data = {
        "service_id": str(entry.service_id),
        "reservation_id": str(entry.reservation_id) if entry.reservation_id else None,
        "position": entry.position,
        "status": entry.status,
    }
    record_change(db, Change("queue_entries", op, entry.id, entry.user_id, data))


def queue_moved(
    db: AsyncSession, service_id: uuid.UUID, now_serving: int | None, waiting_count: int
) -> None:
    data = {"service_id": str(service_id), "now_serving": now_serving, "waiting": waiting_count}
    record_change(db, Change("queues", "update", service_id, None, data))
