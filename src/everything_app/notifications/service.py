"""Sending, listing and reading notifications; always scoped to their user.

Another user's notification and a missing one are the same 404. Writes record change events
(core.changes), published after the commit: that is how a notification reaches the user's
live `notifications.list` the moment it is stored. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import User
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import NotFound
from everything_app.core.pagination import Keyset, keyset_page
from everything_app.mail import send_mail
from everything_app.notifications.models import Notification

TABLE = "notifications"
NEWEST_FIRST = Keyset(Notification.created_at, Notification.id)


def _changed(db: AsyncSession, row: Notification, op: str) -> None:
    data = {"kind": row.kind, "read": row.read_at is not None}
    record_change(db, Change(TABLE, op, row.id, row.user_id, data))  # type: ignore[arg-type]


async def notify(
    db: AsyncSession,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> Notification:
    """Tell `user_id` something, in the caller's unit of work (it lands with the caller's
    writes, or not at all). With a `key`, at most once: sending the same key again (a job
    delivered twice, two writers racing) returns the notification already stored and sends
    nothing. The caller must act for `user_id` (or as system) on PostgreSQL."""
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "kind": kind,
        "title": title,
        "body": body,
        "data": data or {},
        "key": key,
        "created_at": utcnow(),
    }
    if key is None:
        row = Notification(**values)
        db.add(row)
        await db.flush()
    else:
        # One statement, no savepoint: a key already used inserts nothing instead of failing
        # (so a racing duplicate neither aborts the caller's transaction nor sends twice).
        insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(Notification)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Notification.user_id, Notification.key])
            .returning(Notification)
        )
        inserted = (await db.scalars(statement)).one_or_none()
        if inserted is None:
            found = await db.scalar(
                select(Notification).where(Notification.user_id == user_id, Notification.key == key)
            )
            assert found is not None, "a conflicting key's row is the user's own"
            return found
        row = inserted
    _changed(db, row, "insert")
    await deliver(db, row)
    return row


async def deliver(db: AsyncSession, notification: Notification) -> None:
    """Delivery beyond the app, for a notification just stored (once per notification).

    Realtime needs nothing here: the change event recorded with the row brings it to the
    user's open pages. Mail: its send job is queued in this same unit of work, so a slow
    mail server never slows the sender, and keyed by the notification, so it is mailed at
    most once however often the sender's job is redelivered. With no SMTP_URL the message
    lands in the outbox in DATA_DIR (mail feature)."""
    user = await db.get(User, notification.user_id)
    if user is None:
        return
    await send_mail(
        db,
        user.email,
        "notification",
        {"name": user.name or user.email, "title": notification.title, "body": notification.body},
        user_id=notification.user_id,
        key=f"notification:{notification.id}:mail",
    )


async def list_notifications(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
    unread: bool | None = None,
) -> tuple[list[Notification], str | None]:
    """The user's notifications, newest first; only unread (or only read) ones if `unread`."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return await keyset_page(db, query, NEWEST_FIRST, cursor=cursor, limit=limit)


async def get_notification(
    db: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    found = await db.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )
    if found is None:
        raise NotFound("Notification not found.", code="notification_not_found")
    return found


async def mark_read(
    db: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID, *, now: datetime
) -> Notification:
    """Mark one of the user's notifications read (again: it keeps its first read time)."""
    row = await get_notification(db, user_id, notification_id)
    if row.read_at is None:
        row.read_at = now
        await db.flush()
        _changed(db, row, "update")
    return row
