"""The columns every user-owned table has."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, TimestampMixin


class OwnedBase(IdMixin, TimestampMixin, Base):
    """The base of an owned table's model: `id`, `user_id` (the owner; deleting the user
    deletes the row), `created_at`, `updated_at`. Row-level security keys on `user_id`."""

    __abstract__ = True

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
