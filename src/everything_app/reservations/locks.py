"""Serialising the writes whose checks count rows (capacity, limits, queue positions).

A check like "fewer than `capacity` reservations exist" followed by an insert is only safe if
no other transaction can do the same in between. Every such write therefore runs under a lock:

- PostgreSQL: the service's row, locked `FOR NO KEY UPDATE` until the transaction ends, for
  anything about one service (bookings, cancellations, the queue); and a transaction-scoped
  advisory lock per user for their future-reservation limit. Locks are always taken user
  first, then service, so two transactions never wait for each other in a cycle.
  `NO KEY UPDATE` (not `UPDATE`) leaves the foreign-key checks of other inserts alone.
- SQLite: a writing unit of work already holds the database's single write lock from its
  first statement (`BEGIN IMMEDIATE`, see core.db), so every write is serialised; these
  functions only check that the caller really is in such a transaction.

The unique indexes in models.py remain the backstop if a writer ever skips the lock.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.errors import NotFound
from everything_app.reservations.access import span_users
from everything_app.reservations.models import Service

# First key of our advisory locks, so that they never collide with another feature's.
USER_BOOKINGS_LOCK = 0x45_41_52_55  # "EARU"


async def _dialect(db: AsyncSession) -> str:
    connection = (await db.connection()).sync_connection
    assert connection is not None
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    if connection.dialect.name == "sqlite" and not immediate:
        raise RuntimeError("a reservation write needs a writing unit of work (BEGIN IMMEDIATE)")
    return connection.dialect.name


async def lock_service(db: AsyncSession, service_id: uuid.UUID) -> Service:
    """The service, locked for the rest of the transaction; 404 when it does not exist.
    The caller then works on the service's whole set of reservations and queue entries."""
    await _dialect(db)
    await span_users(db)
    service = (
        await db.execute(
            select(Service)
            .where(Service.id == service_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE; nothing on SQLite
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if service is None:
        raise NotFound("Service not found.", code="service_not_found")
    return service


async def lock_user_bookings(db: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise one user's bookings (their limit spans services). Take before lock_service."""
    if await _dialect(db) == "postgresql":
        key = int.from_bytes(user_id.bytes[:4], "big", signed=True)
        await db.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": USER_BOOKINGS_LOCK, "key": key},
        )
