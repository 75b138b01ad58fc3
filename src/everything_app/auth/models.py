from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, TimestampMixin, utcnow


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'admin')", name="role"),
        # The admin list's default order (auth.admin): its first page reads 50 index entries.
        Index("ix_users_created", "created_at", "id"),
    )

    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER)
    email_verified: Mapped[bool] = mapped_column(default=False)
    image: Mapped[str | None] = mapped_column(String(2048))
    # better-auth's admin plugin: a ban (auth.admin), lapsing by itself at `ban_expires`.
    banned: Mapped[bool] = mapped_column(default=False, server_default=false())
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    ban_expires: Mapped[datetime | None]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Session(IdMixin, TimestampMixin, Base):
    """A signed-in device. Only a hash of its token is kept."""

    __tablename__ = "sessions"
    # The housekeeping sweep finds expired sessions by it (each batch an index range).
    __table_args__ = (Index("ix_sessions_expires_at", "expires_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))


class ApiKey(IdMixin, Base):
    """A user's key for calling the API. Only a hash of the secret is kept.

    A credential like a session, so it is auth's table; `keys` manages them over HTTP."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_created", "user_id", "created_at", "id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
    # When it was revoked: the housekeeping sweep deletes it a grace period later.
    revoked_at: Mapped[datetime | None]

    @property
    def status(self) -> KeyStatus:
        if self.revoked:
            return KeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= utcnow():
            return KeyStatus.EXPIRED
        return KeyStatus.ACTIVE


class AdminAction(IdMixin, Base):
    """Who did what to whom through the admin endpoints (auth.admin); read by admins only."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_created", "created_at", "id"),)

    # Kept when either account is deleted: the record outlives them.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountExport(IdMixin, Base):
    """A user's data as one zip archive (GDPR portability), kept in the database so that
    every instance can serve it, until `expires_at` (then pruned). One per export job."""

    __tablename__ = "account_exports"
    __table_args__ = (
        Index("ix_account_exports_user_created", "user_id", "created_at", "id"),
        Index("ix_account_exports_expires", "expires_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The job that built it: a job run again (at-least-once delivery) finds its archive.
    job_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    size: Mapped[int]
    # Rows per section, as in the archive's manifest.
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)


class PasswordReset(IdMixin, Base):
    """A pending password reset: the emailed token's hash (the token itself is never
    stored), single-use (deleted when used), expiring (auth.recovery)."""

    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
