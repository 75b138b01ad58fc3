"""API keys: created once, stored as a hash, revoked for good."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth import ApiKey
from everything_app.core import rls
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.errors import NotFound
from everything_app.core.pagination import Keyset, keyset_page
from everything_app.core.security import new_token, token_hash

DISPLAY_PREFIX_LENGTH = 8
NEWEST_FIRST = Keyset(ApiKey.created_at, ApiKey.id)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str


async def create_key(
    db: AsyncSession, user_id: uuid.UUID, *, name: str, expires_in_days: int | None, prefix: str
) -> NewKey:
    secret = prefix + new_token()
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    key = ApiKey(
        user_id=user_id,
        name=name,
        key_hash=token_hash(secret),
        prefix=secret[: len(prefix) + DISPLAY_PREFIX_LENGTH],
        expires_at=expires_at,
    )
    db.add(key)
    await db.flush()
    record_change(db, Change("api_keys", "insert", key.id, user_id))
    return NewKey(key=key, secret=secret)


async def list_keys(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
    revoked: bool | None = None,
) -> tuple[list[ApiKey], str | None]:
    """The user's keys, newest first; only revoked (or only unrevoked) ones if `revoked`."""
    query = select(ApiKey).where(ApiKey.user_id == user_id)
    if revoked is not None:
        query = query.where(ApiKey.revoked.is_(revoked))
    return await keyset_page(db, query, NEWEST_FIRST, cursor=cursor, limit=limit)


async def get_key(db: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """One of the user's keys; another user's key is indistinguishable from a missing one."""
    key = (
        await db.execute(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    ).scalar_one_or_none()
    if key is None:
        raise NotFound("API key not found.", code="api_key_not_found")
    return key


async def revoke_key(db: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await get_key(db, user_id, key_id)
    if not key.revoked:
        key.revoked, key.revoked_at = True, utcnow()
    await db.flush()
    # Live sockets opened with this key close on this event (realtime).
    record_change(db, Change("api_keys", "update", key.id, user_id, {"revoked": True}))
    return key


async def delete_ended_keys(db: AsyncSession, *, ended_before: datetime, limit: int) -> int:
    """One batch of the housekeeping sweep, across users: delete at most `limit` keys revoked
    or expired before `ended_before` (until then they stay listed as such), announcing each
    (`keys.list` drops them live); returns how many. The caller commits each batch."""
    await rls.act_as_system(db, tables=["api_keys"], reason="sweep ended api keys")
    ended = or_(ApiKey.revoked_at < ended_before, ApiKey.expires_at < ended_before)
    batch = select(ApiKey.id).where(ended).limit(limit)
    rows = (
        await db.execute(
            delete(ApiKey)
            .where(ApiKey.id.in_(batch.scalar_subquery()), ended)
            .returning(ApiKey.id, ApiKey.user_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for key_id, user_id in rows:
        record_change(db, Change("api_keys", "delete", key_id, user_id))
    return len(rows)


async def announce_keys_ended(db: AsyncSession, user_id: uuid.UUID) -> None:
    """The account is being deleted and its keys with it (ON DELETE CASCADE, which records no
    event): announce each key's end, so live sockets opened with it close at once (realtime),
    as on revocation, rather than at the next periodic re-check."""
    ids = await db.execute(select(ApiKey.id).where(ApiKey.user_id == user_id))
    for key_id in ids.scalars():
        record_change(db, Change("api_keys", "delete", key_id, user_id))
