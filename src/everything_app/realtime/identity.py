"""Who is on the other end of a live connection, and whether they still may be.

A socket lives for hours, far longer than one request's authentication. It is authenticated
once at the handshake, then re-checked: at once when a `sessions`/`api_keys` change says its
credential was revoked, and every REALTIME_REVALIDATE_SECONDS in one batched query for all
of this instance's sockets (the backstop for expiry and for changes nobody announced).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from everything_app.auth import (
    QUERY_CREDENTIAL_NAMES,
    ApiKey,
    OidcIdentity,
    Principal,
    Role,
    Session,
    User,
    credential_rules,
    looks_like_key,
    read_session_cookie,
    verify_credential,
)
from everything_app.core.changes import ChangeBus
from everything_app.core.db import utcnow
from everything_app.core.origins import connection_origin_refusal
from everything_app.realtime.protocol import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHORIZED,
)
from everything_app.realtime.registry import Viewer
from everything_app.settings import Settings

Via = Literal["cookie", "bearer", "api_key"]
CHUNK = 500  # ids per IN (...) list when re-checking credentials


@dataclass(frozen=True)
class Identity:
    user_id: uuid.UUID
    role: str
    via: Via
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    # A bearer JWT from an external issuer: its identity link, and when the token expires.
    external_id: uuid.UUID | None = None
    expires_at: datetime | None = None

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.user_id, is_admin=self.role == Role.ADMIN)

    @classmethod
    def of(cls, principal: Principal) -> Identity:
        return cls(
            user_id=principal.user.id,
            role=principal.user.role,
            via=principal.via,
            session_id=principal.session_id,
            api_key_id=principal.api_key.id if principal.api_key is not None else None,
            external_id=principal.external.id if principal.external is not None else None,
            expires_at=principal.external.expires_at if principal.external is not None else None,
        )


class Refused(Exception):
    """The handshake is refused; `code` is the WebSocket close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _bearer(conn: HTTPConnection) -> str | None:
    scheme, _, credential = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def check_origin(conn: HTTPConnection, settings: Settings, *, required: bool) -> None:
    """Cookies ride along on cross-site handshakes, so a cookie-authenticated socket must come
    from a trusted origin (Cross-Site WebSocket Hijacking). Browsers always send Origin on a
    WebSocket handshake; EventSource sends it only cross-origin, hence `required`."""
    origin = conn.headers.get("origin")
    if origin is None and not required:
        return
    refusal = connection_origin_refusal(conn, origin, settings)
    if refusal is not None:
        raise Refused(CLOSE_FORBIDDEN, refusal.code)


async def authenticate(
    conn: HTTPConnection,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: ChangeBus | None,
) -> Identity:
    """The identity behind a WebSocket handshake: bearer API key, bearer session token, or the
    session cookie (with the Origin check)."""
    if QUERY_CREDENTIAL_NAMES.intersection(conn.query_params.keys()):
        raise Refused(CLOSE_BAD_REQUEST, "credentials_in_query")
    bearer = _bearer(conn)
    token = bearer
    if bearer is None:
        token = read_session_cookie(conn, settings)
        if token is None:
            raise Refused(CLOSE_UNAUTHORIZED, "unauthenticated")
        check_origin(conn, settings, required=True)
    assert token is not None
    principal = await verify_credential(
        sessionmaker,
        bus,
        token,
        via_bearer=bearer is not None,
        rules=credential_rules(conn, settings),
    )
    if principal is None:
        is_key = bearer is not None and looks_like_key(token, settings.api_key_prefix)
        raise Refused(CLOSE_UNAUTHORIZED, "invalid_api_key" if is_key else "unauthenticated")
    return Identity.of(principal)


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for item in ids:
        batch.append(item)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


async def live_credentials(
    db: AsyncSession,
    session_ids: Iterable[uuid.UUID],
    key_ids: Iterable[uuid.UUID],
    external_ids: Iterable[uuid.UUID] = (),
) -> dict[uuid.UUID, str]:
    """Of the given session, key and external-identity ids, those still valid, each with
    its user's role (a bearer JWT's own expiry is the caller's to check)."""
    now = utcnow()
    valid: dict[uuid.UUID, str] = {}
    for batch in _chunks(session_ids):
        rows = await db.execute(
            select(Session.id, User.role)
            .join(User, User.id == Session.user_id)
            .where(Session.id.in_(batch), Session.expires_at > now)
        )
        valid.update(dict(rows.all()))
    for batch in _chunks(key_ids):
        rows = await db.execute(
            select(ApiKey.id, User.role)
            .join(User, User.id == ApiKey.user_id)
            .where(
                ApiKey.id.in_(batch),
                ApiKey.revoked.is_(False),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
            )
        )
        valid.update(dict(rows.all()))
    for batch in _chunks(external_ids):
        rows = await db.execute(
            select(OidcIdentity.id, User.role)
            .join(User, User.id == OidcIdentity.user_id)
            .where(OidcIdentity.id.in_(batch))
        )
        valid.update(dict(rows.all()))
    return valid
