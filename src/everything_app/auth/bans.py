"""Bans (better-auth's admin plugin): a banned user can not sign in nor use a credential
while the ban holds; a ban with an expiry lapses by itself, lifted at the next sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth.models import User
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import Forbidden


class BannedUser(Forbidden):
    code = "banned_user"
    # better-auth's default `bannedUserMessage`.
    message = (
        "You have been banned from this application. "
        "Please contact support if you believe this is an error."
    )


class Bannable(Protocol):
    @property
    def banned(self) -> bool: ...

    @property
    def ban_expires(self) -> datetime | None: ...


def ban_holds(user: Bannable, now: datetime | None = None) -> bool:
    """Whether `user` is banned right now (a ban past its expiry no longer holds)."""
    if not user.banned:
        return False
    return user.ban_expires is None or user.ban_expires > (now or utcnow())


async def refuse_banned(db: AsyncSession, user: User) -> None:
    """At sign-in (a new session): 403 `BANNED_USER` while the ban holds; a lapsed ban is
    lifted, as better-auth does in its session-create hook."""
    if not user.banned:
        return
    if ban_holds(user):
        raise BannedUser()
    now = utcnow()
    await db.execute(
        update(User)
        .where(User.id == user.id)
        .values(banned=False, ban_reason=None, ban_expires=None, updated_at=now)
    )
    user.banned, user.ban_reason, user.ban_expires, user.updated_at = False, None, None, now
    record_change(db, Change("users", "update", user.id, user.id))
