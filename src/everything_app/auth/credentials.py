"""The one credential resolver (HTTP requests and live-connection handshakes alike), and the
verified-credential cache in front of it.

A session token or API key is verified in the database once; the result (the user as it
was, the session's or key's id and expiry) is kept in this process under the token's hash,
so a session check or an authenticated read normally costs no credential query at all.

What makes a cached credential stop working at once is the change bus, which carries every
committed change to this process and, through PostgreSQL NOTIFY or Redis, to every other
instance: a `sessions` delete, an `api_keys` revocation or delete, and a `users` update or
delete drop the entries they concern. A broker reconnect (changes may have been missed)
empties the cache. `AUTH_CACHE_SECONDS` bounds how long an entry is trusted without being
re-read, a safety net for changes nobody announced (a write made by hand in the database).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.auth.apikeys import LAST_USED_RESOLUTION, authenticate_key, looks_like_key
from everything_app.auth.bans import ban_holds
from everything_app.auth.external import ExternalToken, user_for_subject
from everything_app.auth.models import ApiKey, Role, Session, User
from everything_app.auth.oidc import OidcVerifier
from everything_app.auth.service import SessionPolicy, act_as, resolve_session
from everything_app.core.changes import Change, ChangeBus, record_change
from everything_app.core.db import unit_of_work, utcnow
from everything_app.core.security import token_hash

Via = Literal["cookie", "bearer", "api_key"]


@dataclass(frozen=True)
class UserSnapshot:
    """A user as verified (no password hash: the services that need it read the row)."""

    id: uuid.UUID
    email: str
    name: str
    role: str
    email_verified: bool
    image: str | None
    created_at: datetime
    updated_at: datetime
    banned: bool = False
    ban_reason: str | None = None
    ban_expires: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @classmethod
    def of(cls, user: User) -> UserSnapshot:
        return cls(
            user.id,
            user.email,
            user.name,
            user.role,
            user.email_verified,
            user.image,
            user.created_at,
            user.updated_at,
            bool(user.banned),
            user.ban_reason,
            user.ban_expires,
        )

    def to_user(self) -> User:
        """A detached `User` of the caller's own (never shared between requests)."""
        return User(
            id=self.id,
            email=self.email,
            name=self.name,
            role=self.role,
            email_verified=self.email_verified,
            image=self.image,
            created_at=self.created_at,
            updated_at=self.updated_at,
            banned=self.banned,
            ban_reason=self.ban_reason,
            ban_expires=self.ban_expires,
        )


@dataclass(frozen=True)
class SessionInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    ip_address: str | None
    user_agent: str | None

    @classmethod
    def of(cls, session: Session) -> SessionInfo:
        return cls(
            session.id,
            session.user_id,
            session.expires_at,
            session.created_at,
            session.updated_at,
            session.ip_address,
            session.user_agent,
        )


@dataclass(frozen=True)
class KeyInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        return cls(key.id, key.user_id, key.created_at, key.expires_at, key.last_used_at)


@dataclass(frozen=True)
class Principal:
    account: UserSnapshot  # the user as verified
    via: Via
    session: SessionInfo | None = None
    api_key: KeyInfo | None = None
    token: str | None = None  # the caller's own session token
    refreshed: bool = False
    external: ExternalToken | None = None  # a bearer JWT from an external issuer (auth.oidc)

    @cached_property
    def user(self) -> User:
        """The caller as a detached `User`, made on first use (most requests need only
        `account`: building an ORM object costs more than a cached session check)."""
        return self.account.to_user()

    @property
    def session_id(self) -> uuid.UUID | None:
        return self.session.id if self.session is not None else None


@dataclass
class _Entry:
    user: UserSnapshot
    session: SessionInfo | None
    key: KeyInfo | None
    verified_at: float  # time.monotonic()
    external: ExternalToken | None = None

    @property
    def credential_id(self) -> uuid.UUID:
        if self.external is not None:
            return self.external.token_id
        found = self.session or self.key
        assert found is not None
        return found.id


_UNKNOWN = object()  # a concurrent lookup could not tell: look it up yourself


@dataclass
class CredentialCache:
    """Verified credentials of this process, by token hash. `ttl` 0 turns caching off."""

    ttl: float
    max_entries: int = 100_000
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _by_credential: dict[uuid.UUID, str] = field(default_factory=dict)
    _by_user: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    # Bumped by every invalidation: a lookup that began before one may have read a row the
    # invalidation is about, so its result is not cached (see `put`).
    epoch: int = 0
    # Lookups under way, by token hash: concurrent requests wait for the one (`resolve`).
    inflight: dict[str, asyncio.Future[_Entry | object | None]] = field(default_factory=dict)

    def get(self, hashed: str) -> _Entry | None:
        entry = self._entries.get(hashed)
        if entry is None:
            return None
        if time.monotonic() - entry.verified_at >= self.ttl:
            self._drop(hashed)
            return None
        return entry

    def peek(self, hashed: str) -> _Entry | None:
        return self._entries.get(hashed)

    def put(self, hashed: str, entry: _Entry, *, epoch: int) -> None:
        if self.ttl <= 0 or epoch != self.epoch:
            return
        self._drop(hashed)
        while len(self._entries) >= self.max_entries:
            self._drop(next(iter(self._entries)))  # the oldest
        self._entries[hashed] = entry
        self._by_credential[entry.credential_id] = hashed
        self._by_user.setdefault(entry.user.id, set()).add(hashed)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, hashed: str) -> None:
        entry = self._entries.pop(hashed, None)
        if entry is None:
            return
        self._by_credential.pop(entry.credential_id, None)
        hashes = self._by_user.get(entry.user.id)
        if hashes is not None:
            hashes.discard(hashed)
            if not hashes:
                del self._by_user[entry.user.id]

    def forget_credential(self, credential_id: uuid.UUID) -> None:
        self.epoch += 1
        hashed = self._by_credential.get(credential_id)
        if hashed is not None:
            self._drop(hashed)

    def forget_user(self, user_id: uuid.UUID) -> None:
        self.epoch += 1
        for hashed in list(self._by_user.get(user_id, ())):
            self._drop(hashed)

    def clear(self, _reason: str = "") -> None:
        """Changes may have been missed (the broker reconnected): trust nothing cached."""
        self.epoch += 1
        self._entries.clear()
        self._by_credential.clear()
        self._by_user.clear()

    def on_changes(self, changes: Sequence[Change]) -> None:
        """The bus listener (this instance's commits and every other instance's)."""
        for change in changes:
            ended = change.op == "delete" or bool(change.data.get("revoked"))
            if change.table in ("sessions", "api_keys") and ended:
                self.forget_credential(change.row_id)
            elif change.table == "users" and change.op in ("update", "delete"):
                self.forget_user(change.row_id)


@dataclass(frozen=True)
class CredentialRules:
    """What a credential is checked against: this server's key prefix, session policy,
    credential cache and external issuer (see auth.deps.credential_rules)."""

    key_prefix: str
    policy: SessionPolicy
    cache: CredentialCache | None
    oidc: OidcVerifier | None = None


async def verify_credential(
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: ChangeBus | None,
    token: str,
    *,
    via_bearer: bool,
    rules: CredentialRules,
) -> Principal | None:
    """Who `token` (a bearer session token, API key or external issuer's JWT, or a cookie's
    session token) is, or None when it is unknown, expired or revoked: the one way requests
    and WebSocket handshakes verify a credential. A cached credential with nothing due to be
    written is answered here, with no unit of work (not even a session object: it was a
    tenth of a cached check's time); otherwise a write unit of work resolves it, and commits
    (and announces) a sliding expiry or a key's last use when one is due (once per
    `update_age`, once a minute). A write unit: on SQLite a read that then writes needs the
    write lock from its BEGIN; it costs nothing when no statement is sent."""
    via = _via(token, via_bearer, rules.key_prefix)
    if rules.cache is not None:
        entry = rules.cache.get(token_hash(token))
        if entry is not None:
            found = _unwritten(entry, token, via, rules.policy)
            if isinstance(found, Principal):
                return found
    async with unit_of_work(sessionmaker, write=True, bus=bus) as db:
        return await _resolve_credential(db, token, via, rules)


def _via(token: str, via_bearer: bool, key_prefix: str) -> Via:
    if via_bearer and looks_like_key(token, key_prefix):
        return "api_key"
    return "bearer" if via_bearer else "cookie"


async def _resolve_credential(
    db: AsyncSession, token: str, via: Via, rules: CredentialRules
) -> Principal | None:
    """`verify_credential`'s work in its unit of work: from then on `db` acts for the user
    (row-level security)."""
    is_key = via == "api_key"
    oidc, policy, cache = rules.oidc, rules.policy, rules.cache
    jwt = oidc if via == "bearer" and oidc and oidc.claims_issuer(token) else None
    hashed = token_hash(token)
    entry = cache.get(hashed) if cache is not None else None
    if entry is not None:
        principal = await _from_cache(db, entry, token, via, policy)
        if principal is not None:
            return principal
        if cache is not None:
            cache.forget_credential(entry.credential_id)
    if cache is None:
        return await _verify(db, token, hashed, via, is_key, policy, None, jwt)
    # One lookup per credential at a time: when an entry expires under load, every request
    # holding that credential would otherwise read it at once (on SQLite, also all write).
    pending = cache.inflight.get(hashed)
    if pending is not None:
        outcome = await asyncio.shield(pending)
        if not isinstance(outcome, _Entry):  # refused, cut off, or raced an invalidation
            return await _verify(db, token, hashed, via, is_key, policy, cache, jwt)
        return await _from_cache(db, outcome, token, via, policy)
    future: asyncio.Future[_Entry | object | None] = asyncio.get_running_loop().create_future()
    cache.inflight[hashed] = future
    try:
        principal = await _verify(db, token, hashed, via, is_key, policy, cache, jwt)
    except Exception as exc:
        future.set_exception(exc)  # the same answer (a 503, say) for those waiting
        future.exception()  # retrieved: nobody waiting is no error
        raise
    finally:
        if cache.inflight.get(hashed) is future:
            del cache.inflight[hashed]
        if not future.done():  # cancelled, refused, or not cached: each waiter looks it up
            verified = cache.peek(hashed)
            future.set_result(verified if verified is not None else _UNKNOWN)
    return principal


async def _verify(
    db: AsyncSession,
    token: str,
    hashed: str,
    via: Via,
    is_key: bool,
    policy: SessionPolicy,
    cache: CredentialCache | None,
    jwt: OidcVerifier | None = None,
) -> Principal | None:
    """Read the credential in the database, and keep what was verified in `cache`."""
    epoch = cache.epoch if cache is not None else 0
    if jwt is not None:
        verified = await jwt.verify(token)
        if verified is None:
            return None
        link, user = await user_for_subject(
            db,
            issuer=verified.issuer,
            subject=verified.subject,
            email=verified.email,
            email_verified=verified.email_verified,
            name=verified.name,
            picture=verified.picture,
        )
        external = ExternalToken(
            link.id,
            user.id,
            verified.issuer,
            verified.subject,
            verified.expires_at,
            token_id=uuid.UUID(hex=hashed[:32]),
        )
        entry = _Entry(UserSnapshot.of(user), None, None, time.monotonic(), external)
        principal = Principal(account=entry.user, via=via, external=external)
    elif is_key:
        found = await authenticate_key(db, token)
        if found is None:
            return None
        key, user = found
        entry = _Entry(UserSnapshot.of(user), None, KeyInfo.of(key), time.monotonic())
        principal = Principal(account=entry.user, via=via, api_key=entry.key)
    else:
        resolved = await resolve_session(db, token, policy)
        if resolved is None:
            return None
        entry = _Entry(
            UserSnapshot.of(resolved.user),
            SessionInfo.of(resolved.session),
            None,
            time.monotonic(),
        )
        principal = Principal(
            account=entry.user,
            via=via,
            session=entry.session,
            token=token,
            refreshed=resolved.refreshed,
        )
    if ban_holds(entry.user):  # a banned user's API keys (their sessions end with the ban)
        return None
    if cache is not None:
        cache.put(hashed, entry, epoch=epoch)
    return principal


class _WriteDue:
    """A cached credential that is good, but has a write due (a sliding expiry, a stamp)."""


_WRITE_DUE = _WriteDue()


def _unwritten(
    entry: _Entry, token: str, via: Via, policy: SessionPolicy, now: datetime | None = None
) -> Principal | _WriteDue | None:
    """The principal of a cached credential when nothing is due to be written; `_WRITE_DUE`
    when it is good but its session's expiry is due to slide or its key's last use to be
    stamped; None when it has expired meanwhile or came the wrong way (the database path
    then decides, and cleans up)."""
    now = now or utcnow()
    account = entry.user
    if entry.external is not None:  # kept no longer than the token is good
        if via != "bearer" or entry.external.expires_at <= now:
            return None
        return Principal(account=account, via=via, external=entry.external)
    if entry.key is not None:
        key = entry.key
        if via != "api_key" or (key.expires_at is not None and key.expires_at <= now):
            return None
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            return _WRITE_DUE
        return Principal(account=account, via=via, api_key=key)
    session = entry.session
    assert session is not None
    if via == "api_key" or session.expires_at <= now:
        return None
    if session.expires_at - policy.ttl + policy.update_age <= now:
        return _WRITE_DUE  # better-auth's sliding expiry: written once per update_age
    return Principal(account=account, via=via, session=session, token=token)


async def _from_cache(
    db: AsyncSession, entry: _Entry, token: str, via: Via, policy: SessionPolicy
) -> Principal | None:
    """The principal of a cached credential, writing what is due (see `_unwritten`)."""
    now = utcnow()
    found = _unwritten(entry, token, via, policy, now)
    if not isinstance(found, _WriteDue):
        return found
    account = entry.user
    if entry.key is not None:
        key = entry.key
        await act_as(db, account)
        await db.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        entry.key = KeyInfo(key.id, key.user_id, key.created_at, key.expires_at, now)
        record_change(db, Change("api_keys", "update", key.id, key.user_id))
        return Principal(account=account, via=via, api_key=entry.key)
    session = entry.session
    assert session is not None
    await act_as(db, account)
    expires_at = now + policy.ttl
    result = await db.execute(
        update(Session)
        .where(Session.id == session.id)
        .values(expires_at=expires_at, updated_at=now)
        .returning(Session.id)
    )
    if result.first() is None:
        return None  # gone meanwhile
    session = SessionInfo(
        session.id,
        session.user_id,
        expires_at,
        session.created_at,
        now,
        session.ip_address,
        session.user_agent,
    )
    entry.session = session
    return Principal(account=account, via=via, session=session, token=token, refreshed=True)


__all__ = [
    "CredentialCache",
    "CredentialRules",
    "KeyInfo",
    "Principal",
    "SessionInfo",
    "UserSnapshot",
    "verify_credential",
]
