"""Tables linking users to identities elsewhere: an external issuer's subjects (bearer
JWTs), social accounts (better-auth's `account` table), and sign-ins under way."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from everything_app.core.db import Base, IdMixin, TimestampMixin, utcnow


class OidcIdentity(IdMixin, Base):
    """An external issuer's subject (`iss`, `sub`) and the local user it is."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(IdMixin, TimestampMixin, Base):
    """A social sign-in linked to a user (better-auth's `account`: providerId, accountId,
    userId). The provider's tokens are not stored: we use them once, at the callback, to
    learn who signed in, and call the provider's API for nobody afterwards."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("provider_id", "account_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[str] = mapped_column(String(50))
    account_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str | None] = mapped_column(String(1000))


class OAuthState(Base):
    """A social sign-in under way: the `state` sent to the provider (kept hashed) and what
    the callback needs. Deleted by the callback that uses it: a state works once."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(50))
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(String(64))
    callback_url: Mapped[str] = mapped_column(String(2048))
    error_url: Mapped[str | None] = mapped_column(String(2048))
    new_user_url: Mapped[str | None] = mapped_column(String(2048))
    expires_at: Mapped[datetime] = mapped_column(index=True)
