"""Password reset by email (better-auth's flow): a random token mailed as a link, kept only
as its hash, used once, expiring; using it sets the password and signs every device out.

Whether the address has an account changes neither the answer nor the work done in the
request: the request queues one `auth.account_mail` job for any address (auth.mail_jobs),
and that job runs `request_reset`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import passwords, service
from everything_app.auth.models import PasswordReset, User
from everything_app.core import rls
from everything_app.core.changes import Change, record_change
from everything_app.core.errors import BadRequest
from everything_app.core.security import new_token, token_hash
from everything_app.mail import send_mail

RESET_TEMPLATE = "reset-password"
RESET_MESSAGE = "If this email exists in our system, check your email for the reset link"


class InvalidToken(BadRequest):
    code = "invalid_token"
    message = "Invalid token"


@dataclass(frozen=True)
class ResetRequest:
    email: str | None  # canonical, or None when the address is not one
    redirect_to: str | None  # already checked against the trusted origins
    auth_url: str  # the auth routes' absolute base, e.g. https://api.example.com/api/auth
    ttl: timedelta
    now: datetime


def reset_link(auth_url: str, token: str, redirect_to: str | None) -> str:
    """better-auth's emailed link: `<base>/reset-password/<token>?callbackURL=<redirectTo>`."""
    return f"{auth_url}/reset-password/{token}?callbackURL={quote(redirect_to or '', safe='')}"


async def request_reset(db: AsyncSession, request: ResetRequest) -> None:
    """Mail a reset link to the account of `request.email`, if there is one (a job's work)."""
    user = await service.get_user_by_email(db, request.email) if request.email else None
    if user is None:
        return
    await service.act_as(db, user)
    await db.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.expires_at <= request.now
        )
    )
    token = new_token()
    await db.execute(
        insert(PasswordReset).values(
            id=uuid.uuid4(),
            user_id=user.id,
            token_hash=token_hash(token),
            expires_at=request.now + request.ttl,
            created_at=request.now,
        )
    )
    await send_mail(
        db,
        user.email,
        RESET_TEMPLATE,
        {"name": user.name, "url": reset_link(request.auth_url, token, request.redirect_to)},
        user_id=user.id,
    )


async def token_is_valid(db: AsyncSession, token: str, now: datetime) -> bool:
    """Whether `token` is a pending, unexpired reset (the emailed link's check; not used up)."""
    hashed = token_hash(token)
    await rls.allow_credential_lookup(db, hashed)
    expires_at = (
        await db.execute(select(PasswordReset.expires_at).where(PasswordReset.token_hash == hashed))
    ).scalar_one_or_none()
    return expires_at is not None and expires_at > now


async def reset_password(db: AsyncSession, token: str, new_password: str, now: datetime) -> User:
    """Use the reset `token` (once: it is deleted here, so of two concurrent uses one wins),
    set the new password, and end every session of the account (their live sockets close:
    the same change events as any revocation)."""
    service.check_password_policy(new_password)  # before the token, as better-auth does
    hashed = token_hash(token)
    await rls.allow_credential_lookup(db, hashed)
    used = (
        await db.execute(
            delete(PasswordReset)
            .where(PasswordReset.token_hash == hashed)
            .returning(PasswordReset.user_id, PasswordReset.expires_at)
        )
    ).one_or_none()
    if used is None or used.expires_at <= now:
        raise InvalidToken()
    user = await db.get(User, used.user_id)
    if user is None:  # pragma: no cover - the reset row cascades with its user
        raise InvalidToken()
    await service.act_as(db, user)
    new_hash = await passwords.hash_password(new_password)
    await db.execute(
        update(User).where(User.id == user.id).values(password_hash=new_hash, updated_at=now)
    )
    # Every other pending reset of the account is void now.
    await db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    await service.revoke_other_sessions(db, user, None)
    record_change(db, Change("users", "update", user.id, user.id))
    return user
