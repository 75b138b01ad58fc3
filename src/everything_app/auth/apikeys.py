"""API keys as credentials: how a key's secret is recognised and verified.

Creating, listing and revoking keys is the `keys` feature's; verifying one is auth's, beside
sessions, so that the credential resolver needs nothing from a feature built on auth.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.auth.models import ApiKey, KeyStatus, User
from everything_app.auth.service import act_as, credential_row
from everything_app.core.changes import Change, record_change
from everything_app.core.db import utcnow
from everything_app.core.security import token_hash

# last_used_at is advisory: writing it on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def looks_like_key(credential: str, prefix: str) -> bool:
    return credential.startswith(prefix)


async def authenticate_key(db: AsyncSession, secret: str) -> tuple[ApiKey, User] | None:
    """The live key for a secret (not revoked, not expired) and its owner, in one query;
    marks when the key was last used (at most once per LAST_USED_RESOLUTION). From then on
    the unit of work acts for the key's owner (row-level security)."""
    found = await credential_row(db, ApiKey, ApiKey.key_hash, token_hash(secret))
    if found is None:
        return None
    key, user = found
    if key.status != KeyStatus.ACTIVE:
        return None
    await act_as(db, user)
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        await db.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        key.last_used_at = now
        record_change(db, Change("api_keys", "update", key.id, key.user_id))
    return key, user
