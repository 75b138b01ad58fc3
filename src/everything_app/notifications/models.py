"""A notification: one message to one user, kept until their account goes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, utcnow


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The list, newest first, a page at a time (keyset on created_at, id).
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        # What makes sending idempotent: one notification per (user, key). NULL keys (a
        # notification that may be sent any number of times) are distinct on both databases.
        UniqueConstraint("user_id", "key"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Dotted, feature first: "reservation.reminder", "queue.turn", "queue.place".
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # What a client needs to act on it (ids, instants), JSON.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The sender's idempotency key (e.g. "reservation:<id>:remind:<start>"); never shown.
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
