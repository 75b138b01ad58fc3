"""Accounts and sessions: the logic and the queries, no HTTP."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Row, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from everything_app.auth import bans, passwords
from everything_app.auth.models import ApiKey, Role, Session, User
from everything_app.core import rls
from everything_app.core.changes import Change, Op, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import AppError, BadRequest, NotFound, Unauthorized
from everything_app.core.security import new_token, token_hash


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SessionPolicy:
    ttl: timedelta
    update_age: timedelta


class InvalidCredentials(Unauthorized):
    code = "invalid_email_or_password"
    message = "Invalid email or password"


class UserAlreadyExists(AppError):
    status_code = 422
    code = "user_already_exists_use_another_email"
    message = "User already exists. Use another email."


def normalize_email(raw: str) -> str:
    """The one canonical form of an address: what an account is stored, found, kept unique
    and rate-limited under. No DNS look-up; BadRequest `invalid_email` if it is not one.

    The whole address is NFKC-normalized and lower-cased first, so compatibility forms of a
    character (full-width letters, ligatures such as U+FB01, the small commercial at U+FE6B)
    are the character itself in the local part too, as UTS-46 makes them in the domain: one
    address a person reads as `victim@example.com` is one account, whichever code points spell
    it. email-validator then maps the domain through IDNA/UTS-46 (full-width letters and the
    ideographic full stop U+3002 included). Applying this to its own output changes nothing.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).lower()).strip()
    try:
        result = validate_email(folded, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadRequest("Invalid email", code="invalid_email") from exc
    return result.normalized.lower()


def sign_in_key(raw: str) -> tuple[str | None, str]:
    """For a sign-in attempt: the canonical email (None if `raw` is not an address) and the
    key its failures are counted under. Every spelling of one account shares one key; an
    invalid address gets a key of its own, so it is answered like an unknown account."""
    try:
        email = normalize_email(raw)
    except BadRequest:
        return None, "invalid:" + unicodedata.normalize("NFKC", raw).strip().lower()
    return email, email


def check_password_policy(password: str) -> None:
    if len(password) < passwords.MIN_LENGTH:
        raise BadRequest("Password too short", code="password_too_short")
    if len(password) > passwords.MAX_LENGTH:
        raise BadRequest("Password too long", code="password_too_long")


async def get_user_by_email(db: AsyncSession, email: str) -> User | None:
    return (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def create_user(
    db: AsyncSession,
    *,
    email: str,
    password: str,
    name: str | None = None,
    image: str | None = None,
    role: str = Role.USER,
) -> User:
    """Validate and insert a user. The role is only ever chosen by server code (create-admin)."""
    email = normalize_email(email)
    check_password_policy(password)
    if await get_user_by_email(db, email) is not None:
        raise UserAlreadyExists()
    user = User(
        email=email,
        name=(name or "").strip() or email.split("@", 1)[0],
        image=image,
        role=Role(role),  # a ValueError for a role that does not exist
        password_hash=await passwords.hash_password(password),
    )
    db.add(user)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise UserAlreadyExists() from exc
    return user


async def create_session(
    db: AsyncSession, user: User, client: ClientInfo, policy: SessionPolicy
) -> tuple[Session, str]:
    await bans.refuse_banned(db, user)  # 403 BANNED_USER, on every way of signing in
    # Signing in makes the rest of this unit of work act for the user (row-level security).
    await act_as(db, user)
    token = new_token()
    session = Session(
        user_id=user.id,
        token_hash=token_hash(token),
        expires_at=utcnow() + policy.ttl,
        ip_address=client.ip_address,
        user_agent=(client.user_agent or "")[:512] or None,
    )
    db.add(session)
    await db.flush()
    return session, token


class Acting(Protocol):
    """Whom a unit of work acts for: a `User`, or a verified credential's snapshot of one."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_admin(self) -> bool: ...


CredentialT = TypeVar("CredentialT", Session, ApiKey)


async def credential_row(
    db: AsyncSession,
    model: type[CredentialT],
    hash_column: InstrumentedAttribute[str],
    hashed: str,
) -> tuple[CredentialT, User] | None:
    """A session's or key's row by its secret's hash, with its owner, in one query."""
    # Nobody is known yet: row-level security lets us read (and end) only this credential.
    await rls.allow_credential_lookup(db, hashed)
    row = (
        await db.execute(
            select(model, User).join(User, User.id == model.user_id).where(hash_column == hashed)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def act_as(db: AsyncSession, user: Acting) -> None:
    """Row-level security: the unit of work's transactions act for `user` from now on."""
    await rls.set_current_user(db, user.id, admin=user.is_admin)


async def authenticate(db: AsyncSession, email: str | None, password: str) -> User:
    """`email` as `normalize_email` gives it, or None for an invalid address. The same 401,
    after the same work, whether the email is invalid or unknown or the password wrong."""
    user = await get_user_by_email(db, email) if email is not None else None
    # An account without a password (signed up elsewhere) answers as an unknown one does.
    ok = await passwords.verify_password((user.password_hash or None) if user else None, password)
    if user is None or not ok:
        raise InvalidCredentials()
    return user


@dataclass(frozen=True)
class ResolvedSession:
    session: Session
    user: User
    refreshed: bool


async def resolve_session(
    db: AsyncSession, token: str, policy: SessionPolicy
) -> ResolvedSession | None:
    """The live session for a token, sliding its expiry forward once per `update_age`.

    From then on the unit of work acts for the session's user (row-level security).
    """
    found = await credential_row(db, Session, Session.token_hash, token_hash(token))
    if found is None:
        return None
    session, user = found
    now = utcnow()
    if session.expires_at <= now:
        await db.execute(delete(Session).where(Session.id == session.id))
        return None
    await act_as(db, user)
    refreshed = False
    if session.expires_at - policy.ttl + policy.update_age <= now:
        session.expires_at = now + policy.ttl
        session.updated_at = now
        await db.flush()
        refreshed = True
    return ResolvedSession(session=session, user=user, refreshed=refreshed)


def _sessions_ended(db: AsyncSession, rows: Sequence[Row[uuid.UUID, uuid.UUID]]) -> None:
    """Announce ended sessions: live sockets (realtime) opened with them close at once."""
    for session_id, user_id in rows:
        record_change(db, Change("sessions", "delete", session_id, user_id))


_ENDED = (Session.id, Session.user_id)


async def delete_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    result = await db.execute(delete(Session).where(Session.id == session_id).returning(*_ENDED))
    _sessions_ended(db, result.all())


async def delete_expired_sessions(db: AsyncSession, *, expired_before: datetime, limit: int) -> int:
    """One batch of the housekeeping sweep, across users: delete at most `limit` sessions that
    expired before `expired_before`, announcing each end (as a sign-out does); returns how
    many. The caller commits each batch, so no statement holds the table for long."""
    await rls.act_as_system(db, tables=["sessions"], reason="sweep expired sessions")
    batch = select(Session.id).where(Session.expires_at < expired_before).limit(limit)
    ended = (
        await db.execute(
            delete(Session)
            .where(Session.id.in_(batch.scalar_subquery()), Session.expires_at < expired_before)
            .returning(*_ENDED)
            .execution_options(synchronize_session=False)
        )
    ).all()
    _sessions_ended(db, ended)
    return len(ended)


async def list_sessions(db: AsyncSession, user: User) -> list[Session]:
    result = await db.execute(
        select(Session)
        .where(Session.user_id == user.id, Session.expires_at > utcnow())
        .order_by(Session.created_at.desc())
    )
    return list(result.scalars())


async def revoke_session(
    db: AsyncSession, user: User, *, session_id: uuid.UUID | None, token: str | None
) -> None:
    """Revoke one of the user's own sessions, named by id or token; another's is a 404."""
    query = delete(Session).where(Session.user_id == user.id)
    if session_id is not None:
        query = query.where(Session.id == session_id)
    elif token:
        query = query.where(Session.token_hash == token_hash(token))
    else:
        raise BadRequest("Give the session's id or token.", code="missing_session")
    ended = (await db.execute(query.returning(*_ENDED))).all()
    if not ended:
        raise NotFound("Session not found.", code="session_not_found")
    _sessions_ended(db, ended)


async def revoke_other_sessions(db: AsyncSession, user: User, keep: uuid.UUID | None) -> None:
    query = delete(Session).where(Session.user_id == user.id)
    if keep is not None:
        query = query.where(Session.id != keep)
    _sessions_ended(db, (await db.execute(query.returning(*_ENDED))).all())


async def _stored(db: AsyncSession, user: User) -> User:
    """The caller's row in this unit of work (a request's `user` is a detached snapshot of
    the verified credential, without the password hash)."""
    stored = await db.get(User, user.id)
    if stored is None:
        raise Unauthorized()
    return stored


def _user_changed(db: AsyncSession, user_id: uuid.UUID, op: Op = "update") -> None:
    """Announce a change to an account: cached credentials of its user are dropped on every
    instance (auth.credentials), and live sockets close when it is deleted (realtime)."""
    record_change(db, Change("users", op, user_id, user_id))


async def change_password(
    db: AsyncSession, user: User, *, current: str, new: str, keep_session: uuid.UUID | None
) -> User:
    """Re-check the current password, store the new hash, sign every other device out."""
    check_password_policy(new)
    user = await _stored(db, user)
    if not await passwords.verify_password(user.password_hash, current):
        raise BadRequest("Invalid password", code="invalid_password")
    new_hash = await passwords.hash_password(new)
    await db.execute(
        update(User).where(User.id == user.id).values(password_hash=new_hash, updated_at=utcnow())
    )
    await revoke_other_sessions(db, user, keep_session)
    _user_changed(db, user.id)
    return user


async def update_profile(
    db: AsyncSession, user: User, *, name: str | None, image: str | None, clear_image: bool
) -> User:
    user = await _stored(db, user)
    if name is not None:
        user.name = name.strip() or user.name
    if image is not None or clear_image:
        user.image = image
    user.updated_at = utcnow()
    await db.flush()
    _user_changed(db, user.id)
    return user


# What an account's deletion ends besides its sessions, announced by the features that own
# it: ON DELETE CASCADE records no change event, and live sockets close on events (realtime).
# Features add theirs in their `register` step (keys: its API keys), so auth need not import
# what is built on it.
AccountDeletionHook = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


class AccountDeletionHooks:
    """One app's hooks, each `hook(db, user_id)` run in the deleting unit of work before the
    rows go (core.features)."""

    def __init__(self) -> None:
        self._hooks: list[AccountDeletionHook] = []

    def add(self, hook: AccountDeletionHook) -> None:
        if hook not in self._hooks:
            self._hooks.append(hook)

    def __iter__(self) -> Iterator[AccountDeletionHook]:
        return iter(list(self._hooks))


async def delete_account(
    db: AsyncSession, user: User, password: str, hooks: Iterable[AccountDeletionHook]
) -> None:
    """Delete the account and, through ON DELETE CASCADE, everything it owns."""
    user = await _stored(db, user)
    if not await passwords.verify_password(user.password_hash, password):
        raise BadRequest("Invalid password", code="invalid_password")
    await erase_account(db, user, hooks)


async def erase_account(db: AsyncSession, user: User, hooks: Iterable[AccountDeletionHook]) -> None:
    """The account's deletion itself, once allowed (its owner, or auth.admin's remove-user)."""
    await revoke_other_sessions(db, user, None)  # announced, unlike the cascade
    for hook in hooks:
        await hook(db, user.id)
    await db.execute(delete(User).where(User.id == user.id))
    _user_changed(db, user.id, "delete")


async def set_role(db: AsyncSession, user: User, role: str) -> None:
    user = await _stored(db, user)
    user.role = Role(role)  # a ValueError for a role that does not exist
    user.updated_at = utcnow()
    await db.flush()
    _user_changed(db, user.id)


async def ensure_admin(db: AsyncSession, email: str, password: str, name: str | None) -> str:
    """Promote the account of `email` (its password unchanged), or create it as an
    administrator; says which (the CLI's create-admin)."""
    existing = await get_user_by_email(db, normalize_email(email))
    if existing is not None:
        await set_role(db, existing, Role.ADMIN)
        return f"{existing.email} is now an administrator (password unchanged)"
    user = await create_user(db, email=email, password=password, name=name, role=Role.ADMIN)
    return f"created administrator {user.email}"
