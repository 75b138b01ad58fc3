"""Who may see what: admins see every reservation and queue entry, users only their own.

The application's own checks are the WHERE clauses in booking.py and queue.py. On PostgreSQL,
row-level security backs them up (core.rls) and would hide other users' rows from a user's
transaction, but some answers are about everyone's rows by nature: how many places of a slot
are taken, the next queue position, who is in service, how many wait ahead of you. The
functions that compute those call `span_users` first; they return counts and positions, or
act under the service lock on the service's whole queue, never another user's data.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core import rls

SHARED_TABLES = ("reservations", "queue_entries")


async def span_users(db: AsyncSession) -> None:
    """Let this unit of work count and order every user's reservations and queue entries."""
    await rls.act_as_system(
        db, tables=SHARED_TABLES, reason="slot capacity and queue order span users"
    )
